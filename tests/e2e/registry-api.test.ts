import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { publishSubgraph } from '@tansu/schema/registry/publish-subgraph';
import { createRegistry } from '@tansu/schema/registry/registry';
import { operationsFromRedis, usageFromRedis } from '@tansu/schema/registry/usage-store';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';

const ctx = useTestStack();
const root = (path: string) => new URL(`../../${path}`, import.meta.url);
const DISABLED = '  "A disabled user cannot sign in or refresh a session."\n  disabled: Boolean!\n';
const DEPRECATED = '  "A disabled user cannot sign in or refresh a session."\n  disabled: Boolean! @deprecated(reason: "use status")\n';

const VARIANTS = `{ schemaVariants { name served supergraphId publishedAt documentCount subgraphs { name url versionId publishedAt publishedBy sdlHash } } }`;
const CHECKS = `query Checks($variant: String!, $first: Int) {
  schemaChecks(variant: $variant, first: $first) {
    nodes {
      id variant subgraph passed sdlHash createdAt
      report { compositionErrors usageAware changes { kind level coordinate message blocking uses operations } documentErrors { name errors } }
    }
    endCursor hasMore
  }
}`;
const USAGE = `query Usage($variant: String!, $days: Int) {
  schemaUsage(variant: $variant, days: $days) { coordinate typeName fieldName count isDeprecated operations { name count } }
}`;

interface Variant {
  name: string;
  served: boolean;
  supergraphId: string | null;
  publishedAt: string | null;
  documentCount: number;
  subgraphs: { name: string; url: string; versionId: string; publishedAt: string; publishedBy: string | null; sdlHash: string }[];
}
interface Check {
  id: string;
  variant: string;
  subgraph: string;
  passed: boolean;
  report: {
    compositionErrors: string[];
    usageAware: boolean;
    changes: { kind: string; level: string; coordinate: string; message: string; blocking: boolean; uses: number | null; operations: string[] | null }[];
    documentErrors: { name: string; errors: string[] }[];
  };
}
interface FieldUsage {
  coordinate: string;
  typeName: string;
  fieldName: string;
  count: number;
  isDeprecated: boolean;
  operations: { name: string; count: number }[];
}

