import { TansuError } from '@tansu/platform/errors';
import type { RateLimiter } from '@tansu/platform/rate-limit';

const MAILS_PER_ADDRESS_PER_HOUR = 5;
/** Wrong second-factor codes one account may see per lockout window (a code is one of a million; three are valid at a time). */
const CODE_FAILURES_PER_WINDOW = 10;
/** The one bucket of every caller whose address is unknown (no address has this form). */
const UNKNOWN_ADDRESS = 'unknown';

/**
 * Brakes on credential guessing: a limit per client address on every credential endpoint,
 * and an account lock after repeated failed sign-ins (a correct password does not open a
 * locked account before the lock ends).
 */
export function createCredentialGuard(deps: { limiter: RateLimiter; lockoutThreshold: number; lockoutSeconds: number; ratePerMinute: number }) {
  const account = (tenantId: string, email: string) => `${tenantId}:${email.trim().toLowerCase()}`;
  return {
    /**
     * Counts one credential request from this address; refuses past the limit. Callers whose
     * address is unknown (no signed client, or none the router could tell) share one budget:
     * a path that loses the address is limited all the more, never unlimited.
     */
    async throttle(ip: string | undefined): Promise<void> {
      const result = await deps.limiter.hit(`ip:${ip === undefined || ip === '' ? UNKNOWN_ADDRESS : ip.slice(0, 64)}`, deps.ratePerMinute, 60);
      if (!result.allowed) {
        throw new TansuError('RATE_LIMITED', `Too many attempts from this address; retry in ${result.retryAfter} s`, {
          extensions: { retryAfter: result.retryAfter },
        });
      }
    },
    async assertUnlocked(tenantId: string, email: string): Promise<void> {
      const ttl = await deps.limiter.ttl(`lock:${account(tenantId, email)}`);
      if (ttl > 0)
        throw new TansuError('RATE_LIMITED', `This account is locked after repeated failed sign-ins; retry in ${ttl} s`, { extensions: { retryAfter: ttl } });
    },
    async failed(tenantId: string, email: string): Promise<void> {
      const result = await deps.limiter.hit(`fail:${account(tenantId, email)}`, deps.lockoutThreshold - 1, deps.lockoutSeconds);
      if (!result.allowed) {
        await deps.limiter.set(`lock:${account(tenantId, email)}`, deps.lockoutSeconds);
        await deps.limiter.reset(`fail:${account(tenantId, email)}`);
      }
    },
    async succeeded(tenantId: string, email: string): Promise<void> {
      await deps.limiter.reset(`fail:${account(tenantId, email)}`);
    },
    /** Second-factor codes: wrong ones are counted per account, whichever path they came by. */
    async assertCodesAllowed(tenantId: string, userId: string): Promise<void> {
      if ((await deps.limiter.peek(`code:${tenantId}:${userId}`)) < CODE_FAILURES_PER_WINDOW) return;
      const ttl = Math.max(1, await deps.limiter.ttl(`code:${tenantId}:${userId}`));
      throw new TansuError('RATE_LIMITED', `Too many wrong codes for this account; retry in ${ttl} s`, { extensions: { retryAfter: ttl } });
    },
    async codeFailed(tenantId: string, userId: string): Promise<void> {
      await deps.limiter.hit(`code:${tenantId}:${userId}`, CODE_FAILURES_PER_WINDOW, deps.lockoutSeconds);
    },
    async codeSucceeded(tenantId: string, userId: string): Promise<void> {
      await deps.limiter.reset(`code:${tenantId}:${userId}`);
    },
    /** A password reset proves the owner: the lock and the failure count end. */
    async unlock(tenantId: string, email: string): Promise<void> {
      await deps.limiter.reset(`fail:${account(tenantId, email)}`);
      await deps.limiter.reset(`lock:${account(tenantId, email)}`);
    },
    /** Counts one account email to an address, so nobody can flood an inbox through us. */
    async mailAllowed(tenantId: string, email: string): Promise<void> {
      const result = await deps.limiter.hit(`mail:${account(tenantId, email)}`, MAILS_PER_ADDRESS_PER_HOUR, 3_600);
      if (!result.allowed) {
        throw new TansuError('RATE_LIMITED', `Too many emails to this address; retry in ${result.retryAfter} s`, {
          extensions: { retryAfter: result.retryAfter },
        });
      }
    },
  };
}
export type CredentialGuard = ReturnType<typeof createCredentialGuard>;
