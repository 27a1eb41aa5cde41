import type { CallerContext } from '@tansu/platform/context-token';
import { TansuError, errors } from '@tansu/platform/errors';
import type { RequestQuota } from '@tansu/tenant-core/contracts/request-quota';
import type { RateLimiter } from '@tansu/platform/rate-limit';
import type { SessionRevocations } from '@tansu/tenant-core/contracts/session-revocations';
import type { TenantStatusWatcher } from '@tansu/tenant-core/contracts/tenant-status';
import type { Authenticator } from '../auth/authenticator.ts';
import type { AdmissionStep, Authenticate } from './admission.ts';

export const ANONYMOUS: CallerContext = Object.freeze({ roles: [], scopes: [] }) as CallerContext;

/** Bearer tokens verified against the issuing tenant's keys; without an authenticator every caller is anonymous (standalone `--no-auth`). */
export function useAuthentication(authenticator: Authenticator | undefined): Authenticate {
  return async (request) => {
    if (authenticator === undefined) return ANONYMOUS;
    if (request.authorization.length > 1) throw errors.unauthenticated('Send one Authorization header');
    return (await authenticator.authenticate(request.authorization[0], { clientIp: request.clientIp })) ?? ANONYMOUS;
  };
}

/** `x-tenant-id`, when sent, must name the token's own tenant (by slug or id). */
export function useTenantHeader(): AdmissionStep {
  return (request, caller) => {
    const named = request.tenantHeader;
    if (named === undefined || caller.tenantId === undefined || named === caller.tenantSlug || named === caller.tenantId) return;
    throw errors.forbidden(`Token belongs to another tenant than "${named.slice(0, 64)}"`);
  };
}

/** Suspended and deleted tenants' tokens are refused at once. */
export function useTenantStatus(status: TenantStatusWatcher): AdmissionStep {
  return (_request, caller) => {
    if (status.isBlocked(caller.tenantId)) throw errors.forbidden('This tenant is suspended');
  };
}

/** Tokens issued before a user's sessions were ended, or before their roles changed. */
export function useSessionRevocation(revocations: SessionRevocations): AdmissionStep {
  return (_request, caller) => {
    const revocation = revocations.revocationOf(caller);
    if (revocation === undefined) return;
    throw errors.unauthenticated(
      revocation.reason === 'roles'
        ? 'Your roles in this tenant changed after this token was issued: refresh it (refreshToken) or sign in again'
        : 'This session was ended; sign in again',
    );
  };
}

/**
 * Callers without a token are counted per client address (all routers together): signing up
 * and in is open to anyone, so anyone's share of it is bounded. Addresses the router cannot
 * tell share one budget.
 */
export function useAnonymousLimit(limiter: RateLimiter, perMinute: number): AdmissionStep {
  return async (request, caller) => {
    if (!request.counted || caller.tenantId !== undefined) return;
    const result = await limiter.hit(`anon:${request.clientIp ?? 'unknown'}`, perMinute, 60);
    if (!result.allowed) {
      throw new TansuError('RATE_LIMITED', `Too many requests without a token from this address; retry in ${result.retryAfter} s`, {
        extensions: { retryAfter: result.retryAfter },
      });
    }
  };
}

/** Each tenant's requests per minute under its plan, counted once per request or operation. */
export function useRequestQuota(quota: RequestQuota): AdmissionStep {
  return async (request, caller) => {
    if (request.counted) await quota.admit(caller.tenantId);
  };
}