describe('the schema registry through the router', () => {
  let owner: Database;
  let adminToken: string;
  let ownerOfAcme: string;
  let identitySdl: string;
  let committed: string;
  let published: string;

  const publish = (sdl: string) =>
    publishSubgraph(
      {
        registry: createRegistry(owner),
        redis: ctx.stack.redis,
        namespace: ctx.stack.redisNamespace,
        startingSupergraph: committed,
        usage: usageFromRedis(ctx.stack.redis, ctx.stack.redisNamespace, 'main'),
        operations: operationsFromRedis(ctx.stack.redis, ctx.stack.redisNamespace, 'main'),
      },
      { variant: 'main', subgraph: 'identity', sdl, by: 'e2e' },
    );

  const asAdmin = async <T>(query: string, variables?: Record<string, unknown>) =>
    dataOf(await gql<T>(ctx.stack.graphqlUrl, query, { token: adminToken, variables }));

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    adminToken = seed.admin.accessToken;
    // An owner of a tenant is still not an administrator of the platform.
    await setRole(url, adminToken, 'acme', seed.alice.user.id, 'OWNER');
    ownerOfAcme = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    owner = await openDatabase({ url: ctx.stack.databaseUrl, entities: [], poolMax: 2 });
    identitySdl = await readFile(root('subgraphs/identity/schema.graphql'), 'utf8');
    committed = await readFile(root('supergraph/supergraph.graphql'), 'utf8');
    assert.ok(identitySdl.includes(DISABLED));
  });
  after(() => owner.close());

  it('shows the served variant before anything is published', async () => {
    const { schemaVariants } = await asAdmin<{ schemaVariants: Variant[] }>(VARIANTS);
    assert.deepEqual(schemaVariants, [{ name: 'main', served: true, supergraphId: null, publishedAt: null, documentCount: 0, subgraphs: [] }]);
  });

  it('shows a published change, its failing check with the breaking change, and which fields operations used', async () => {
    const outcome = await publish(identitySdl.replace(DISABLED, DEPRECATED));
    assert.equal(outcome.report.passed, true, JSON.stringify(outcome.report));
    published = outcome.supergraphId!;
    assert.ok(published);
    // Operations through the router, which records what they select: they read User.disabled.
    for (let i = 0; i < 5; i++) {
      const { me } = dataOf(await gql<{ me: { disabled: boolean } }>(ctx.stack.graphqlUrl, 'query Me { me { id email disabled } }', { token: ownerOfAcme }));
      assert.equal(me.disabled, false);
    }
    await ctx.stack.usage.flush();

    const failing = await publish(identitySdl.replace(DISABLED, ''));
    assert.equal(failing.report.passed, false);

    const { schemaVariants } = await asAdmin<{ schemaVariants: Variant[] }>(VARIANTS);
    assert.equal(schemaVariants.length, 1);
    const main = schemaVariants[0]!;
    assert.deepEqual([main.name, main.served, main.supergraphId], ['main', true, published]);
    assert.ok(Date.parse(main.publishedAt!) <= Date.now());
    assert.deepEqual(main.subgraphs.map((s) => [s.name, s.publishedBy]).sort(), [
      ['identity', 'e2e'],
      ['registry', 'baseline'],
      ['tenancy', 'baseline'],
      ['workflow', 'baseline'],
    ]);

    const { schemaChecks } = await asAdmin<{ schemaChecks: { nodes: Check[]; hasMore: boolean } }>(CHECKS, { variant: 'main', first: 10 });
    assert.deepEqual(
      schemaChecks.nodes.map((c) => [c.subgraph, c.passed]),
      [
        ['identity', false],
        ['identity', true],
      ],
    );
    assert.equal(schemaChecks.hasMore, false);
    const report = schemaChecks.nodes[0]!.report;
    assert.equal(report.usageAware, true);
    assert.deepEqual(report.compositionErrors, []);
    const removal = report.changes.find((c) => c.coordinate === 'User.disabled');
    assert.ok(removal, JSON.stringify(report.changes));
    assert.deepEqual(
      { kind: removal.kind, level: removal.level, blocking: removal.blocking, operations: removal.operations },
      { kind: 'FIELD_REMOVED', level: 'BREAKING', blocking: true, operations: ['Me'] },
    );
    assert.ok((removal.uses ?? 0) >= 5, `counted ${removal.uses} uses`);
    assert.equal(report.changes[0]?.coordinate, 'User.disabled', 'breaking changes come first');

    const { schemaUsage } = await asAdmin<{ schemaUsage: FieldUsage[] }>(USAGE, { variant: 'main', days: 7 });
    const byCoordinate = new Map(schemaUsage.map((f) => [f.coordinate, f]));
    const disabled = byCoordinate.get('User.disabled')!;
    assert.deepEqual([disabled.typeName, disabled.fieldName, disabled.isDeprecated], ['User', 'disabled', true], 'the fields of the published schema');
    assert.ok(disabled.count >= 5, `User.disabled counted ${disabled.count}`);
    assert.deepEqual(
      disabled.operations.map((o) => o.name),
      ['Me'],
    );
    assert.equal(byCoordinate.get('User.emailVerified')?.count, 0, 'a field no operation selected');
    assert.equal(byCoordinate.get('Query.auditLog')?.count, 0);
    assert.ok(byCoordinate.has('Query.schemaUsage') && byCoordinate.has('Mutation.signIn'), 'every subgraph, this one included');
    const counts = schemaUsage.map((f) => f.count);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => b - a),
      'most used first',
    );
  });

  it('refuses a days window outside what is kept, with BAD_USER_INPUT', async () => {
    for (const days of [0, 36]) {
      const error = expectError(await gql(ctx.stack.graphqlUrl, USAGE, { token: adminToken, variables: { variant: 'main', days } }), 'BAD_USER_INPUT');
      assert.equal(error.extensions?.field, 'days');
    }
  });

  it('answers platform administrators only: a tenant owner is refused, a caller without a token is not let in', async () => {
    for (const [query, variables] of [
      [VARIANTS, {}],
      [CHECKS, { variant: 'main' }],
      [USAGE, { variant: 'main' }],
      ['{ schemaVersions(variant: "main", subgraph: "identity") { hasMore } }', {}],
      ['{ schemaOperations(variant: "main") { name } }', {}],
    ] as const) {
      const refused = await gql(ctx.stack.graphqlUrl, query, { token: ownerOfAcme, variables });
      expectError(refused, 'FORBIDDEN');
      assert.ok(
        Object.values(refused.body.data ?? {}).every((value) => value === null),
        'nothing of the registry leaks',
      );
      expectError(await gql(ctx.stack.graphqlUrl, query, { variables }), 'UNAUTHENTICATED');
    }
  });
});
