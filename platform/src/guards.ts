import type { CallerContext } from './context-token.ts';
import { errors } from './errors.ts';
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
