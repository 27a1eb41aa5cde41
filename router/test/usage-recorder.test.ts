import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { buildSchema, parse } from 'graphql';
import { Redis } from 'ioredis';
import type { CallerContext } from '@tansu/platform/context-token';
import { createLogger } from '@tansu/platform/logger';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';
import { dayOf, operationsFromRedis, operationsKey, usageFromRedis } from '@tansu/schema/registry/usage-store';
import { usePublicOperations } from '../src/auth/public-operations.ts';
import { operationLimitsRule } from '../src/limits/operation-limits.ts';
import { useVariableCostLimit } from '../src/limits/use-variable-cost-limit.ts';
import type { RouterContext } from '../src/router-context.ts';
import { createUsageRecorder, type UsageRecorderOptions } from '../src/usage/usage-recorder.ts';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type User @key(fields: "id") { id: ID! email: String! }
  type Query { me: User users(first: Int): [User!]! }
`;
const ALICE = { id: '1', email: 'alice@acme.test' };

const ANONYMOUS = { roles: [], scopes: [] } as unknown as CallerContext;
const SIGNED_IN = { tenantId: '00000000-0000-4000-8000-000000000001', subject: ALICE.id, roles: ['MEMBER'], scopes: [] } as unknown as CallerContext;

/**
 * The router's request pipeline in process: Apollo Server with @apollo/gateway as executor
 * (over a local subgraph), the router's public-operation, limit and cost plugins, and the
 * recorder under test writing to the real Redis.
 */
describe('usage recording', () => {
  let servers: TestServers;
  let redis: Redis;
  const logs: string[] = [];
  const logger = createLogger({
    level: 'warn',
    service: 'test',
    destination: new Writable({ write: (chunk: Buffer, _encoding, done) => void (logs.push(chunk.toString()), done()) }),
  });
  const supergraph = composeServices([{ name: 'identity', typeDefs: parse(SDL), url: 'http://127.0.0.1:1/graphql' }]);
  const subgraph = buildSubgraphSchema([{ typeDefs: parse(SDL), resolvers: { Query: { me: () => ALICE, users: () => [ALICE] } } }]);

  before(async () => {
    servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
    redis = new Redis(servers.redisUrl);
  });
  after(async () => {
    redis.disconnect();
    await servers.stop();
  });

  async function routerWith(options: Partial<UsageRecorderOptions> = {}) {
    const namespace = `usage-${crypto.randomUUID()}`;
    const usage = createUsageRecorder({ redis, namespace, variant: 'main', logger, ...options });
    assert.ok(supergraph.supergraphSdl);
    const gateway = new ApolloGateway({ supergraphSdl: supergraph.supergraphSdl, buildService: () => new LocalGraphQLDataSource(subgraph) });
    const apollo = new ApolloServer<RouterContext>({
      gateway,
      plugins: [usePublicOperations({ allowIntrospection: false }), useVariableCostLimit<RouterContext>(1_000), usage.plugin],
      validationRules: [operationLimitsRule({ maxDepth: 12, maxAliases: 30, maxCost: 1_000 })],
    });
    await apollo.start();
    const run = async (caller: CallerContext, query: string, variables?: Record<string, unknown>, operationName?: string) => {
      const contextValue: RouterContext = {
        caller,
        requestId: crypto.randomUUID(),
        clientIp: undefined,
        userAgent: undefined,
        clientToken: undefined,
        traceparent: '',
        logger,
        contextToken: undefined,
        shareKey: 'test',
      };
      const response = await apollo.executeOperation({ query, variables, operationName }, { contextValue });
      assert.equal(response.body.kind, 'single');
      // Plain objects, as a client would see them.
      return response.body.kind === 'single' ? (JSON.parse(JSON.stringify(response.body.singleResult)) as typeof response.body.singleResult) : {};
    };
    const recorded = async (coordinates: string[]) => {
      await usage.flush();
      return {
        uses: await usageFromRedis(redis, namespace, 'main')(coordinates),
        operations: await operationsFromRedis(redis, namespace, 'main')(coordinates),
      };
    };
    return { usage, run, recorded, namespace, stop: () => apollo.stop() };
  }

  it('records only operations that were admitted and ran', async () => {
    const router = await routerWith();
    try {
      const refused = await router.run(ANONYMOUS, 'query Mine { me { id email } }');
      assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      const tooCostly = await router.run(SIGNED_IN, 'query Everyone($n: Int) { users(first: $n) { id } }', { n: 100_000 });
      assert.equal(tooCostly.errors?.[0]?.extensions?.limit, 'cost');
      assert.deepEqual((await router.run(SIGNED_IN, 'query Mine { me { id email } }')).data, { me: ALICE });
      assert.deepEqual(await router.recorded(['Query.me', 'Query.users', 'User.email']), {
        uses: new Map([
          ['Query.me', 1],
          ['Query.users', 0],
          ['User.email', 1],
        ]),
        operations: ['Mine'],
      });
    } finally {
      await router.stop();
    }
  });

  it('lists an operation once, whatever its spacing and aliases, and keeps the other operations of its document apart', async () => {
    const router = await routerWith();
    try {
      await router.run(SIGNED_IN, 'query Mine { me { id email } }');
      await router.run(SIGNED_IN, 'query Mine {\n  me {\n    id\n    address: email\n  }\n}');
      const both = 'query Mine { me { id email } } query Ids { users(first: 2) { id } }';
      assert.deepEqual((await router.run(SIGNED_IN, both, undefined, 'Ids')).data, { users: [{ id: '1' }] });
      assert.deepEqual(await router.recorded(['Query.me', 'Query.users']), {
        uses: new Map([
          ['Query.me', 2],
          ['Query.users', 1],
        ]),
        operations: ['Ids', 'Mine'],
      });
      assert.deepEqual(await router.recorded(['User.email']), { uses: new Map([['User.email', 2]]), operations: ['Mine'] }, 'Ids read no email');
      assert.equal(await redis.hlen(operationsKey(router.namespace, 'main', dayOf(Date.now()))), 4, 'two operations: a count and a signature each');
    } finally {
      await router.stop();
    }
  });

  it('keeps at most maxOperationsPerFlush operations in memory and maxOperationsPerDay in Redis, counting every use', async () => {
    const router = await routerWith({ maxOperationsPerFlush: 3, maxOperationsPerDay: 4 });
    try {
      logs.length = 0;
      for (const name of ['A', 'B', 'C', 'D', 'E']) await router.run(SIGNED_IN, `query ${name} { me { id } }`);
      assert.deepEqual(await router.recorded(['Query.me']), { uses: new Map([['Query.me', 5]]), operations: ['A', 'B', 'C'] });
      for (const name of ['D', 'E', 'F', 'A']) await router.run(SIGNED_IN, `query ${name} { me { id } }`);
      assert.deepEqual(await router.recorded(['Query.me']), { uses: new Map([['Query.me', 9]]), operations: ['A', 'B', 'C', 'D'] });
      const warnings = logs.map((line) => JSON.parse(line) as { msg: string; overMemory: number; overDay: number });
      // D and E over memory at first; then A over memory (D, E and F came first), E and F over the day.
      assert.deepEqual(
        warnings.map((w) => [w.overMemory, w.overDay]),
        [
          [2, 0],
          [1, 2],
        ],
      );
    } finally {
      await router.stop();
    }
  });

  it('records subscriptions handed to it once admitted', async () => {
    const router = await routerWith();
    try {
      const schema = buildSchema('type Run { id: ID! status: String } type Query { run: Run } type Subscription { runUpdated(runId: ID!): Run }');
      router.usage.record(schema, 'hash', parse('subscription Watch($id: ID!) { runUpdated(runId: $id) { status } }'), 'Watch');
      assert.deepEqual(await router.recorded(['Subscription.runUpdated', 'Run.status', 'Run.id']), {
        uses: new Map([
          ['Subscription.runUpdated', 1],
          ['Run.status', 1],
          ['Run.id', 0],
        ]),
        operations: ['Watch'],
      });
    } finally {
      await router.stop();
    }
  });
});
