import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { TansuError } from '@tansu/platform/errors';
import { tenantOutboxInFlightKey, tenantStreamKey } from '@tansu/platform/events/outbox';
import { createLogger } from '@tansu/platform/logger';
import { startTestServers, TEST_APP_PASSWORD, type TestServers } from '@tansu/platform/testing/test-servers';
import { AUDIT_FEED } from '../src/audit-log.ts';
import { createRequestQuota, publishRequestLimit, requestQuotaKeys } from '../src/contracts/request-quota.ts';
import { createSessionRevocations, publishSessionRevocation, sessionRevocationKeys } from '../src/contracts/session-revocations.ts';
import { createTenantStatusWatcher, publishTenantStatus, tenantStatusKeys } from '../src/contracts/tenant-status.ts';

const logger = createLogger({ level: 'silent', service: 'test' });
const TENANT = '00000000-0000-4000-8000-000000000001';

/** Every key and channel name the contracts use under a namespace. */
function names(namespace: string): string[] {
  const quota = requestQuotaKeys(namespace);
  return [
    ...Object.values(tenantStatusKeys(namespace)),
    ...Object.values(sessionRevocationKeys(namespace)),
    quota.limits,
    quota.channel,
    quota.counter(TENANT, 29_000_000),
    tenantStreamKey(namespace, TENANT),
    tenantStreamKey(namespace, TENANT, AUDIT_FEED),
    tenantOutboxInFlightKey(namespace, TENANT),
  ];
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`never: ${what}`);
}

describe('the cross-process contracts in Redis', () => {
  it('keep the names existing installations use under the default namespace', () => {
    assert.deepEqual(names('tansu'), [
      'tansu:tenants:blocked',
      'tansu:tenants:status',
      'tansu:sessions:revoked',
      'tansu:sessions:revoked-changed',
      'tansu:tenants:rpm',
      'tansu:tenants:rpm-changed',
      `tansu:rpm:{${TENANT}}:29000000`,
      `tansu:{${TENANT}}:events`,
      `tansu:{${TENANT}}:audit`,
      `tansu:{${TENANT}}:outbox-in-flight`,
    ]);
  });

  it('move every name under another namespace', () => {
    assert.deepEqual(
      names('staging'),
      names('tansu').map((name) => name.replace(/^tansu:/, 'staging:')),
    );
  });

  describe('two installations sharing one Redis', () => {
    let servers: TestServers;
    let redis: Redis;
    const connections: Redis[] = [];
    const stops: (() => Promise<void>)[] = [];
    const a = `test-${randomUUID()}`;
    const b = `test-${randomUUID()}`;

    /** A subscriber connection of its own, as each router has. */
    function subscriber(): Redis {
      const connection = new Redis(servers.redisUrl);
      connections.push(connection);
      return connection;
    }

    async function started<T extends { start(): Promise<void>; stop(): Promise<void> }>(service: T): Promise<T> {
      await service.start();
      stops.push(() => service.stop());
      return service;
    }

    before(async () => {
      servers = await startTestServers({ appPassword: TEST_APP_PASSWORD });
      redis = new Redis(servers.redisUrl);
      connections.push(redis);
    });
    after(async () => {
      for (const stop of stops.reverse()) await stop();
      for (const connection of connections) connection.disconnect();
      await servers.stop();
    });

    // Each side publishes after the other; once each has seen its own, it would have seen the other's first.
    it('do not see each other’s blocked tenants', async () => {
      const watcher = (namespace: string) => started(createTenantStatusWatcher({ subscriber: subscriber(), reader: redis, namespace, logger }));
      const [inA, inB] = [await watcher(a), await watcher(b)];
      const [x, y] = [randomUUID(), randomUUID()];
      await publishTenantStatus(redis, a, x, 'SUSPENDED');
      await publishTenantStatus(redis, b, y, 'SUSPENDED');
      await eventually(() => inA.isBlocked(x) && inB.isBlocked(y), 'each namespace saw its own block');
      assert.equal(inA.isBlocked(y), false);
      assert.equal(inB.isBlocked(x), false);
      // A router starting now loads its own namespace's set, not the other's.
      const late = await watcher(b);
      assert.equal(late.isBlocked(y), true);
      assert.equal(late.isBlocked(x), false);
    });

    it('do not see each other’s revocations', async () => {
      const revocations = (namespace: string) =>
        started(createSessionRevocations({ subscriber: subscriber(), redis, namespace, logger, maxTokenAgeSeconds: 900 }));
      const [inA, inB] = [await revocations(a), await revocations(b)];
      const tenantId = randomUUID();
      const caller = (subject: string) => ({ tenantId, subject, roles: [], scopes: [], issuedAt: Date.now() / 1000 });
      const [x, y] = [caller(randomUUID()), caller(randomUUID())];
      await publishSessionRevocation(redis, a, tenantId, x.subject, { now: Date.now() + 1_000 });
      await publishSessionRevocation(redis, b, tenantId, y.subject, { now: Date.now() + 1_000 });
      await eventually(() => inA.revocationOf(x) !== undefined && inB.revocationOf(y) !== undefined, 'each namespace saw its own revocation');
      assert.equal(inA.revocationOf(y), undefined);
      assert.equal(inB.revocationOf(x), undefined);
    });

    it('do not see each other’s request limits or counts', async () => {
      const quota = (namespace: string) => started(createRequestQuota({ subscriber: subscriber(), redis, namespace, logger }));
      const [inA, inB] = [await quota(a), await quota(b)];
      const [x, y] = [randomUUID(), randomUUID()];
      const refused = (q: typeof inA, tenantId: string) =>
        q.admit(tenantId).then(
          () => false,
          (error: unknown) => error instanceof TansuError && error.code === 'QUOTA_EXCEEDED',
        );
      await publishRequestLimit(redis, a, x, 0);
      await publishRequestLimit(redis, b, y, 0);
      await eventually(async () => (await refused(inA, x)) && (await refused(inB, y)), 'each namespace enforced its own limit');
      assert.equal(await refused(inA, y), false);
      assert.equal(await refused(inB, x), false);
      // x was counted in a only (a counter outlives its minute, so a minute turning over changes nothing here).
      assert.notDeepEqual(await redis.keys(`${a}:rpm:{${x}}:*`), []);
      assert.deepEqual(await redis.keys(`${b}:rpm:{${x}}:*`), []);
    });
  });
});
