import type { CallerContext } from '@tansu/platform/context-token';
import { TansuError, errors } from '@tansu/platform/errors';
import { PLATFORM_TENANT_SLUG } from './tenant-registry.ts';
import type { Role } from './entities.ts';

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

/** What an application acting for a user (a token issued to an OAuth client) may be granted. */
export const API_SCOPES = ['tansu:read', 'tansu:write', 'tansu:admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Each role can do what the roles below it can. */
const RANK: Record<string, number> = { VIEWER: 1, DEVELOPER: 2, ADMIN: 3, OWNER: 4 };
const WHO: Record<Role, string> = { VIEWER: 'members', DEVELOPER: 'owners, admins and developers', ADMIN: 'owners and admins', OWNER: 'owners' };

/**
 * The one authorization check every subgraph makes: the caller holds at least `role` in their
 * tenant, and when an application acts for them (a token issued to an OAuth client) it was
 * granted `scope`. A user's own session is limited by their roles alone.
 */
export function authorize(caller: CallerContext, need: { role: Role; scope: ApiScope; action: string }): TenantCaller {
  const c = requireTenantCaller(caller);
  const rank = Math.max(0, ...c.roles.map((r) => RANK[r] ?? 0));
  if (rank < RANK[need.role]!) throw errors.forbidden(`Only ${WHO[need.role]} may ${need.action}`);
  if (c.clientId !== undefined && !c.scopes.includes(need.scope)) {
    throw new TansuError('FORBIDDEN', `This application was not granted ${need.scope}, which it needs to ${need.action}`, {
      extensions: { scope: need.scope },
    });
  }
  return c;
}

/** The user holds OWNER or ADMIN in the platform tenant (whatever the token may do with it). */
function holdsPlatformAdminRole(caller: CallerContext): boolean {
  return caller.tenantSlug === PLATFORM_TENANT_SLUG && caller.roles.some((role) => role === 'OWNER' || role === 'ADMIN');
}

/**
 * The caller may act as a platform administrator: a platform OWNER or ADMIN in their own
 * session, or an application they granted `tansu:admin` (an application never holds more
 * than the scopes the user granted it, whoever the user is).
 */
export function isPlatformAdmin(caller: CallerContext): boolean {
  return holdsPlatformAdminRole(caller) && (caller.clientId === undefined || caller.scopes.includes('tansu:admin'));
}

export function requirePlatformAdmin(caller: CallerContext): TenantCaller {
  const tenantCaller = requireTenantCaller(caller);
  if (!holdsPlatformAdminRole(tenantCaller)) throw errors.forbidden('Only platform administrators may do this');
  // Says which scope an application lacks.
  return authorize(tenantCaller, { role: 'ADMIN', scope: 'tansu:admin', action: 'administer the platform' });
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
    throw new TansuError(
      'MFA_REQUIRED',
      'This operation needs a second factor verified in the last 10 minutes: call stepUp with a code, then retry with the new token',
      {
        extensions: { stepUp: true },
      },
    );
  }
}
