import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { eventIterator, SlowSubscriberError } from '@tansu/platform/events/event-iterator';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { createStreamHub, type StreamEvent, type StreamHub } from '@tansu/platform/events/stream-hub';
import { createLogger } from '@tansu/platform/logger';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';

interface RunState {
  id: string;
  runId: string;
  status: string;
}

const select = (event: StreamEvent): RunState => ({ id: event.id, runId: String(event.payload.runId), status: String(event.payload.status) });

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never: ${what}`);
    await sleep(5);
  }
}

/** Up to `count` values, or what arrived within a few seconds. */
async function take<T>(iterator: AsyncIterableIterator<T>, count: number): Promise<T[]> {
  const values: T[] = [];
  const deadline = sleep(5_000).then(() => undefined);
  while (values.length < count) {
    const next = await Promise.race([iterator.next(), deadline]);
    if (next === undefined || next.done === true) break;
    values.push(next.value);
  }
  return values;
}

describe("a subscriber's event iterator", () => {
  // The shared Redis may hold other files' keys: this file's live under a namespace of its own.
  const namespace = `test-${crypto.randomUUID()}`;
  let servers: TestServers;
  let control: Redis;
  let reader: Redis;
  let hub: StreamHub;

  before(async () => {
    servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
    control = new Redis(servers.redisUrl);
    reader = new Redis(servers.redisUrl);
    hub = createStreamHub({ reader, control, namespace, logger: createLogger({ level: 'silent', service: 'test' }), blockMs: 200 });
    hub.start();
  });
  after(async () => {
    await hub.stop();
    control.disconnect();
    reader.disconnect();
    await servers.stop();
  });

  /** Appends run states to a tenant's stream in one round trip, so the hub reads them as one burst. */
  async function write(tenant: string, states: [runId: string, status: string][]): Promise<string[]> {
    const pipeline = control.pipeline();
    for (const [runId, status] of states) pipeline.xadd(tenantStreamKey(namespace, tenant), '*', 'topic', 'run', 'payload', JSON.stringify({ runId, status }));
    return ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
  }

  it('keeps every state of a burst that arrives before the subscriber reads, in order', async () => {
    const tenant = crypto.randomUUID();
    const iterator = await eventIterator({ hub, tenantId: tenant, select, coalesceKey: (state) => state.runId });
    // A listener that joined after the iterator is handed each event after it.
    const probe: string[] = [];
    const stopProbe = await hub.listen(tenant, (event) => probe.push(event.id));
    const ids = await write(tenant, [
      ['a', 'QUEUED'],
      ['b', 'QUEUED'],
      ['a', 'RUNNING'],
      ['b', 'RUNNING'],
    ]);
    await eventually(() => probe.length === 4, 'the burst was handed out');
    stopProbe();
    const states = await take(iterator, 4);
    await iterator.return!();
    assert.deepEqual(
      states.map((s) => `${s.runId}:${s.status}`),
      ['a:QUEUED', 'b:QUEUED', 'a:RUNNING', 'b:RUNNING'],
    );
    assert.deepEqual(
      states.map((s) => s.id),
      ids,
    );
  });

  it('replays every state from the start, not only the latest of each run', async () => {
    const tenant = crypto.randomUUID();
    await write(tenant, [
      ['a', 'QUEUED'],
      ['b', 'QUEUED'],
      ['a', 'RUNNING'],
      ['a', 'SUCCEEDED'],
      ['b', 'RUNNING'],
    ]);
    const iterator = await eventIterator({ hub, tenantId: tenant, after: '0-0', select, coalesceKey: (state) => state.runId });
    const states = await take(iterator, 5);
    await iterator.return!();
    assert.deepEqual(
      states.map((s) => `${s.runId}:${s.status}`),
      ['a:QUEUED', 'b:QUEUED', 'a:RUNNING', 'a:SUCCEEDED', 'b:RUNNING'],
    );
  });

  it('keeps only the latest state of each run once a subscriber falls far behind, in order, and goes on', async () => {
    const tenant = crypto.randomUUID();
    // 30 states of two runs, far more than the queue holds.
    const states: [string, string][] = Array.from({ length: 30 }, (_, n) => [n % 2 === 0 ? 'a' : 'b', `S${n}`]);
    const ids = await write(tenant, states);
    const iterator = await eventIterator({ hub, tenantId: tenant, after: '0-0', select, coalesceKey: (state) => state.runId, maxQueue: 10 });
    const received: RunState[] = [];
    let pending = iterator.next();
    for (;;) {
      const next = await Promise.race([pending, sleep(300).then(() => undefined)]);
      if (next === undefined) break;
      assert.notEqual(next.done, true);
      received.push(next.value);
      pending = iterator.next();
    }
    assert.ok(received.length < states.length, `${received.length} states: the queue was compacted`);
    assert.ok(received.length > 2, `${received.length} states: what came after it was compacted is queued in full again`);
    const positions = received.map((s) => ids.indexOf(s.id));
    assert.deepEqual(
      positions,
      [...positions].sort((x, y) => x - y),
      'in stream order',
    );
    assert.equal(new Set(positions).size, positions.length, 'none twice');
    assert.deepEqual(
      received.slice(-2).map((s) => `${s.runId}:${s.status}`),
      ['a:S28', 'b:S29'],
      "each run's latest state",
    );
    // Still subscribed.
    const [later] = await write(tenant, [['a', 'LATER']]);
    assert.equal((await pending).value?.id, later);
    await iterator.return!();
  });

  it('ends a subscriber that is still too far behind after compacting, keeping what it had in order', async () => {
    const tenant = crypto.randomUUID();
    // Forty different runs: nothing to compact.
    const ids = await write(
      tenant,
      Array.from({ length: 40 }, (_, n) => [`run-${n}`, 'QUEUED']),
    );
    const iterator = await eventIterator({ hub, tenantId: tenant, after: '0-0', select, coalesceKey: (state) => state.runId, maxQueue: 10 });
    const received: string[] = [];
    let error: unknown;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        received.push(next.value.id);
      }
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof SlowSubscriberError, String(error));
    assert.ok(received.length > 0 && received.length < ids.length, `${received.length} events before the end: nothing queued once it failed`);
    assert.deepEqual(received, ids.slice(0, received.length), 'what it had, from the start and in order');
    assert.deepEqual(hub.stats(), { tenants: 0, listeners: 0 }, 'no longer listening');
  });
});
