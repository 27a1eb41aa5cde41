// Cross-process contract: the tenancy subgraph writes a tenant's status on change and the
// workers' housekeeping re-syncs it from Postgres; every router reads it to refuse tokens.
import type { Redis } from 'ioredis';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import type { TenantStatus } from '../entities.ts';

/** Tenants whose tokens must be refused (suspended or deleted), and the channel announcing changes. */
export function tenantStatusKeys(namespace: string) {
  return { blocked: `${namespace}:tenants:blocked`, channel: `${namespace}:tenants:status` };
}

/** After a status change commits: every router learns it at once through the channel. */
export async function publishTenantStatus(redis: Redis, namespace: string, tenantId: string, status: TenantStatus): Promise<void> {
  const keys = tenantStatusKeys(namespace);
  const multi = redis.multi();
  if (status === 'ACTIVE') multi.srem(keys.blocked, tenantId);
  else multi.sadd(keys.blocked, tenantId);
  multi.publish(keys.channel, JSON.stringify({ tenantId, status }));
  await multi.exec();
}

/**
 * Brings the blocked set in line with Postgres, the source of truth (at start-up, and
 * periodically in case a publish was lost). Purged tenants are no longer in Postgres: they
 * stay blocked, so tokens they issued keep failing.
 */
export async function syncBlockedTenants(db: Database, redis: Redis, namespace: string): Promise<void> {
  const key = tenantStatusKeys(namespace).blocked;
  const blocked = await db.global((em) => em.execute<{ id: string }[]>(`select id from platform.tenants where status <> 'ACTIVE'`));
  const members = await redis.smembers(key);
  const active =
    members.length === 0
      ? []
      : await db.global((em) =>
          em.execute<{ id: string }[]>(`select id::text as id from platform.tenants where status = 'ACTIVE' and id::text in (?)`, [members]),
        );
  const multi = redis.multi();
  if (blocked.length > 0) multi.sadd(key, ...blocked.map((r) => r.id));
  if (active.length > 0) multi.srem(key, ...active.map((r) => r.id));
  await multi.exec();
}

export interface TenantStatusWatcher {
  isBlocked(tenantId: string | undefined): boolean;
  /** Called with each tenant that becomes blocked (to close its live connections). */
  onBlocked(listener: (tenantId: string) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The router's view of blocked tenants: a set in memory, loaded from Redis, updated by the
 * status channel within milliseconds, and reloaded every few seconds in case a message was lost.
 */
export function createTenantStatusWatcher(deps: {
  subscriber: Redis;
  reader: Redis;
  namespace: string;
  logger: Logger;
  resyncMs?: number;
}): TenantStatusWatcher {
  const keys = tenantStatusKeys(deps.namespace);
  let blocked = new Set<string>();
  const listeners: ((tenantId: string) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function reload(): Promise<void> {
    const previous = blocked;
    blocked = new Set(await deps.reader.smembers(keys.blocked));
    for (const id of blocked) if (!previous.has(id)) for (const listener of listeners) listener(id);
  }

  return {
    isBlocked: (tenantId) => tenantId !== undefined && blocked.has(tenantId),
    onBlocked: (listener) => void listeners.push(listener),
    async start() {
      deps.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== keys.channel) return;
        try {
          const { tenantId, status } = JSON.parse(message) as { tenantId: string; status: TenantStatus };
          if (status === 'ACTIVE') blocked.delete(tenantId);
          else if (!blocked.has(tenantId)) {
            blocked.add(tenantId);
            for (const listener of listeners) listener(tenantId);
          }
        } catch (error) {
          deps.logger.warn({ err: error }, 'bad tenant status message');
        }
      });
      await deps.subscriber.subscribe(keys.channel);
      await reload();
      timer = setInterval(
        () => void reload().catch((error: unknown) => deps.logger.warn({ err: error }, 'tenant status reload failed')),
        deps.resyncMs ?? 5_000,
      );
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await deps.subscriber.unsubscribe(keys.channel).catch(() => undefined);
    },
  };
}
