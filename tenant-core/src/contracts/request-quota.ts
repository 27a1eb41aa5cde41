// Cross-process contract: the tenancy subgraph writes each tenant's limit from its plan and
// reads the counters to report usage; every router reads the limits and counts requests.
import type { Redis } from 'ioredis';
import type { Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import type { Logger } from '@tansu/platform/logger';
import { createHashMirror } from '@tansu/platform/redis/hash-mirror';

/**
 * Each tenant's requests-per-minute limit (tenants without one are absent), the channel
 * announcing changes, and one counter per tenant and minute (hash-tagged by tenant).
 */
export function requestQuotaKeys(namespace: string) {
  return {
    limits: `${namespace}:tenants:rpm`,
    channel: `${namespace}:tenants:rpm-changed`,
    counter: (tenantId: string, minute: number) => `${namespace}:rpm:{${tenantId}}:${minute}`,
  };
}

/** After a plan change commits: every router reloads the limits. */
export async function publishRequestLimit(redis: Redis, namespace: string, tenantId: string, limit: number | null): Promise<void> {
  const keys = requestQuotaKeys(namespace);
  const multi = redis.multi();
  if (limit === null) multi.hdel(keys.limits, tenantId);
  else multi.hset(keys.limits, tenantId, String(limit));
  multi.publish(keys.channel, tenantId);
  await multi.exec();
}

/**
 * Brings the limits in Redis in line with the plans in Postgres (at start-up). Entries of
 * tenants this database does not know are left alone: installations may share a Redis.
 */
export async function syncRequestLimits(db: Database, redis: Redis, namespace: string): Promise<void> {
  const key = requestQuotaKeys(namespace).limits;
  const rows = await db.global((em) =>
    em.execute<{ id: string; limit: number | null }[]>(
      `select t.id::text as id, p.requests_per_minute as limit from platform.tenants t join platform.plans p on p.id = t.plan`,
    ),
  );
  const limited = rows.filter((r) => r.limit !== null);
  const unlimited = rows.filter((r) => r.limit === null);
  const multi = redis.multi();
  if (limited.length > 0) multi.hset(key, Object.fromEntries(limited.map((r) => [r.id, String(r.limit)])));
  if (unlimited.length > 0) multi.hdel(key, ...unlimited.map((r) => r.id));
  await multi.exec();
}

/** Requests a tenant made in the current minute (all routers together). */
export async function requestsThisMinute(redis: Redis, namespace: string, tenantId: string, now = Date.now()): Promise<number> {
  return Number((await redis.get(requestQuotaKeys(namespace).counter(tenantId, Math.floor(now / 60_000)))) ?? 0);
}

export interface RequestQuota {
  /** Counts one request of the tenant; QUOTA_EXCEEDED past its plan's requests per minute. */
  admit(tenantId: string | undefined): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The router's side: limits held in memory (reloaded on each announced change and every few
 * seconds), one counter per tenant and minute in Redis, shared by every router.
 */
export function createRequestQuota(deps: { subscriber: Redis; redis: Redis; namespace: string; logger: Logger; resyncMs?: number }): RequestQuota {
  const keys = requestQuotaKeys(deps.namespace);
  const limits = createHashMirror({ ...deps, key: keys.limits, channel: keys.channel });
  return {
    async admit(tenantId) {
      const limit = tenantId === undefined ? undefined : limits.get(tenantId);
      if (tenantId === undefined || limit === undefined) return;
      const now = Date.now();
      const key = keys.counter(tenantId, Math.floor(now / 60_000));
      const results = await deps.redis.multi().incr(key).expire(key, 120).exec();
      const used = Number(results?.[0]?.[1] ?? 0);
      if (used > Number(limit)) {
        const retryAfter = Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000));
        throw new TansuError('QUOTA_EXCEEDED', `Quota exceeded: the plan allows ${limit} requests per minute; ${used} made this minute`, {
          extensions: { quota: 'requestsPerMinute', limit: Number(limit), used, retryAfter },
        });
      }
    },
    start: limits.start,
    stop: limits.stop,
  };
}
