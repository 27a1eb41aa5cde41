import { LockMode } from '@mikro-orm/core';
import { isUuid } from '@tansu/platform/uuid';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import { TansuError, errors } from '@tansu/platform/errors';
import { authorize, requireTenantCaller, type TenantCaller } from '@tansu/tenant-core/guards';
import { recordAudit, recordAuditNow, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import type { Logger } from '@tansu/platform/logger';
import type { Mailer } from '@tansu/platform/mail/mailer';
import { TenantEntity, type Role, type Tenant } from '@tansu/tenant-core/entities';
import { settingsOf } from '@tansu/tenant-core/settings';
import { accountEmail, accountLink } from '@tansu/tenant-core/account-emails';
import { issueEmailToken, retireEmailTokens, type IssuedEmailToken } from '@tansu/tenant-core/email-tokens';
import { sendInvitation } from '@tansu/tenant-core/invitations';
import { ACCOUNT_DISABLED, endSessions, normalizeEmail, type AuthResult, type AuthService, type Credentials, type UserView } from '../auth-service.ts';
import type { CredentialGuard } from '../credential-guard.ts';
import { EmailTokenEntity, UserEntity, type User } from '../entities.ts';
import { hashPassword, validatePassword } from '../passwords.ts';
import { consumeEmailToken } from './email-tokens.ts';

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  expiresAt: Date;
  createdAt: Date;
}

/** An invitation as just issued, or as read back from its row. */
type InvitationRow = Pick<IssuedEmailToken, 'id' | 'email' | 'expiresAt' | 'createdAt'> & { role?: Role | null; createdBy?: string | null };

const invitationView = (row: InvitationRow): InvitationView => ({
  id: row.id,
  email: row.email,
  role: row.role ?? 'VIEWER',
  invitedBy: row.createdBy ?? null,
  expiresAt: row.expiresAt,
  createdAt: row.createdAt,
});

/**
 * What arrives by email: address verification, password reset and invitations. Each link
 * carries a single-use token; the email is sent inside the transaction that stores it, so a
 * mail server that refuses leaves no token behind.
 */
