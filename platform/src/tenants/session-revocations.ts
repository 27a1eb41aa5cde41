import type { Redis } from 'ioredis';
import type { CallerContext } from '../context-token.ts';
import type { Logger } from '../logger.ts';

/**
 * Users whose access tokens issued before a moment must stop working at once (disabled, or
 * password reset): `tenantId:userId` → that moment in epoch seconds. An entry is needed only
 * as long as an access token can live; older ones are dropped.
 */
export const REVOKED_SESSIONS_KEY = 'tansu:sessions:revoked';
export const REVOKED_SESSIONS_CHANNEL = 'tansu:sessions:revoked-changed';

/** After the change commits: tokens of this user issued before now are refused by every router. */
export async function publishSessionRevocation(redis: Redis, tenantId: string, userId: string, now = Date.now()): Promise<void> {
  await redis.multi().hset(REVOKED_SESSIONS_KEY, `${tenantId}:${userId}`, String(Math.floor(now / 1000))).publish(REVOKED_SESSIONS_CHANNEL, `${tenantId}:${userId}`).exec();
}

export interface SessionRevocations {
  /** Whether the caller's token was issued before their sessions were ended. */
  isRevoked(caller: CallerContext): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The router's side: the entries in memory, reloaded on each announcement and every few seconds. */
export function createSessionRevocations(deps: { subscriber: Redis; redis: Redis; logger: Logger; maxTokenAgeSeconds: number; resyncMs?: number }): SessionRevocations {
  let revoked = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const reload = async () => {
    const entries = Object.entries(await deps.redis.hgetall(REVOKED_SESSIONS_KEY)).map(([key, at]) => [key, Number(at)] as const);
    const oldest = Date.now() / 1000 - deps.maxTokenAgeSeconds - 60;
    const stale = entries.filter(([, at]) => at < oldest).map(([key]) => key);
    if (stale.length > 0) await deps.redis.hdel(REVOKED_SESSIONS_KEY, ...stale);
    revoked = new Map(entries.filter(([, at]) => at >= oldest));
  };
  const reloadLogged = () => void reload().catch((error: unknown) => deps.logger.warn({ err: error }, 'session revocations reload failed'));
  const onMessage = (channel: string) => {
    if (channel === REVOKED_SESSIONS_CHANNEL) reloadLogged();
  };
  return {
    isRevoked(caller) {
      if (caller.tenantId === undefined || caller.subject === undefined) return false;
      const at = revoked.get(`${caller.tenantId}:${caller.subject}`);
      // Second granularity: a token issued in the very second of the revocation survives it.
      return at !== undefined && (caller.issuedAt === undefined || caller.issuedAt < at);
    },
    async start() {
      deps.subscriber.on('message', onMessage);
      await deps.subscriber.subscribe(REVOKED_SESSIONS_CHANNEL);
      await reload();
      timer = setInterval(reloadLogged, deps.resyncMs ?? 5_000);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      deps.subscriber.off('message', onMessage);
      await deps.subscriber.unsubscribe(REVOKED_SESSIONS_CHANNEL).catch(() => undefined);
    },
  };
}
