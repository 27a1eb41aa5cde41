import { randomBytes } from 'node:crypto';
import type { Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import { MembershipEntity } from '@tansu/tenant-core/entities';
import type { Logger } from '@tansu/platform/logger';
import { PLATFORM_TENANT_SLUG, findTenantBySlug, provisionTenant } from '@tansu/tenant-core/tenant-registry';
import type { AuthService } from './auth-service.ts';

/**
 * First start: the reserved `platform` tenant and its OWNER, the platform administrator.
 * Idempotent and safe when several processes start together. Returns the generated password
 * when one had to be made (development only), so the caller can print it once.
 */
export async function bootstrapPlatformAdmin(deps: {
  db: Database;
  auth: AuthService;
  logger: Logger;
  email: string | undefined;
  password: string | undefined;
  allowGeneratedPassword: boolean;
}): Promise<{ created: boolean; email?: string; generatedPassword?: string }> {
  let tenant = await deps.db.global((em) => findTenantBySlug(em, PLATFORM_TENANT_SLUG));
  if (tenant === null) {
    tenant = await provisionTenant(deps.db, { slug: PLATFORM_TENANT_SLUG, name: 'Tansu platform', plan: 'enterprise' }, { allowReserved: true }).catch(
      async (error: unknown) => {
        if (error instanceof TansuError && error.code === 'CONFLICT') return deps.db.global((em) => findTenantBySlug(em, PLATFORM_TENANT_SLUG));
        throw error;
      },
    );
    if (tenant === null) throw new Error('platform tenant could not be created');
  }
  const platformTenant = tenant;
  const hasMembers = await deps.db.withTenant(platformTenant.id, (em) => em.count(MembershipEntity, { tenantId: platformTenant.id }));
  if (hasMembers > 0) return { created: false };

  if (deps.email === undefined && !deps.allowGeneratedPassword) {
    throw new Error('TANSU_ADMIN_EMAIL and TANSU_ADMIN_PASSWORD must be set to create the platform administrator');
  }
  const email = deps.email ?? 'admin@tansu.local';
  const generatedPassword = deps.password === undefined ? randomBytes(18).toString('base64url') : undefined;
  try {
    await deps.auth.createUser(platformTenant, { email, password: deps.password ?? generatedPassword! }, 'OWNER');
  } catch (error) {
    if (error instanceof TansuError && error.code === 'CONFLICT') return { created: false };
    throw error;
  }
  deps.logger.info({ email }, 'platform administrator created');
  return { created: true, email, generatedPassword };
}
