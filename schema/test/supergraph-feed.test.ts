import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';
import { publishedSupergraph, pushSupergraph, watchSupergraph } from '@tansu/schema/registry/supergraph-feed';

describe('the supergraph feed to routers', () => {
  let servers: TestServers;
  let redis: Redis;
  let subscriber: Redis;
  const namespace = `feed-${crypto.randomUUID()}`;

  before(async () => {
    servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
    redis = new Redis(servers.redisUrl);
    subscriber = new Redis(servers.redisUrl);
  });
  after(async () => {
    redis.disconnect();
    subscriber.disconnect();
    await servers.stop();
  });

  it('keeps the newest publish when pushes land out of order', async () => {
    await pushSupergraph(redis, namespace, 'main', '7', 'sdl 7');
    await pushSupergraph(redis, namespace, 'main', '5', 'sdl 5');
    assert.deepEqual(await publishedSupergraph(redis, namespace, 'main'), { id: '7', sdl: 'sdl 7' });
    await pushSupergraph(redis, namespace, 'main', '8', 'sdl 8');
    assert.deepEqual(await publishedSupergraph(redis, namespace, 'main'), { id: '8', sdl: 'sdl 8' });
  });

  it('applies each newer supergraph once, and survives a failure to apply one', async () => {
    const applied: string[] = [];
    const failures: unknown[] = [];
    let fail = true;
    const stop = await watchSupergraph({
      subscriber,
      reader: redis,
      namespace,
      variant: 'main',
      since: '8',
      onChange: (sdl) => {
        if (fail) {
          fail = false;
          throw new Error('the gateway refused it');
        }
        applied.push(sdl);
      },
      onError: (error) => failures.push(error),
      resyncMs: 100,
    });
    await pushSupergraph(redis, namespace, 'main', '9', 'sdl 9');
    for (let i = 0; i < 40 && applied.length === 0; i++) await sleep(25);
    await sleep(250);
    await stop();
    assert.equal(failures.length, 1, 'the failure was reported, not thrown');
    assert.deepEqual(applied, ['sdl 9'], 'retried at the next turn, then applied once');
  });
});
