import type { Redis } from 'ioredis';
import type { CallerContext } from '../context-token.ts';
import type { Logger } from '../logger.ts';
import { createHashMirror } from '../redis/hash-mirror.ts';

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
  // An entry outlives the longest-lived token issued before it, then goes.
  const revoked = createHashMirror({ ...deps, key: REVOKED_SESSIONS_KEY, channel: REVOKED_SESSIONS_CHANNEL, expired: (_field, at) => Number(at) < Date.now() / 1000 - deps.maxTokenAgeSeconds - 60 });
  return {
    isRevoked(caller) {
      if (caller.tenantId === undefined || caller.subject === undefined) return false;
      const at = revoked.get(`${caller.tenantId}:${caller.subject}`);
      // Second granularity: a token issued in the very second of the revocation survives it.
      return at !== undefined && (caller.issuedAt === undefined || caller.issuedAt < Number(at));
    },
    start: revoked.start,
    stop: revoked.stop,
  };
}
