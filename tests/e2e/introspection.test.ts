import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, isObjectType, type IntrospectionQuery } from 'graphql';
import { graphiqlIntrospectionQueries } from '../../router/test/graphiql-introspection.ts';
import { useTestStack } from '../support/test-stack.ts';
import { expectError, gql } from '../support/graphql-client.ts';

// Default limits (depth 12, cost 100,000), the playground on as in development.
const ctx = useTestStack();

/** Posts as the playground's fetcher does, anonymously. */
async function post(query: string, operationName?: string) {
  const response = await fetch(ctx.stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, operationName }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: IntrospectionQuery; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

describe('introspection through the router', () => {
  it("loads the schema with GraphiQL's own query, as the playground's docs do", async () => {
    const { status, body } = await post(graphiqlIntrospectionQueries().query, 'IntrospectionQuery');
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.ok(body.data);
    const schema = buildClientSchema(body.data);
    const user = schema.getType('User');
    assert.ok(isObjectType(user) && user.getFields().email !== undefined, 'User.email');
    assert.ok(schema.getQueryType()?.getFields().runs, 'Query.runs');
    assert.ok(schema.getMutationType()?.getFields().signIn, 'Mutation.signIn');
    assert.ok(schema.getSubscriptionType()?.getFields().runUpdated, 'Subscription.runUpdated');
  });

  it('answers the full graphql-js query with every option the gateway knows', async () => {
    // Every option, oneOf included (the router answers introspection itself; the gateway cannot parse __Type.isOneOf).
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const { body } = await post(query);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.ok(body.data);
    assert.ok(buildClientSchema(body.data).getType('Run'));
  });

  it('refuses introspection nested deeper than two lists of the schema', async () => {
    const response = await gql(ctx.stack.graphqlUrl, '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    const error = expectError(response, 'BAD_USER_INPUT', 400);
    assert.match(error.message, /Introspection nests 4 lists of the schema .* the limit is 2/);
  });

  it('refuses fragments that expand without end, with a client error', async () => {
    let document = 'query { __schema { types { ...F0 } } }\n';
    for (let i = 0; i < 40; i++) document += `fragment F${i} on __Type { ...F${i + 1} ...F${i + 1} }\n`;
    document += 'fragment F40 on __Type { __typename }\n';
    const error = expectError(await gql(ctx.stack.graphqlUrl, document), 'BAD_USER_INPUT', 400);
    assert.match(error.message, /expand to more than 100000 selections/);
  });
});
