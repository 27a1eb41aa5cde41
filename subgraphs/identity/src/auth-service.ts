import type { Database, EntityManager } from '@tansu/platform/db/database';
import { isUuid } from '@tansu/platform/uuid';
import type { CallerContext } from '@tansu/platform/context-token';
import { TansuError, errors } from '@tansu/platform/errors';
import { authorize } from '@tansu/tenant-core/guards';
import { LockMode } from '@mikro-orm/core';
import { recordAudit, recordAuditNow, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import { appendEvent } from '@tansu/platform/events/outbox';
import type { Role, Tenant } from '@tansu/tenant-core/entities';
import { addMembership, rolesOf, rolesOfMany } from '@tansu/tenant-core/memberships';
import { settingsOf } from '@tansu/tenant-core/settings';
import type { SigningKeyCache } from './signing-keys.ts';
import { PLATFORM_TENANT_SLUG, findTenantBySlug } from '@tansu/tenant-core/tenant-registry';
import { RefreshTokenEntity, UserEntity, type User } from './entities.ts';
import type { CredentialGuard } from './credential-guard.ts';
import { openChallenge } from './mfa/mfa-challenges.ts';
import { hasSecondFactor } from './mfa/second-factor.ts';
import { hashPassword, validatePassword, verifyPassword } from './passwords.ts';
import { hashOpaqueToken, issuerFor, newOpaqueToken, signAccessToken } from './tokens.ts';

export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: UserView;
}

export interface UserView {
  id: string;
  tenantId: string;
  email: string;
  roles: Role[];
  disabled: boolean;
  emailVerified: boolean;
  createdAt: Date;
}

/** How a session was authenticated: carried into every access token and kept across refreshes. */
export interface SessionAuth {
  amr: string[];
  authTime: Date;
}

export interface Credentials {
  tenant: string;
  email: string;
  password: string;
}

/** Control characters (NUL among them) are no part of an address, and Postgres cannot store NUL. */
const EMAIL_PATTERN = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;
const INVALID_CREDENTIALS = 'Invalid email or password';
export const ACCOUNT_DISABLED = 'This account is disabled';

function userView(user: User, tenantId: string, roles: Role[]): UserView {
  return {
    id: user.id,
    tenantId,
    email: user.email,
    roles,
    disabled: user.disabledAt != null,
    emailVerified: user.emailVerifiedAt != null,
    createdAt: user.createdAt,
  };
}

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !EMAIL_PATTERN.test(normalized)) throw errors.badInput('email', 'is not a valid email address');
  return normalized;
}

const REFRESH_FAILURES = {
  invalid: { reason: 'invalid or expired', message: 'Invalid or expired refresh token' },
  reused: { reason: 'reused token: family revoked', message: 'Refresh token was already used; sign in again' },
  disabled: { reason: 'account disabled', message: ACCOUNT_DISABLED },
  unverified: { reason: 'email not verified', message: 'Verify your email address before signing in; the link is in your inbox' },
} as const;

/** The answer to a password that was right when a second factor is still due (or must be set up first). */
function secondFactorGate(mfaToken: string, enroll: boolean): TansuError {
  return new TansuError(
    'MFA_REQUIRED',
    enroll
      ? 'This tenant requires a second factor: set one up with enrollTotp and confirmTotp (or a passkey), passing mfaToken'
      : 'Finish signing in with verifyMfa (a code from your authenticator, or a recovery code) or with a passkey (startPasskeySignIn), passing mfaToken',
    { extensions: { mfaToken, enroll } },
  );
}

/**
 * Revokes the matching refresh tokens that are not yet revoked. Twice: a refresh that claimed
 * a token before the first pass holds that row until it commits the token's successor, which
 * only a later statement sees; a refresh that claims after the first pass finds its token revoked.
 */
export async function revokeRefreshTokens(em: EntityManager, where: { userId: string } | { familyId: string }): Promise<void> {
  for (let pass = 0; pass < 2; pass++) await em.nativeUpdate(RefreshTokenEntity, { ...where, revokedAt: null }, { revokedAt: new Date() });
}

/** Ends every session of a user now, not at its expiry: password sessions and the issuer's grants. */
export async function endSessions(em: EntityManager, userId: string): Promise<void> {
  await revokeRefreshTokens(em, { userId });
  await em.execute(
    `delete from identity.oidc_payloads where payload->>'accountId' = ?
       or grant_id in (select grant_id from identity.oidc_payloads where payload->>'accountId' = ? and grant_id is not null)`,
    [userId, userId],
  );
}

