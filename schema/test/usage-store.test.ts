import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildSchema, parse } from 'graphql';
import { Redis } from 'ioredis';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';
import { addUsage, dayOf, KEEP_DAYS, operationsFromRedis, operationsKey, usageFromRedis, type OperationSignature } from '@tansu/schema/registry/usage-store';
import { operationDocument, operationUsage } from '@tansu/schema/usage/operation-usage';

const DAY = 86_400_000;
const NOW = Date.parse('2030-03-10T12:00:00Z');

function ops(entries: [id: string, name: string, coordinates: string[], count?: number][]): Map<string, { signature: OperationSignature; count: number }> {
  return new Map(entries.map(([id, name, coordinates, count]) => [id, { signature: { name, coordinates }, count: count ?? 1 }]));
}

describe('the usage store', () => {
  let servers: TestServers;
  let redis: Redis;
  let namespace: string;

  before(async () => {
    servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
    redis = new Redis(servers.redisUrl);
  });
  after(async () => {
    redis.disconnect();
    await servers.stop();
  });
  const fresh = () => (namespace = `usage-${crypto.randomUUID()}`);

  it('lists at most maxOperationsPerDay operations a day, still counting the known ones and every coordinate', async () => {
    fresh();
    const counts = new Map([['Query.me', 7]]);
    const first = ops([
      ['a', 'A', ['Query.me']],
      ['b', 'B', ['Query.me']],
      ['c', 'C', ['Query.me']],
    ]);
    assert.equal(await addUsage(redis, namespace, 'main', counts, first, { maxOperationsPerDay: 3, now: NOW }), 0);
    // The day is full: A and B are counted, D and E are not listed (their 2 + 3 executions are reported back).
    const second = ops([
      ['a', 'A', ['Query.me'], 4],
      ['d', 'D', ['Query.me'], 2],
      ['b', 'B', ['Query.me']],
      ['e', 'E', ['Query.me'], 3],
    ]);
    assert.equal(await addUsage(redis, namespace, 'main', counts, second, { maxOperationsPerDay: 3, now: NOW }), 5);
    const key = operationsKey(namespace, 'main', dayOf(NOW));
    assert.equal(await redis.hlen(key), 6, 'three operations, a count and a signature each');
    assert.equal(await redis.hget(key, 'n:a'), '5');
    assert.equal(await redis.hget(key, 'n:b'), '2');
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['Query.me']), ['A', 'B', 'C']);
    assert.deepEqual(await usageFromRedis(redis, namespace, 'main', 30, NOW)(['Query.me']), new Map([['Query.me', 14]]));
    // The next day starts empty.
    assert.equal(await addUsage(redis, namespace, 'main', counts, ops([['d', 'D', ['Query.me']]]), { maxOperationsPerDay: 3, now: NOW + DAY }), 0);
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW + DAY)(['Query.me']), ['A', 'B', 'C', 'D']);
  });

  it('holds the cap when routers add at the same time', async () => {
    fresh();
    const batch = (router: string) => ops(Array.from({ length: 40 }, (_, i) => [`${router}${i}`, `${router}${i}`, ['Query.me']] as [string, string, string[]]));
    const dropped = await Promise.all(
      ['x', 'y', 'z'].map((router) => addUsage(redis, namespace, 'main', new Map([['Query.me', 40]]), batch(router), { maxOperationsPerDay: 50, now: NOW })),
    );
    assert.equal(await redis.hlen(operationsKey(namespace, 'main', dayOf(NOW))), 100);
    assert.equal(
      dropped.reduce((a, b) => a + b, 0),
      70,
    );
  });

  it('keeps signatures no longer than their day, and names no longer than 100 characters', async () => {
    fresh();
    await addUsage(redis, namespace, 'main', new Map([['Query.me', 1]]), ops([['a', 'N'.repeat(5_000), ['Query.me']]]), { now: NOW });
    const keys = await redis.keys(`${namespace}:*`);
    assert.deepEqual(keys.map((k) => k.slice(namespace.length)).sort(), [`:schema:main:operations:${dayOf(NOW)}`, `:schema:main:usage:${dayOf(NOW)}`]);
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      assert.ok(ttl > 0 && ttl <= KEEP_DAYS * 86_400, `${key} expires (ttl ${ttl})`);
    }
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['Query.me']), ['N'.repeat(100)]);
  });

  it('reads only the window asked for', async () => {
    fresh();
    await addUsage(redis, namespace, 'main', new Map([['Query.me', 1]]), ops([['old', 'Old', ['Query.me']]]), { now: NOW - 10 * DAY });
    await addUsage(redis, namespace, 'main', new Map([['Query.me', 1]]), ops([['new', 'New', ['Query.me', 'User.email']]]), { now: NOW });
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['Query.me']), ['New', 'Old']);
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 5, NOW)(['Query.me']), ['New']);
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['User.email']), ['New']);
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['User.name']), []);
  });

  it('still names operations recorded in the earlier layout', async () => {
    fresh();
    await redis.hset(operationsKey(namespace, 'main', dayOf(NOW)), 'f00d', '3');
    await redis.hset(`${namespace}:schema:main:signatures`, 'f00d', JSON.stringify({ name: 'Earlier', coordinates: ['Query.me'] }));
    await addUsage(redis, namespace, 'main', new Map([['Query.me', 1]]), ops([['a', 'Later', ['Query.me']]]), { now: NOW });
    assert.deepEqual(await operationsFromRedis(redis, namespace, 'main', 30, NOW)(['Query.me']), ['Earlier', 'Later']);
  });
});

describe('the coordinates of one operation', () => {
  const schema = buildSchema('type User { id: ID! email: String name: String } type Query { me: User users: [User!]! }');

  it('counts only the operation that ran and the fragments it spreads', () => {
    const document = parse(`
      query Mine { me { ...Id } }
      query Everyone { users { ...Contact } }
      fragment Id on User { id }
      fragment Contact on User { ...Id email }`);
    assert.deepEqual([...operationUsage(schema, operationDocument(document, 'Mine'))].sort(), ['ID', 'Query', 'Query.me', 'User', 'User.id']);
    assert.deepEqual([...operationUsage(schema, operationDocument(document, 'Everyone'))].sort(), [
      'ID',
      'Query',
      'Query.users',
      'String',
      'User',
      'User.email',
      'User.id',
    ]);
    // A single operation is its own document; an unknown name leaves the document whole.
    const single = parse('{ me { name } }');
    assert.equal(operationDocument(single, null), single);
    assert.equal(operationDocument(document, 'Nobody'), document);
  });
});
