import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { createLogger } from '@tansu/platform/logger';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';

const logger = createLogger({ level: 'silent', service: 'test' });

async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never: ${what}`);
    await sleep(5);
  }
}

/**
 * The hub's reader with its live reads under the test's control: a read can be held before it
 * is sent (so Redis answers it later, from the position it was sent for) or after Redis has
 * answered (as on a busy machine).
 */
function controlledReader(reader: Redis) {
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  let mode: 'send' | 'reply' | undefined;
  let pending = 0;
  const proxy = new Proxy(reader, {
    get(target, property, receiver) {
      if (property !== 'xread') return Reflect.get(target, property, receiver);
      return async (...args: unknown[]) => {
        const xread = (...a: unknown[]) => (target.xread as (...b: unknown[]) => Promise<unknown>)(...a);
        if (mode === 'send' && gate !== undefined) {
          pending++;
          await gate;
          return xread(...args);
        }
        const result = await xread(...args);
        if (mode === 'reply' && gate !== undefined && result !== null) {
          pending++;
          await gate;
        }
        return result;
      };
    },
  });
  return {
    reader: proxy,
    /** Holds the next reads, before they are sent or after they are answered. */
    hold(where: 'send' | 'reply') {
      mode = where;
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    /** How many reads are held. */
    held: () => pending,
    release() {
      mode = undefined;
      gate = undefined;
      pending = 0;
      open();
    },
  };
}

type Entry = [string, string[]];

describe('the stream hub', () => {
  // The shared Redis may hold other files' keys: this file's live under a namespace of its own.
  const namespace = `test-${crypto.randomUUID()}`;
  let servers: TestServers;
  let control: Redis;
  let reader: Redis;

  before(async () => {
    servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
    control = new Redis(servers.redisUrl);
    reader = new Redis(servers.redisUrl);
  });
  after(async () => {
    control.disconnect();
    reader.disconnect();
    await servers.stop();
  });

  it('delivers an event once to a listener that caught up from the backlog while a read for an earlier feed was in flight', async () => {
    const tenant = crypto.randomUUID();
    // The live read is held back after Redis answered, as on a busy machine.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let hold = false;
    const slowReader = new Proxy(reader, {
      get(target, property, receiver) {
        if (property !== 'xread') return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          const result = await (target.xread as (...a: unknown[]) => Promise<unknown>)(...args);
          if (hold && result !== null) await held;
          return result;
        };
      },
    });
    const hub = createStreamHub({ reader: slowReader, control, namespace, logger: createLogger({ level: 'silent', service: 'test' }), blockMs: 200 });
    hub.start();
    try {
      // A first listener; its read is in flight when the event arrives.
      const stopFirst = await hub.listen(tenant, () => undefined);
      hold = true;
      await sleep(50);
      const id = await control.xadd(tenantStreamKey(namespace, tenant), '*', 'topic', 'run.updated', 'payload', '{}');
      await sleep(50);
      // It leaves; a new listener catches up from the start, then joins the live feed.
      stopFirst();
      const seen: string[] = [];
      const stopSecond = await hub.listen(tenant, (event) => seen.push(event.id), '0-0');
      hold = false;
      release();
      await sleep(400);
      stopSecond();
      assert.deepEqual(seen, [id], 'the event once, not again from the read sent for the earlier feed');
    } finally {
      await hub.stop();
    }
  });

  it('delivers each event once, in order, to a listener that resumes while a live read from an older position is in flight', async () => {
    const tenant = crypto.randomUUID();
    const key = tenantStreamKey(namespace, tenant);
    const held = controlledReader(reader);
    const hub = createStreamHub({ reader: held.reader, control, namespace, logger, blockMs: 200 });
    hub.start();
    try {
      const first: string[] = [];
      const stopFirst = await hub.listen(tenant, (event) => first.push(event.id));
      const e0 = (await control.xadd(key, '*', 'n', '0'))!;
      await eventually(() => first.length === 1, 'the first listener has e0');
      // The live read now blocks from e0; its answer (e1, e2) is held back.
      held.hold('reply');
      const e1 = (await control.xadd(key, '*', 'n', '1'))!;
      const e2 = (await control.xadd(key, '*', 'n', '2'))!;
      await eventually(() => held.held() === 1, 'the live read was answered');
      // The resuming listener reads e1 and e2 from the backlog, then joins the live feed.
      const second: string[] = [];
      const stopSecond = await hub.listen(tenant, (event) => second.push(event.id), e0);
      assert.deepEqual(second, [e1, e2]);
      held.release();
      const e3 = (await control.xadd(key, '*', 'n', '3'))!;
      await eventually(() => first.includes(e3) && second.includes(e3), 'both listeners have e3');
      await sleep(250);
      stopFirst();
      stopSecond();
      assert.deepEqual(first, [e0, e1, e2, e3]);
      assert.deepEqual(second, [e1, e2, e3], 'e1 and e2 once, from the backlog, not again from the live read');
    } finally {
      await hub.stop();
    }
  });

  it('delivers each event once when a read sent for an earlier feed of the tenant is answered after the feed was made again', async () => {
    const tenant = crypto.randomUUID();
    const key = tenantStreamKey(namespace, tenant);
    const held = controlledReader(reader);
    const hub = createStreamHub({ reader: held.reader, control, namespace, logger, blockMs: 200 });
    hub.start();
    try {
      const e0 = (await control.xadd(key, '*', 'n', '0'))!;
      const stopFirst = await hub.listen(tenant, () => undefined);
      // The next live read, from e0, waits before it reaches Redis.
      held.hold('send');
      await eventually(() => held.held() === 1, 'the next live read is held');
      // The last listener leaves; the feed is made again from a later position (e1).
      stopFirst();
      const e1 = (await control.xadd(key, '*', 'n', '1'))!;
      const live: string[] = [];
      const stopLive = await hub.listen(tenant, (event) => live.push(event.id));
      const e2 = (await control.xadd(key, '*', 'n', '2'))!;
      const resumed: string[] = [];
      const stopResumed = await hub.listen(tenant, (event) => resumed.push(event.id), e0);
      assert.deepEqual(resumed, [e1, e2]);
      // The read sent from e0 is answered now: e1 and e2.
      held.release();
      const e3 = (await control.xadd(key, '*', 'n', '3'))!;
      await eventually(() => live.includes(e3) && resumed.includes(e3), 'both listeners have e3');
      await sleep(250);
      stopLive();
      stopResumed();
      assert.deepEqual(live, [e2, e3], "from the new feed's position on: e1 was before it");
      assert.deepEqual(resumed, [e1, e2, e3]);
    } finally {
      await hub.stop();
    }
  });

  it('gives every listener that resumes under a steady stream of writes each later entry exactly once, in order', async () => {
    const producer = new Redis(servers.redisUrl);
    const hub = createStreamHub({ reader, control, namespace, logger, blockMs: 200 });
    hub.start();
    try {
      for (let round = 0; round < 5; round++) {
        const tenant = crypto.randomUUID();
        const key = tenantStreamKey(namespace, tenant);
        const written: string[] = [(await producer.xadd(key, '*', 'n', 'start'))!];
        let producing = true;
        const production = (async () => {
          for (let n = 0; producing; n++) written.push((await producer.xadd(key, '*', 'n', String(n)))!);
        })();
        // Each listener joins at a random moment, from a recent entry, the start, or now.
        const listeners = await Promise.all(
          Array.from({ length: 200 }, async () => {
            await sleep(Math.random() * 400);
            const pick = Math.random();
            const after = pick < 0.1 ? '0-0' : pick < 0.2 ? undefined : written[Math.max(0, written.length - 1 - Math.floor(Math.random() * 30))]!;
            const seen: string[] = [];
            const stop = await hub.listen(tenant, (event) => seen.push(event.id), after);
            return { after, seen, stop };
          }),
        );
        // Listeners that come and go one at a time, so the tenant's second feed is made again and again.
        const other = crypto.randomUUID();
        const otherKey = tenantStreamKey(namespace, other);
        const flapping: { after: string; seen: string[] }[] = [];
        const otherWritten: string[] = [(await producer.xadd(otherKey, '*', 'n', 'start'))!];
        for (let i = 0; i < 40; i++) {
          const writes = Promise.all(Array.from({ length: 5 }, async () => otherWritten.push((await control.xadd(otherKey, '*', 'n', String(i)))!)));
          const after = otherWritten[Math.max(0, otherWritten.length - 1 - Math.floor(Math.random() * 5))]!;
          const seen: string[] = [];
          const stop = await hub.listen(other, (event) => seen.push(event.id), after);
          await writes;
          await sleep(Math.random() * 10);
          stop();
          flapping.push({ after, seen });
        }
        producing = false;
        await production;
        const last = written.at(-1)!;
        await eventually(() => listeners.every((l) => l.seen.at(-1) === last), 'every listener reached the last entry');
        await sleep(250);
        for (const l of listeners) l.stop();

        const stream = ((await control.xrange(key, '-', '+')) as Entry[]).map(([id]) => id);
        for (const l of listeners) {
          // Resumed: everything after `after`. Live: a run of the stream from where it joined.
          const from = l.after === undefined ? stream.indexOf(l.seen[0]!) : l.after === '0-0' ? 0 : stream.indexOf(l.after) + 1;
          assert.ok(from >= 0, `round ${round}: ${l.seen[0]} is in the stream`);
          assert.deepEqual(l.seen, stream.slice(from), `round ${round}: listener after ${l.after ?? 'now'}`);
        }
        const otherStream = ((await control.xrange(otherKey, '-', '+')) as Entry[]).map(([id]) => id);
        for (const f of flapping) {
          const from = otherStream.indexOf(f.after) + 1;
          assert.deepEqual(f.seen, otherStream.slice(from, from + f.seen.length), `round ${round}: a listener of a feed made again, after ${f.after}`);
        }
      }
      assert.deepEqual(hub.stats(), { tenants: 0, listeners: 0 });
    } finally {
      await hub.stop();
      producer.disconnect();
    }
  });
});