/** Sign-up, sign-in, refresh and the current user: identity's domain, free of GraphQL. */
export function createAuthService(deps: {
  db: Database;
  keys: SigningKeyCache;
  publicUrl: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  /** Rate limits and account lockout; without it (unit use) credentials are not throttled. */
  guard?: CredentialGuard;
  /** Voids a user's access tokens at the routers once their sessions end. */
  revokeSessions?: (tenantId: string, userId: string) => Promise<void>;
}) {
  const { db } = deps;

  async function tenantBySlug(slug: string): Promise<Tenant> {
    const tenant = typeof slug === 'string' && slug.length <= 64 ? await db.global((em) => findTenantBySlug(em, slug)) : null;
    if (tenant === null || tenant.status === 'DELETED') throw errors.notFound(`Tenant "${String(slug).slice(0, 64)}"`);
    if (tenant.status === 'SUSPENDED') throw errors.forbidden('This tenant is suspended');
    return tenant;
  }

  async function issueTokens(
    em: EntityManager,
    tenant: Tenant,
    user: User,
    roles: Role[],
    familyId: string,
    auth: SessionAuth = { amr: ['pwd'], authTime: new Date() },
  ): Promise<AuthResult> {
    const key = await deps.keys.active(em, tenant.id);
    const accessToken = await signAccessToken(key, {
      issuer: issuerFor(deps.publicUrl, tenant.slug),
      audience: deps.audience,
      subject: user.id,
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      roles,
      scope: 'openid',
      ttlSeconds: deps.accessTokenTtlSeconds,
      amr: auth.amr,
      authTime: auth.authTime,
    });
    const refresh = newOpaqueToken();
    em.create(RefreshTokenEntity, {
      id: crypto.randomUUID(),
      tenantId: tenant.id,
      userId: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + (settingsOf(tenant).sessionLifetimeSeconds ?? deps.refreshTokenTtlSeconds) * 1000),
      rotatedAt: null,
      revokedAt: null,
      amr: auth.amr,
      authTime: auth.authTime,
    });
    return {
      accessToken,
      refreshToken: refresh.token,
      expiresIn: deps.accessTokenTtlSeconds,
      user: userView(user, tenant.id, roles),
    };
  }

  /** Adds a user and their membership in the caller's transaction; a taken address is CONFLICT. */
  async function insertUser(
    em: EntityManager,
    tenant: Tenant,
    fields: { email: string; passwordHash: string; role: Role; emailVerified: boolean },
  ): Promise<User> {
    if ((await em.count(UserEntity, { email: fields.email })) > 0) throw errors.conflict('An account with that email already exists in this tenant');
    const user = em.create(UserEntity, {
      id: crypto.randomUUID(),
      tenantId: tenant.id,
      email: fields.email,
      passwordHash: fields.passwordHash,
      emailVerifiedAt: fields.emailVerified ? new Date() : null,
      disabledAt: null,
    });
    addMembership(em, tenant.id, user.id, fields.role);
    appendEvent(em, { tenantId: tenant.id, topic: 'user.signed_up', payload: { userId: user.id, email: fields.email } });
    await em.flush();
    return user;
  }

  /** Creates a user in a tenant; `role` is for the platform's own bootstrap, never for clients. */
  async function createUser(tenant: Tenant, input: { email: string; password: string }, role: Role): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    validatePassword(input.password, settingsOf(tenant).passwordMinLength);
    const passwordHash = await hashPassword(input.password);
    try {
      return await db.withTenant(tenant.id, async (em) => {
        const user = await insertUser(em, tenant, { email, passwordHash, role, emailVerified: false });
        return issueTokens(em, tenant, user, [role], crypto.randomUUID());
      });
    } catch (error) {
      if (error instanceof Error && 'code' in error && (error as { code: unknown }).code === 'CONFLICT') {
        throw errors.conflict('An account with that email already exists in this tenant');
      }
      throw error;
    }
  }

  /**
   * The user whose email and password these are, or null (same work either way). Every
   * attempt is audited: who tried, from where, and how it ended.
   */
  async function verifyCredentials(tenant: Tenant, rawEmail: string, password: unknown, origin?: RequestOrigin): Promise<User | null> {
    const attempt = { tenantId: tenant.id, action: 'auth.sign_in', target: String(rawEmail).trim().toLowerCase().slice(0, 254), origin };
    // Counted before anything else is looked at: a malformed attempt spends the budget too.
    try {
      await deps.guard?.throttle(origin?.ip);
    } catch (error) {
      await recordAuditNow(db, { ...attempt, outcome: 'failure', detail: { reason: error instanceof TansuError ? error.message : 'refused' } });
      throw error;
    }
    const email = normalizeEmail(rawEmail);
    try {
      await deps.guard?.assertUnlocked(tenant.id, email);
    } catch (error) {
      await recordAuditNow(db, { ...attempt, outcome: 'failure', detail: { reason: error instanceof TansuError ? error.message : 'refused' } });
      throw error;
    }
    const user = typeof password === 'string' && password.length <= 256 ? await db.withTenant(tenant.id, (em) => em.findOne(UserEntity, { email })) : null;
    if (typeof password !== 'string' || !(await verifyPassword(user?.passwordHash, password)) || user === null) {
      await deps.guard?.failed(tenant.id, email);
      await recordAuditNow(db, { ...attempt, actorId: user?.id ?? null, outcome: 'failure', detail: { reason: 'invalid credentials' } });
      return null;
    }
    await deps.guard?.succeeded(tenant.id, email);
    if (user.disabledAt !== null) {
      await recordAuditNow(db, { ...attempt, actorId: user.id, outcome: 'failure', detail: { reason: 'account disabled' } });
      throw errors.forbidden(ACCOUNT_DISABLED);
    }
    if (settingsOf(tenant).emailVerificationRequired && user.emailVerifiedAt == null) {
      await recordAuditNow(db, { ...attempt, actorId: user.id, outcome: 'failure', detail: { reason: 'email not verified' } });
      throw new TansuError('EMAIL_NOT_VERIFIED', 'Verify your email address before signing in; the link is in your inbox');
    }
    await recordAuditNow(db, { ...attempt, actorId: user.id, outcome: 'success' });
    return user;
  }

  return {
    tenantBySlug,
    createUser,
    insertUser,
    /** A new session (access and refresh token) for a user, in the caller's transaction. */
    startSession: (em: EntityManager, tenant: Tenant, user: User, roles: Role[], auth?: SessionAuth) =>
      issueTokens(em, tenant, user, roles, crypto.randomUUID(), auth),

    /**
     * Creates the account. Its first session comes at once, unless the tenant wants a second
     * factor set up first (`gate` is MFA_REQUIRED with an enrolment mfaToken) or the address
     * verified first (`gate` is EMAIL_NOT_VERIFIED): the account exists either way.
     */
    async signUp(input: Credentials, origin?: RequestOrigin): Promise<{ user: UserView; session?: AuthResult; gate?: TansuError }> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await tenantBySlug(input.tenant);
      if (tenant.slug === PLATFORM_TENANT_SLUG || !settingsOf(tenant).selfSignUp) throw errors.forbidden('Self sign-up is closed for this tenant');
      const email = normalizeEmail(input.email);
      validatePassword(input.password, settingsOf(tenant).passwordMinLength);
      const passwordHash = await hashPassword(input.password);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const user = await insertUser(em, tenant, { email, passwordHash, role: 'VIEWER', emailVerified: false });
        const view = userView(user, tenant.id, ['VIEWER']);
        if (settingsOf(tenant).mfaRequired) return { user: view, gate: secondFactorGate(openChallenge(em, tenant.id, user.id), true) };
        if (settingsOf(tenant).emailVerificationRequired) {
          return { user: view, gate: new TansuError('EMAIL_NOT_VERIFIED', 'Account created: confirm your address with the link we sent, then sign in') };
        }
        return { user: view, session: await issueTokens(em, tenant, user, ['VIEWER'], crypto.randomUUID()) };
      });
      await recordAuditNow(db, { tenantId: tenant.id, actorId: outcome.user.id, action: 'auth.sign_up', target: email, outcome: 'success', origin });
      return outcome;
    },

    /** In the caller's transaction: a session for a new account, or MFA_REQUIRED (enrolment) when the tenant wants a factor first. */
    async firstSession(em: EntityManager, tenant: Tenant, user: User, roles: Role[]): Promise<{ session?: AuthResult; gate?: TansuError }> {
      if (settingsOf(tenant).mfaRequired) return { gate: secondFactorGate(openChallenge(em, tenant.id, user.id), true) };
      return { session: await issueTokens(em, tenant, user, roles, crypto.randomUUID()) };
    },

    verifyCredentials,

    /**
     * Password sign-in. A user with a second factor (or in a tenant that requires one) gets no
     * tokens yet: MFA_REQUIRED carries a single-use `mfaToken` for `verifyMfa` (or, with
     * `enroll`, for setting a factor up first).
     */
    async signIn(input: Credentials, origin?: RequestOrigin): Promise<AuthResult> {
      const tenant = await tenantBySlug(input.tenant);
      const user = await verifyCredentials(tenant, input.email, input.password, origin);
      if (user === null) throw errors.unauthenticated(INVALID_CREDENTIALS);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        // Read again under a share lock: a disable that commits meanwhile is not outrun.
        const current = await em.findOne(UserEntity, { id: user.id }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (current === null) throw errors.unauthenticated(INVALID_CREDENTIALS);
        if (current.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
        const hasFactor = await hasSecondFactor(em, current.id);
        if (hasFactor || settingsOf(tenant).mfaRequired) return { mfaToken: openChallenge(em, tenant.id, current.id), enroll: !hasFactor };
        return { result: await issueTokens(em, tenant, current, await rolesOf(em, tenant.id, current.id), crypto.randomUUID()) };
      });
      if (outcome.result !== undefined) return outcome.result;
      throw secondFactorGate(outcome.mfaToken, outcome.enroll);
    },

    /**
     * Rotation: a refresh token works once. Presented again within the grace window it still
     * works; after it, the reuse revokes the whole family.
     */
    async refresh(input: { tenant: string; refreshToken: string }, origin?: RequestOrigin): Promise<AuthResult> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await tenantBySlug(input.tenant);
      const tokenHash = hashOpaqueToken(String(input.refreshToken));
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const row = await em.findOne(RefreshTokenEntity, { tokenHash });
        if (row === null || row.revokedAt !== null || row.expiresAt.getTime() < Date.now()) return { error: 'invalid' as const };
        const claimed = await em.nativeUpdate(RefreshTokenEntity, { id: row.id, rotatedAt: null, revokedAt: null }, { rotatedAt: new Date() });
        // Within the grace window a rotated token still works (two tabs refreshing at once).
        // A concurrent request may have rotated it, or its session ended, after it was read: ask again.
        const current =
          claimed === 0
            ? (
                await em.execute<{ rotated_at: Date | null; revoked_at: Date | null }[]>(
                  `select rotated_at, revoked_at from identity.refresh_tokens where id = ?`,
                  [row.id],
                )
              )[0]
            : undefined;
        if (current?.revoked_at != null) return { error: 'invalid' as const };
        const rotatedAt = current?.rotated_at;
        const inGrace = claimed === 0 && rotatedAt != null && Date.now() - new Date(rotatedAt).getTime() < deps.refreshReuseGraceSeconds * 1000;
        if (claimed === 0 && !inGrace) {
          await em.nativeUpdate(RefreshTokenEntity, { familyId: row.familyId, revokedAt: null }, { revokedAt: new Date() });
          return { error: 'reused' as const };
        }
        const user = await em.findOne(UserEntity, { id: row.userId }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (user === null) return { error: 'invalid' as const };
        if (user.disabledAt !== null) {
          await em.nativeUpdate(RefreshTokenEntity, { familyId: row.familyId, revokedAt: null }, { revokedAt: new Date() });
          return { error: 'disabled' as const };
        }
        // A tenant that requires verified addresses does not let an unverified one keep a session.
        if (settingsOf(tenant).emailVerificationRequired && user.emailVerifiedAt == null) return { error: 'unverified' as const };
        // The new pair is as strong as the session it continues.
        const auth = { amr: row.amr ?? ['pwd'], authTime: row.authTime ?? row.createdAt };
        return { result: await issueTokens(em, tenant, user, await rolesOf(em, tenant.id, user.id), row.familyId, auth) };
      });
      const audit = { tenantId: tenant.id, action: 'auth.refresh', origin };
      if (outcome.error !== undefined) {
        const failure = REFRESH_FAILURES[outcome.error];
        await recordAuditNow(db, { ...audit, outcome: 'failure', detail: { reason: failure.reason } });
        throw outcome.error === 'unverified' ? new TansuError('EMAIL_NOT_VERIFIED', failure.message) : errors.unauthenticated(failure.message);
      }
      await recordAuditNow(db, { ...audit, actorId: outcome.result.user.id, outcome: 'success' });
      return outcome.result;
    },

    async me(tenantId: string, userId: string): Promise<UserView | null> {
      return db.withTenant(tenantId, async (em) => {
        const user = await em.findOne(UserEntity, { id: userId });
        if (user === null) return null;
        return userView(user, tenantId, await rolesOf(em, tenantId, user.id));
      });
    },

    /** A page of the caller's tenant's users, oldest first (owners and admins). */
    async listUsers(
      caller: CallerContext,
      first: number,
      after: string | null | undefined,
    ): Promise<{ users: UserView[]; endCursor: string | null; hasMore: boolean }> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: "list the tenant's users" });
      if (!Number.isInteger(first) || first < 1 || first > 200) throw errors.badInput('first', 'must be between 1 and 200');
      let cursor: { createdAt: Date; id: string } | undefined;
      if (after != null) {
        const [at, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
        const time = Date.parse(at ?? '');
        if (Number.isNaN(time) || id === undefined || !/^[0-9a-f-]{36}$/.test(id)) throw errors.badInput('after', 'is not a valid cursor');
        cursor = { createdAt: new Date(time), id };
      }
      return db.withTenant(c.tenantId, async (em) => {
        const rows = await em.find(
          UserEntity,
          cursor === undefined ? {} : { $or: [{ createdAt: { $gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $gt: cursor.id } }] },
          { orderBy: { createdAt: 'asc', id: 'asc' }, limit: first + 1 },
        );
        const page = rows.slice(0, first);
        const roles = await rolesOfMany(
          em,
          c.tenantId,
          page.map((u) => u.id),
        );
        const last = page.at(-1);
        return {
          users: page.map((u) => userView(u, c.tenantId, roles.get(u.id) ?? [])),
          hasMore: rows.length > first,
          endCursor: last === undefined ? null : Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url'),
        };
      });
    },

    /**
     * Owners and admins disable or enable a member; only an owner may change an owner, nobody
     * changes themselves, a disabled caller changes nobody, and an enabled owner always remains.
     */
    async setDisabled(caller: CallerContext, userId: string, disabled: boolean): Promise<UserView> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: 'disable users' });
      if (!isUuid(userId)) throw errors.badInput('userId', 'is not a user id');
      const view = await db.withTenant(c.tenantId, async (em) => {
        // Both rows locked in one order: two owners disabling each other are serialised, and
        // the second finds itself disabled. An owner can only be disabled by another, enabled
        // owner, so an enabled owner always remains.
        const rows = await em.find(UserEntity, { id: { $in: [userId, c.subject] } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
        const user = rows.find((u) => u.id === userId.toLowerCase());
        const self = rows.find((u) => u.id === c.subject);
        if (user === undefined) throw errors.notFound('User');
        if (user.id === c.subject) throw errors.badInput('userId', 'you cannot disable or enable yourself');
        // The caller's token may predate their own disabling.
        if (self === undefined || self.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
        const roles = await rolesOf(em, c.tenantId, user.id);
        if (roles.includes('OWNER') && !c.roles.includes('OWNER')) throw errors.forbidden('Only owners may disable or enable an owner');
        if ((user.disabledAt !== null) === disabled) return userView(user, c.tenantId, roles);
        user.disabledAt = disabled ? new Date() : null;
        if (disabled) {
          await endSessions(em, user.id);
        }
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: disabled ? 'user.disabled' : 'user.enabled',
          target: user.id,
          outcome: 'success',
        });
        return userView(user, c.tenantId, roles);
      });
      // Access tokens already issued stop at the routers now, not at their expiry.
      if (disabled) await deps.revokeSessions?.(c.tenantId, view.id);
      return view;
    },

    async usersByIds(tenantId: string, ids: readonly string[]): Promise<(UserView | null)[]> {
      return db.withTenant(tenantId, async (em) => {
        const users = await em.find(UserEntity, { id: { $in: [...ids] } });
        const byId = new Map(users.map((u) => [u.id, u]));
        const roles = await rolesOfMany(
          em,
          tenantId,
          users.map((u) => u.id),
        );
        return ids.map((id) => {
          const user = byId.get(id);
          return user === undefined ? null : userView(user, tenantId, roles.get(id) ?? []);
        });
      });
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
