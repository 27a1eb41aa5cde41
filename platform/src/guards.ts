import type { CallerContext } from './context-token.ts';
import { TansuError, errors } from './errors.ts';
import { PLATFORM_TENANT_SLUG } from './tenants/tenant-registry.ts';

export interface TenantCaller extends CallerContext {
  tenantId: string;
  tenantSlug: string;
  subject: string;
}

/** The caller must be signed in to a tenant; returns the narrowed context. */
export function requireTenantCaller(caller: CallerContext): TenantCaller {
  if (caller.tenantId === undefined || caller.tenantSlug === undefined || caller.subject === undefined) {
    throw errors.unauthenticated();
  }
  return caller as TenantCaller;
}

export function isPlatformAdmin(caller: CallerContext): boolean {
  return caller.tenantSlug === PLATFORM_TENANT_SLUG && caller.roles.some((role) => role === 'OWNER' || role === 'ADMIN');
}

export function requirePlatformAdmin(caller: CallerContext): TenantCaller {
  const tenantCaller = requireTenantCaller(caller);
  if (!isPlatformAdmin(tenantCaller)) throw errors.forbidden('Only platform administrators may do this');
  return tenantCaller;
}

/** How recent a second factor must be for a sensitive operation (deleting a tenant, rotating keys, revealing a secret). */
export const STEP_UP_MAX_AGE_SECONDS = 600;

/**
 * The caller proved a second factor in the last ten minutes. Otherwise MFA_REQUIRED: the
 * client asks for a code and calls `stepUp`, then retries with the new token.
 */
export function requireRecentMfa(caller: CallerContext, now = Date.now()): void {
  const fresh = caller.amr?.includes('mfa') === true && caller.authTime !== undefined && now / 1000 - caller.authTime <= STEP_UP_MAX_AGE_SECONDS;
  if (!fresh) {
    throw new TansuError('MFA_REQUIRED', 'This operation needs a second factor verified in the last 10 minutes: call stepUp with a code, then retry with the new token', {
      extensions: { stepUp: true },
    });
  }
}
