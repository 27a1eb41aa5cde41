import type { Database } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import type { RequestOrigin } from '@tansu/tenant-core/audit-log';
import { recordAudit } from '@tansu/tenant-core/audit-log';
import type { Tenant } from '@tansu/tenant-core/entities';
import { settingsOf } from '@tansu/tenant-core/settings';
import { ACCOUNT_DISABLED, normalizeEmail, type AuthService } from '../auth-service.ts';
import { UserEntity, type User } from '../entities.ts';
import type { IdentityProviderRecord } from './provider-settings.ts';

/** A password hash no password matches: the account signs in through its provider (or after a reset). */
const NO_PASSWORD = '!federated';

export interface UpstreamClaims {
  sub: string;
  email?: unknown;
  email_verified?: unknown;
}

/**
 * The user an upstream sign-in stands for: the account already linked to that upstream
 * subject; else the account with the same address, linked now, if the provider confirmed
 * the address and the account had verified it too; else a new account, if the tenant is open
 * to sign-up. An unconfirmed address never links: it would hand the account to whoever
 * controls the other side.
 */
export async function userForUpstream(
  deps: { db: Database; auth: AuthService },
  tenant: Tenant,
  provider: IdentityProviderRecord,
  claims: UpstreamClaims,
  origin?: RequestOrigin,
): Promise<User> {
  return deps.db.withTenant(tenant.id, async (em) => {
    const [linked] = await em.execute<{ user_id: string }[]>(`select user_id from identity.user_identities where provider_id = ? and subject = ?`, [
      provider.id,
      claims.sub,
    ]);
    let user = linked === undefined ? null : await em.findOne(UserEntity, { id: linked.user_id });
    const verified = claims.email_verified === true && typeof claims.email === 'string';
    let how = 'linked before';
    if (user === null) {
      if (!verified) throw errors.forbidden(`${provider.name} did not confirm an email address, so no account can be linked or created`);
      const email = normalizeEmail(claims.email as string);
      user = await em.findOne(UserEntity, { email });
      how = 'linked by verified email';
      // Both sides must have proven the address: otherwise whoever signed up with it first
      // (without owning the mailbox) would share the account with its real owner.
      if (user !== null && user.emailVerifiedAt == null) {
        throw errors.forbidden(`An account for ${email} exists but its address is not verified: sign in with its password and verify the address first`);
      }
      if (user === null) {
        if (!settingsOf(tenant).selfSignUp) throw errors.forbidden(`There is no ${tenant.name} account for ${email}; ask for an invitation`);
        user = await deps.auth.insertUser(em, tenant, { email, passwordHash: NO_PASSWORD, role: 'VIEWER', emailVerified: true });
        how = 'created';
      }
      await em.execute(`insert into identity.user_identities (id, tenant_id, user_id, provider_id, subject, email) values (?, ?, ?, ?, ?, ?)`, [
        crypto.randomUUID(),
        tenant.id,
        user.id,
        provider.id,
        claims.sub,
        email,
      ]);
    }
    if (user.disabledAt != null) throw errors.forbidden(ACCOUNT_DISABLED);
    await recordAudit(em, {
      tenantId: tenant.id,
      actorId: user.id,
      action: 'auth.sign_in',
      target: user.email,
      outcome: 'success',
      detail: { via: provider.slug, account: how },
      origin,
    });
    return user;
  });
}