export function createAccountFlows(deps: {
  db: Database;
  auth: AuthService;
  mailer: Mailer;
  publicUrl: string;
  logger: Logger;
  guard?: CredentialGuard;
  revokeSessions?: (tenantId: string, userId: string) => Promise<void>;
}) {
  const { db, auth } = deps;

  async function tenantOf(caller: TenantCaller): Promise<Tenant> {
    const tenant = await db.global((em) => em.findOne(TenantEntity, { id: caller.tenantId }));
    if (tenant === null) throw errors.notFound('Tenant');
    return tenant;
  }

  async function sendVerification(em: EntityManager, tenant: Tenant, user: User): Promise<void> {
    await retireEmailTokens(em, { purpose: 'verify_email', userId: user.id });
    const { token } = await issueEmailToken(em, { tenantId: tenant.id, purpose: 'verify_email', email: user.email, userId: user.id });
    await deps.mailer.send(
      accountEmail({ purpose: 'verify_email', to: user.email, tenantName: tenant.name, link: accountLink(deps.publicUrl, tenant.slug, 'verify_email', token) }),
    );
  }

  /** Only owners and admins manage invitations; a caller disabled since their token was issued manages nothing. */
  async function requireManager(em: EntityManager, c: TenantCaller): Promise<void> {
    authorize(c, { role: 'ADMIN', scope: 'tansu:admin', action: 'manage invitations' });
    const self = await em.findOne(UserEntity, { id: c.subject });
    if (self === null || self.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
  }

  return {
    /**
     * Sign-up, then the verification email; a mail failure does not undo the account (the user
     * can ask again). When the tenant wants a factor or a verified address first, the account
     * exists and the answer is that error.
     */
    async signUp(input: Credentials, origin?: RequestOrigin): Promise<AuthResult> {
      const result = await auth.signUp(input, origin);
      const tenant = await auth.tenantBySlug(input.tenant);
      try {
        await db.withTenant(tenant.id, async (em) => {
          const user = await em.findOneOrFail(UserEntity, { id: result.user.id });
          await deps.guard?.mailAllowed(tenant.id, user.email);
          await sendVerification(em, tenant, user);
        });
      } catch (error) {
        deps.logger.warn({ err: error, tenant: tenant.slug }, 'verification email not sent at sign-up');
      }
      if (result.gate !== undefined) throw result.gate;
      return result.session!;
    },

    /**
     * A new verification link: for the signed-in user, or (for someone who cannot sign in
     * before verifying) for a tenant and address, answered `true` whether or not it has an
     * unverified account.
     */
    async sendVerificationEmail(caller: CallerContext, input?: { tenant: string; email: string } | null, origin?: RequestOrigin): Promise<boolean> {
      if (caller.tenantId === undefined && input != null) {
        await deps.guard?.throttle(origin?.ip);
        const tenant = await auth.tenantBySlug(input.tenant);
        const email = normalizeEmail(input.email);
        await deps.guard?.mailAllowed(tenant.id, email);
        await db.withTenant(tenant.id, async (em) => {
          const user = await em.findOne(UserEntity, { email });
          if (user !== null && user.emailVerifiedAt == null && user.disabledAt == null) await sendVerification(em, tenant, user);
        });
        return true;
      }
      const c = requireTenantCaller(caller);
      const tenant = await tenantOf(c);
      await db.withTenant(tenant.id, async (em) => {
        const user = await em.findOne(UserEntity, { id: c.subject });
        if (user === null) throw errors.notFound('User');
        if (user.emailVerifiedAt != null) throw errors.badInput('email', 'is already verified');
        await deps.guard?.mailAllowed(tenant.id, user.email);
        await sendVerification(em, tenant, user);
      });
      return true;
    },

    async verifyEmail(input: { tenant: string; token: string }, origin?: RequestOrigin): Promise<UserView> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      const userId = await db.withTenant(tenant.id, async (em) => {
        const token = await consumeEmailToken(em, 'verify_email', input.token);
        const user = token.userId === null ? null : await em.findOne(UserEntity, { id: token.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        // The address changed since the link was sent: it proves nothing about the new one.
        if (user === null || user.email !== token.email) throw new TansuError('TOKEN_INVALID', 'This link is not valid; check that you copied all of it');
        user.emailVerifiedAt ??= new Date();
        await recordAudit(em, { tenantId: tenant.id, actorId: user.id, action: 'user.email_verified', target: user.email, outcome: 'success', origin });
        return user.id;
      });
      const user = await auth.me(tenant.id, userId);
      if (user === null) throw errors.notFound('User');
      return user;
    },

    /**
     * Always true: the answer never tells whether the address has an account. The mail goes
     * out after the answer, so neither its timing nor a mail server's failure tells either
     * (and a slow mail server holds no database connection); a lost mail means asking again.
     */
    async requestPasswordReset(input: { tenant: string; email: string }, origin?: RequestOrigin): Promise<boolean> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      const email = normalizeEmail(input.email);
      await deps.guard?.mailAllowed(tenant.id, email);
      const token = await db.withTenant(tenant.id, async (em) => {
        const user = await em.findOne(UserEntity, { email });
        if (user === null || user.disabledAt != null) return null;
        await retireEmailTokens(em, { purpose: 'reset_password', userId: user.id });
        return (await issueEmailToken(em, { tenantId: tenant.id, purpose: 'reset_password', email, userId: user.id })).token;
      });
      await recordAuditNow(db, {
        tenantId: tenant.id,
        action: 'auth.password_reset_requested',
        target: email,
        outcome: token !== null ? 'success' : 'failure',
        detail: token !== null ? undefined : { reason: 'no active account' },
        origin,
      });
      if (token !== null) {
        const message = accountEmail({
          purpose: 'reset_password',
          to: email,
          tenantName: tenant.name,
          link: accountLink(deps.publicUrl, tenant.slug, 'reset_password', token),
        });
        void deps.mailer.send(message).catch((error: unknown) => deps.logger.warn({ err: error, tenant: tenant.slug }, 'password reset email not sent'));
      }
      return true;
    },

    /** Sets a new password with a reset link; every session of the account ends and a lockout lifts. */
    async resetPassword(input: { tenant: string; token: string; password: string }, origin?: RequestOrigin): Promise<boolean> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      validatePassword(input.password, settingsOf(tenant).passwordMinLength);
      const passwordHash = await hashPassword(input.password);
      const user = await db.withTenant(tenant.id, async (em) => {
        const token = await consumeEmailToken(em, 'reset_password', input.token);
        const row = token.userId === null ? null : await em.findOne(UserEntity, { id: token.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (row === null || row.email !== token.email) throw new TansuError('TOKEN_INVALID', 'This link is not valid; check that you copied all of it');
        if (row.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
        row.passwordHash = passwordHash;
        // Following the link proved the address.
        row.emailVerifiedAt ??= new Date();
        await endSessions(em, row.id);
        await retireEmailTokens(em, { purpose: 'reset_password', userId: row.id });
        await recordAudit(em, { tenantId: tenant.id, actorId: row.id, action: 'auth.password_reset', target: row.email, outcome: 'success', origin });
        return row;
      });
      await deps.guard?.unlock(tenant.id, user.email);
      await deps.revokeSessions?.(tenant.id, user.id);
      return true;
    },

    /** Invites an address with a role (owners, admins; only owners invite owners); a newer invitation replaces an older one. */
    async invite(caller: CallerContext, input: { email: string; role: Role }, origin?: RequestOrigin): Promise<InvitationView> {
      const c = requireTenantCaller(caller);
      if (input.role === 'OWNER' && !c.roles.includes('OWNER')) throw errors.forbidden('Only owners may invite owners');
      const email = normalizeEmail(input.email);
      const tenant = await tenantOf(c);
      return db.withTenant(tenant.id, async (em) => {
        await requireManager(em, c);
        if ((await em.count(UserEntity, { email })) > 0) throw errors.conflict('An account with that email already exists in this tenant');
        await deps.guard?.mailAllowed(tenant.id, email);
        const row = await sendInvitation(em, { mailer: deps.mailer, publicUrl: deps.publicUrl }, { tenant, email, role: input.role, createdBy: c.subject });
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: c.subject,
          action: 'user.invited',
          target: email,
          outcome: 'success',
          detail: { role: input.role },
          origin,
        });
        return invitationView(row);
      });
    },

    async invitations(caller: CallerContext): Promise<InvitationView[]> {
      const c = requireTenantCaller(caller);
      return db.withTenant(c.tenantId, async (em) => {
        await requireManager(em, c);
        const rows = await em.find(
          EmailTokenEntity,
          { purpose: 'invitation', usedAt: null, expiresAt: { $gt: new Date() } },
          { orderBy: { createdAt: 'desc' }, limit: 500 },
        );
        return rows.map(invitationView);
      });
    },

    async revokeInvitation(caller: CallerContext, id: string, origin?: RequestOrigin): Promise<boolean> {
      const c = requireTenantCaller(caller);
      if (!isUuid(id)) throw errors.badInput('id', 'is not an invitation id');
      return db.withTenant(c.tenantId, async (em) => {
        await requireManager(em, c);
        const row = await em.findOne(EmailTokenEntity, { id: id.toLowerCase(), purpose: 'invitation' });
        if (row === null) throw errors.notFound('Invitation');
        if (row.usedAt !== null) return false;
        row.usedAt = new Date();
        await recordAudit(em, { tenantId: c.tenantId, actorId: c.subject, action: 'user.invitation_revoked', target: row.email, outcome: 'success', origin });
        return true;
      });
    },

    /** Creates the invited account with the invitation's role (even when self sign-up is closed) and signs it in. */
    async acceptInvitation(input: { tenant: string; token: string; password: string }, origin?: RequestOrigin): Promise<AuthResult> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      validatePassword(input.password, settingsOf(tenant).passwordMinLength);
      const passwordHash = await hashPassword(input.password);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const token = await consumeEmailToken(em, 'invitation', input.token);
        const role = token.role ?? 'VIEWER';
        const user = await auth.insertUser(em, tenant, { email: token.email, passwordHash, role, emailVerified: true });
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: user.id,
          action: 'user.invitation_accepted',
          target: user.email,
          outcome: 'success',
          detail: { role, invitedBy: token.createdBy ?? null },
          origin,
        });
        return auth.firstSession(em, tenant, user, [role]);
      });
      // The account exists now; in a tenant that requires a factor, setting one up comes next.
      if (outcome.gate !== undefined) throw outcome.gate;
      return outcome.session!;
    },
  };
}
export type AccountFlows = ReturnType<typeof createAccountFlows>;
