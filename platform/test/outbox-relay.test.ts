import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { OutboxEventEntity, appendEvent, tenantStreamKey } from '@tansu/platform/events/outbox';
import { createOutboxRelay, type OutboxRelay } from '@tansu/platform/events/outbox-relay';
import { eventIterator } from '@tansu/platform/events/event-iterator';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { createLogger } from '@tansu/platform/logger';
import { openTestDatabase } from '@tansu/platform/testing/test-servers';

interface StreamEvent {
  outboxId: string;
  topic: string;
  payload: Record<string, unknown>;
  at: string;
}

const ENTITIES = [OutboxEventEntity];

describe('outbox relay', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let appDb: Database;
  let systemDb: Database;
  let owner: pg.Client;
  let redis: Redis;
  let relay: OutboxRelay;
  let redisUrl: string;
  // Random tenants and a namespace of this file's own: the shared Redis may hold other files' streams, never these.
  const namespace = `test-${randomUUID()}`;
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  async function streamOf(tenantId: string): Promise<StreamEvent[]> {
    const entries = await redis.xrange(tenantStreamKey(namespace, tenantId), '-', '+');
    return entries.map(([, fields]) => {
      const map = new Map<string, string>();
      for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
      return {
        outboxId: map.get('outboxId')!,
        topic: map.get('topic')!,
        payload: JSON.parse(map.get('payload')!) as Record<string, unknown>,
        at: map.get('at')!,
      };
    });
  }

  async function unpublished(): Promise<number> {
    const { rows } = await owner.query<{ n: number }>('select count(*)::int as n from platform.outbox where published_at is null');
    return rows[0]!.n;
  }

  function append(tenantId: string, topic: string, payload: Record<string, unknown>): Promise<void> {
    return appDb.withTenant(tenantId, async (em) => appendEvent(em, { tenantId, topic, payload }));
  }

  before(async () => {
    const database = await openTestDatabase();
    cleanups.push(database.close);
    owner = await database.owner();
    appDb = await openDatabase({ url: database.appUrl, entities: ENTITIES });
    cleanups.push(() => appDb.close());
    systemDb = await openDatabase({ url: database.url, entities: ENTITIES });
    cleanups.push(() => systemDb.close());
    redisUrl = database.redisUrl;
    redis = new Redis(database.redisUrl, { lazyConnect: true });
    await redis.connect();
    cleanups.push(() => redis.quit());
    relay = createOutboxRelay({ systemDb, redis, namespace, logger: createLogger({ level: 'silent', service: 'test' }) });
    cleanups.push(() => relay.stop());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("moves each tenant's events to its own stream, in order, once", async () => {
    // Interleaved transactions, several events in some of them.
    await appDb.withTenant(tenantA, async (em) => {
      appendEvent(em, { tenantId: tenantA, topic: 'user.created', payload: { seq: 1 } });
      appendEvent(em, { tenantId: tenantA, topic: 'user.updated', payload: { seq: 2 } });
    });
    await append(tenantB, 'user.created', { seq: 1 });
    await append(tenantA, 'user.deleted', { seq: 3 });
    await appDb.withTenant(tenantB, async (em) => {
      appendEvent(em, { tenantId: tenantB, topic: 'user.updated', payload: { seq: 2, nested: { ok: true } } });
    });
    assert.equal(await unpublished(), 5);

    assert.equal(await relay.drainOnce(), 5);

    const a = await streamOf(tenantA);
    assert.deepEqual(
      a.map((e) => [e.topic, e.payload]),
      [
        ['user.created', { seq: 1 }],
        ['user.updated', { seq: 2 }],
        ['user.deleted', { seq: 3 }],
      ],
    );
    const b = await streamOf(tenantB);
    assert.deepEqual(
      b.map((e) => [e.topic, e.payload]),
      [
        ['user.created', { seq: 1 }],
        ['user.updated', { seq: 2, nested: { ok: true } }],
      ],
    );
    // Consumers dedupe on the outbox id, so it must be there and increase along the stream.
    for (const stream of [a, b]) {
      const ids = stream.map((e) => BigInt(e.outboxId));
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => (x < y ? -1 : 1)),
      );
      for (const event of stream) assert.ok(!Number.isNaN(Date.parse(event.at)));
    }
    assert.equal(new Set([...a, ...b].map((e) => e.outboxId)).size, 5);

    assert.equal(await unpublished(), 0);
    assert.equal(await relay.drainOnce(), 0);
    assert.equal((await streamOf(tenantA)).length, 3);
    assert.equal((await streamOf(tenantB)).length, 2);
  });

  it('keeps id order across batches, also where ids gain a digit', async () => {
    const tenant = randomUUID();
    // Ids 98..102: a textual sort would put 100 before 98.
    await owner.query(`select setval('platform.outbox_id_seq', 97)`);
    const small = createOutboxRelay({ systemDb, redis, namespace, logger: createLogger({ level: 'silent', service: 'test' }), batchSize: 2 });
    for (let seq = 1; seq <= 5; seq++) await append(tenant, 'tick', { seq });
    assert.equal(await small.drainOnce(), 2);
    assert.equal(await small.drainOnce(), 2);
    assert.equal(await small.drainOnce(), 1);
    assert.equal(await small.drainOnce(), 0);
    const events = await streamOf(tenant);
    assert.deepEqual(
      events.map((e) => e.outboxId),
      ['98', '99', '100', '101', '102'],
    );
    assert.deepEqual(
      events.map((e) => e.payload.seq),
      [1, 2, 3, 4, 5],
    );
  });

  it('never publishes an event whose transaction rolled back', async () => {
    const tenant = randomUUID();
    await assert.rejects(
      appDb.withTenant(tenant, async (em) => {
        appendEvent(em, { tenantId: tenant, topic: 'ghost', payload: {} });
        // The row reaches Postgres before the rollback, so the relay could see it if it were committed.
        await em.flush();
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    await append(tenant, 'real', { after: 'rollback' });
    assert.equal(await relay.drainOnce(), 1);
    assert.deepEqual(
      (await streamOf(tenant)).map((e) => e.topic),
      ['real'],
    );
    assert.equal(await relay.drainOnce(), 0);
  });

  it('moves a row once when the relay fails between appending it and marking it published', async () => {
    const tenant = randomUUID();
    const reader = new Redis(redisUrl);
    const control = new Redis(redisUrl);
    const hub = createStreamHub({ reader, control, namespace, logger: createLogger({ level: 'silent', service: 'test' }), blockMs: 200 });
    hub.start();
    try {
      for (let seq = 1; seq <= 3; seq++) await append(tenant, 'tick', { seq });
      const subscriber = await eventIterator({ hub, tenantId: tenant, after: '0-0', select: (event) => event.outboxId });
      // Marking the rows fails after they were appended, as when the relay dies in between.
      await owner.query(
        `create function public.fail_outbox_mark() returns trigger language plpgsql as $$ begin raise exception 'relay died before the mark'; end $$`,
      );
      await owner.query(`create trigger fail_outbox_mark before update on platform.outbox for each row execute function public.fail_outbox_mark()`);
      try {
        await assert.rejects(relay.drainOnce(), /relay died before the mark/);
      } finally {
        await owner.query(`drop trigger fail_outbox_mark on platform.outbox; drop function public.fail_outbox_mark()`);
      }
      assert.equal((await streamOf(tenant)).length, 3, 'appended before the failure');
      assert.equal(await unpublished(), 3, 'and still to be moved');
      // The next relay moves them again, with one more row; Redis has meanwhile forgotten its scripts.
      await redis.script('FLUSH');
      await append(tenant, 'tick', { seq: 4 });
      assert.equal(await relay.drainOnce(), 4);
      assert.equal(await unpublished(), 0);

      const events = await streamOf(tenant);
      assert.deepEqual(
        events.map((e) => e.payload.seq),
        [1, 2, 3, 4],
        'each row once, in order',
      );
      const received: string[] = [];
      for (let i = 0; i < 4; i++) received.push((await subscriber.next()).value!);
      assert.deepEqual(
        received,
        events.map((e) => e.outboxId),
      );
      // The next event is the subscriber's next: no repeat came in between.
      await append(tenant, 'tick', { seq: 5 });
      assert.equal(await relay.drainOnce(), 1);
      assert.equal((await subscriber.next()).value, (await streamOf(tenant))[4]!.outboxId);
      await subscriber.return!();
      // Once the rows are marked, only the stream is left of them in Redis.
      assert.deepEqual(await redis.keys(`${namespace}:{${tenant}}:*`), [tenantStreamKey(namespace, tenant)]);
    } finally {
      await hub.stop();
      reader.disconnect();
      control.disconnect();
    }
  });

  it('deletes published rows past their retention, never unpublished ones', async () => {
    const purging = createOutboxRelay({ systemDb, redis, namespace, logger: createLogger({ level: 'silent', service: 'test' }), retentionMs: 0 });
    await append(tenantA, 'purge.published', { n: 1 });
    await purging.drainOnce();
    await owner.query(`update platform.outbox set published_at = now() - interval '1 second' where published_at is not null`);
    await append(tenantA, 'purge.pending', { n: 2 });
    await purging.purgePublished();
    const { rows } = await owner.query<{ topic: string; published: boolean }>(`select topic, published_at is not null as published from platform.outbox`);
    assert.deepEqual(rows, [{ topic: 'purge.pending', published: false }]);
    await purging.drainOnce();
  });

  it('delivers by itself once started, and stops', async () => {
    const tenant = randomUUID();
    relay.start();
    try {
      await append(tenant, 'background', { n: 1 });
      let events: StreamEvent[] = [];
      for (let attempt = 0; attempt < 200 && events.length === 0; attempt++) {
        await sleep(25);
        events = await streamOf(tenant);
      }
      assert.deepEqual(
        events.map((e) => [e.topic, e.payload]),
        [['background', { n: 1 }]],
      );
    } finally {
      await relay.stop();
    }
    // Stopped: a new event stays in the outbox.
    await append(tenant, 'after-stop', {});
    assert.equal(await unpublished(), 1);
    assert.equal((await streamOf(tenant)).length, 1);
    assert.equal(await relay.drainOnce(), 1);
  });
});
