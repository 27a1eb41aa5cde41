import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { createLogger } from '@tansu/platform/logger';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';

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
});
