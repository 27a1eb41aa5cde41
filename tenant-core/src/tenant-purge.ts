import type { Redis } from 'ioredis';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { tenantOutboxInFlightKey, tenantStreamKey } from '@tansu/platform/events/outbox';
import { createPollLoop, type PollLoop } from '@tansu/platform/poll-loop';
import { AUDIT_FEED } from './audit-log.ts';
import { requestQuotaKeys } from './contracts/request-quota.ts';
import { syncBlockedTenants } from './contracts/tenant-status.ts';

/**
 * Removes every trace of tenants deleted longer ago than `delayMs`: their rows (every tenant
 * table references the tenant with ON DELETE CASCADE; the outbox is cleared first), their
 * event stream and request limit. Runs with the owner connection: deleting
 * a tenant is the one thing the application role may not do.
 */
export async function purgeDeletedTenants(deps: { systemDb: Database; redis: Redis; namespace: string; logger: Logger; delayMs: number }): Promise<string[]> {
  const due = await deps.systemDb.global((em) =>
    em.execute<{ id: string; slug: string }[]>(
      `select id, slug from platform.tenants where status = 'DELETED' and status_changed_at <= now() - (? * interval '1 millisecond') limit 10`,
      [deps.delayMs],
    ),
  );
  for (const tenant of due) {
    await deps.systemDb.global(async (em) => {
      await em.execute(`delete from platform.outbox where tenant_id = ?`, [tenant.id]);
      await em.execute(`delete from platform.tenants where id = ?`, [tenant.id]);
    });
    // The tenant stays in the blocked set: tokens it issued must keep failing until they expire.
    await deps.redis
      .multi()
      .del(
        tenantStreamKey(deps.namespace, tenant.id),
        tenantStreamKey(deps.namespace, tenant.id, AUDIT_FEED),
        tenantOutboxInFlightKey(deps.namespace, tenant.id),
      )
      .hdel(requestQuotaKeys(deps.namespace).limits, tenant.id)
      .exec();
    deps.logger.info({ tenantId: tenant.id, slug: tenant.slug }, 'tenant purged');
  }
  return due.map((t) => t.id);
}

/**
 * The workers' tenant housekeeping round: purge what is due, and every half minute re-sync
 * the blocked set from Postgres (a status change whose publish failed is caught here).
 */
export function createTenantHousekeeping(deps: { db: Database; systemDb: Database; redis: Redis; namespace: string; logger: Logger; delayMs: number }) {
  let lastSync = 0;
  return async (): Promise<{ full: boolean }> => {
    if (Date.now() - lastSync > 30_000) {
      lastSync = Date.now();
      await syncBlockedTenants(deps.db, deps.redis, deps.namespace);
    }
    return { full: (await purgeDeletedTenants(deps)).length >= 10 };
  };
}

/** The housekeeping loop, started: `idleMs` is how soon a due purge is noticed. */
export function startTenantHousekeeping(deps: {
  db: Database;
  systemDb: Database;
  redis: Redis;
  namespace: string;
  logger: Logger;
  delayMs: number;
  idleMs: number;
}): PollLoop {
  const loop = createPollLoop({
    name: 'tenant purge',
    round: createTenantHousekeeping(deps),
    idleMs: deps.idleMs,
    failureMs: deps.idleMs * 3,
    logger: deps.logger,
  });
  loop.start();
  return loop;
}
