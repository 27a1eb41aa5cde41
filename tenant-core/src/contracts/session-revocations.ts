// Cross-process contract: the identity and tenancy subgraphs write a revocation when a user's
// sessions end or roles change; every router reads them to refuse earlier tokens.
import type { Redis } from 'ioredis';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Logger } from '@tansu/platform/logger';
import { createHashMirror } from '@tansu/platform/redis/hash-mirror';

/**
 * Users whose access tokens issued before a moment must stop working at once:
 * `tenantId:userId` → `<epoch milliseconds>|<reason>`. An entry is needed only as long as an
 * access token can live; older ones are dropped.
 */
export function sessionRevocationKeys(namespace: string) {
  return { revoked: `${namespace}:sessions:revoked`, channel: `${namespace}:sessions:revoked-changed` };
}

/** Why earlier tokens stop: the sessions were ended (disabled, password reset), or the user's roles changed. */
export type RevocationReason = 'ended' | 'roles';

export interface Revocation {
  atMs: number;
  reason: RevocationReason;
}

/** After the change commits: tokens of this user issued before now are refused by every router. */
export async function publishSessionRevocation(
  redis: Redis,
  namespace: string,
  tenantId: string,
  userId: string,
  options: { reason?: RevocationReason; now?: number } = {},
): Promise<void> {
  const keys = sessionRevocationKeys(namespace);
  const value = `${options.now ?? Date.now()}|${options.reason ?? 'ended'}`;
  await redis.multi().hset(keys.revoked, `${tenantId}:${userId}`, value).publish(keys.channel, `${tenantId}:${userId}`).exec();
}

function parse(value: string): Revocation {
  const [at, reason] = value.split('|');
  return { atMs: Number(at), reason: reason === 'roles' ? 'roles' : 'ended' };
}

/**
 * Whether a token issued at `issuedAt` (JWT seconds, possibly with a fraction) predates the
 * revocation. Tokens minted by Tansu carry milliseconds; a whole-second `iat` from the very
 * second of the revocation cannot be placed before or after it, so it is refused.
 */
export function issuedBefore(issuedAt: number | undefined, atMs: number): boolean {
  if (issuedAt === undefined) return true;
  if (Number.isInteger(issuedAt)) return issuedAt <= Math.floor(atMs / 1000);
  return issuedAt * 1000 < atMs;
}

export interface SessionRevocations {
  /** The revocation that refuses this caller's token, if any. */
  revocationOf(caller: CallerContext): Revocation | undefined;
  /** Called with `tenantId:userId` whenever a user's revocation is new or changed (open sockets close on it). */
  onRevoked(listener: (tenantId: string, userId: string) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The router's side: the entries in memory, reloaded on each announcement and every few seconds. */
export function createSessionRevocations(deps: {
  subscriber: Redis;
  redis: Redis;
  namespace: string;
  logger: Logger;
  maxTokenAgeSeconds: number;
  resyncMs?: number;
}): SessionRevocations {
  const keys = sessionRevocationKeys(deps.namespace);
  const listeners: ((tenantId: string, userId: string) => void)[] = [];
  // An entry outlives the longest-lived token issued before it, then goes.
  const revoked = createHashMirror({
    ...deps,
    key: keys.revoked,
    channel: keys.channel,
    expired: (_field, value) => parse(value).atMs < Date.now() - (deps.maxTokenAgeSeconds + 60) * 1000,
    onChanged: (fields) => {
      for (const field of fields) {
        const [tenantId, userId] = field.split(':');
        if (tenantId === undefined || userId === undefined) continue;
        for (const listener of listeners) listener(tenantId, userId);
      }
    },
  });
  return {
    revocationOf(caller) {
      if (caller.tenantId === undefined || caller.subject === undefined) return undefined;
      const value = revoked.get(`${caller.tenantId}:${caller.subject}`);
      if (value === undefined) return undefined;
      const revocation = parse(value);
      return issuedBefore(caller.issuedAt, revocation.atMs) ? revocation : undefined;
    },
    onRevoked(listener) {
      listeners.push(listener);
    },
    start: revoked.start,
    stop: revoked.stop,
  };
}
