import { LockMode } from '@mikro-orm/core';
import { isUuid } from '@tansu/platform/uuid';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import { decryptSecret, encryptSecret } from '@tansu/platform/crypto/key-encryption';
import { TansuError, errors } from '@tansu/platform/errors';
import { authorize, requireRecentMfa } from '@tansu/tenant-core/guards';
import { recordAudit, recordAuditNow, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import { TenantEntity, type Tenant } from '@tansu/tenant-core/entities';
import { rolesOf } from '@tansu/tenant-core/memberships';
import { settingsOf } from '@tansu/tenant-core/settings';
import { ACCOUNT_DISABLED, type AuthResult, type AuthService } from '../auth-service.ts';
import type { CredentialGuard } from '../credential-guard.ts';
import { UserEntity, type User } from '../entities.ts';
import { MfaFactorEntity, type MfaChallenge, type MfaFactor } from './entities.ts';
import { MAX_CODE_FAILURES, lockChallenge } from './mfa-challenges.ts';
import { hasSecondFactor, newRecoveryCodes, proveSecondFactor } from './second-factor.ts';
import { matchTotp, newTotpSecret, totpUri } from './totp.ts';

export interface FactorView {
  id: string;
  kind: 'totp' | 'webauthn';
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** Who is setting up or proving a factor: a signed-in caller, or someone between password and second factor. */
export interface ChallengeInput {
  tenant?: string | null;
  mfaToken?: string | null;
}

/** A user's own factors: any member; an application acting for them needs tansu:admin. */
const SELF_SERVICE = { role: 'VIEWER', scope: 'tansu:admin', action: 'manage second factors' } as const;

const factorView = (f: MfaFactor): FactorView => ({ id: f.id, kind: f.kind, name: f.name, createdAt: f.createdAt, lastUsedAt: f.lastUsedAt ?? null });
const MFA = (authTime: Date) => ({ amr: ['pwd', 'mfa'], authTime });

/**
 * Second factors: TOTP authenticators with recovery codes, the second step of a sign-in, and
 * step-up (a fresh proof that sensitive operations ask for).
 */
export function createMfaService(deps: { db: Database; kek: Buffer; auth: AuthService; guard?: CredentialGuard }) {
  const { db, auth } = deps;

  async function tenantById(id: string): Promise<Tenant> {
    const tenant = await db.global((em) => em.findOne(TenantEntity, { id }));
    if (tenant === null || tenant.status !== 'ACTIVE') throw errors.forbidden('This tenant is not active');
    return tenant;
  }

  async function session(em: EntityManager, tenant: Tenant, user: User): Promise<AuthResult> {
    if (user.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
    return auth.startSession(em, tenant, user, await rolesOf(em, tenant.id, user.id), MFA(new Date()));
  }

  /**
   * The user a factor is being set up for. With a challenge, only a user who has no factor
   * yet (a tenant requiring one): a password alone must never add a factor to a protected account.
   */
  async function enrollingUser(em: EntityManager, caller: CallerContext, input: ChallengeInput): Promise<{ user: User; challenge?: MfaChallenge }> {
    if (input.mfaToken != null) {
      const challenge = await lockChallenge(em, input.mfaToken);
      if (await hasSecondFactor(em, challenge.userId)) throw errors.forbidden('This account already has a second factor: sign in with it (verifyMfa) first');
      const user = await em.findOneOrFail(UserEntity, { id: challenge.userId });
      return { user, challenge };
    }
    const c = authorize(caller, SELF_SERVICE);
    const user = await em.findOne(UserEntity, { id: c.subject }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (user === null || user.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
    // Adding a factor beside an existing one is as sensitive as removing one.
    if (await hasSecondFactor(em, user.id)) requireRecentMfa(caller);
    return { user };
  }

  /** The tenant of the call: the caller's, or the one named beside the challenge. */
  async function tenantOf(caller: CallerContext, input: ChallengeInput): Promise<Tenant> {
    if (input.mfaToken != null) {
      if (input.tenant == null) throw errors.badInput('tenant', 'is required with mfaToken');
      return auth.tenantBySlug(input.tenant);
    }
    return tenantById(authorize(caller, SELF_SERVICE).tenantId);
  }

  return {
    /** Starts setting up an authenticator app: the secret and its otpauth:// URI (for a QR code), until confirmed with a code. */
    async enrollTotp(caller: CallerContext, input: ChallengeInput & { name?: string | null }): Promise<{ factorId: string; secret: string; uri: string }> {
      const tenant = await tenantOf(caller, input);
      const name = (input.name ?? 'Authenticator app').trim();
      if (name.length === 0 || name.length > 100) throw errors.badInput('name', 'must be 1-100 characters');
      return db.withTenant(tenant.id, async (em) => {
        const { user } = await enrollingUser(em, caller, input);
        // An abandoned set-up is replaced, not accumulated.
        await em.nativeDelete(MfaFactorEntity, { userId: user.id, kind: 'totp', confirmedAt: null });
        const secret = newTotpSecret();
        const factor = em.create(MfaFactorEntity, {
          id: crypto.randomUUID(),
          tenantId: tenant.id,
          userId: user.id,
          kind: 'totp',
          name,
          secretSealed: encryptSecret(deps.kek, secret),
          confirmedAt: null,
        });
        return { factorId: factor.id, secret, uri: totpUri(secret, tenant.name, user.email) };
      });
    },

    /**
     * Confirms an authenticator with a code from it. The first factor comes with ten recovery
     * codes (shown this once). The answer carries a session proven by the new factor.
     */
    async confirmTotp(
      caller: CallerContext,
      input: ChallengeInput & { factorId: string; code: string },
      origin?: RequestOrigin,
    ): Promise<{ recoveryCodes: string[]; session: AuthResult }> {
      const tenant = await tenantOf(caller, input);
      if (!isUuid(input.factorId)) throw errors.badInput('factorId', 'is not a factor id');
      return db.withTenant(tenant.id, async (em) => {
        const { user, challenge } = await enrollingUser(em, caller, input);
        const factor = await em.findOne(MfaFactorEntity, { id: input.factorId.toLowerCase(), userId: user.id, kind: 'totp', confirmedAt: null });
        if (factor === null) throw errors.notFound('Factor being set up');
        const step = matchTotp(decryptSecret(deps.kek, factor.secretSealed ?? ''), input.code.trim());
        if (step === null) throw errors.badInput('code', 'does not match; check the clock of the device and enter the current code');
        const first = !(await hasSecondFactor(em, user.id));
        factor.confirmedAt = new Date();
        factor.lastUsedStep = step;
        factor.lastUsedAt = new Date();
        await em.flush();
        const recoveryCodes = first ? await newRecoveryCodes(em, tenant.id, user.id) : [];
        if (challenge !== undefined) challenge.usedAt = new Date();
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: user.id,
          action: 'mfa.enrolled',
          target: factor.id,
          outcome: 'success',
          detail: { kind: 'totp' },
          origin,
        });
        return { recoveryCodes, session: await session(em, tenant, user) };
      });
    },

    /** The second step of a sign-in: a code from an authenticator, or a recovery code. */
    async verifyMfa(input: { tenant: string; mfaToken: string; code: string }, origin?: RequestOrigin): Promise<AuthResult> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const challenge = await lockChallenge(em, input.mfaToken);
        const user = await em.findOneOrFail(UserEntity, { id: challenge.userId }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (!(await hasSecondFactor(em, user.id)))
          throw new TansuError('MFA_REQUIRED', 'Set up a second factor first (enrollTotp, confirmTotp)', { extensions: { enroll: true } });
        await deps.guard?.assertCodesAllowed(tenant.id, user.id);
        const proof = await proveSecondFactor(em, deps.kek, user.id, input.code);
        if (proof === null) {
          // The failure is kept (this transaction commits); enough of them spend the challenge.
          challenge.failedAttempts += 1;
          if (challenge.failedAttempts >= MAX_CODE_FAILURES) challenge.usedAt = new Date();
          return { failed: MAX_CODE_FAILURES - challenge.failedAttempts, userId: user.id };
        }
        challenge.usedAt = new Date();
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: user.id,
          action: 'auth.mfa_verified',
          target: user.email,
          outcome: 'success',
          detail: { factor: proof },
          origin,
        });
        return { result: await session(em, tenant, user) };
      });
      if (outcome.result !== undefined) {
        await deps.guard?.codeSucceeded(tenant.id, outcome.result.user.id);
        return outcome.result;
      }
      await deps.guard?.codeFailed(tenant.id, outcome.userId);
      await recordAuditNow(db, {
        tenantId: tenant.id,
        actorId: outcome.userId,
        action: 'auth.mfa_verified',
        outcome: 'failure',
        detail: { reason: 'wrong code' },
        origin,
      });
      throw errors.badInput('code', outcome.failed > 0 ? `is not valid (${outcome.failed} attempts left)` : 'is not valid; sign in again');
    },

    /** A fresh proof of the second factor for a signed-in user: a new session whose tokens pass step-up for ten minutes. */
    async stepUp(caller: CallerContext, code: string, origin?: RequestOrigin): Promise<AuthResult> {
      const c = authorize(caller, SELF_SERVICE);
      await deps.guard?.throttle(origin?.ip);
      const tenant = await tenantById(c.tenantId);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const user = await em.findOne(UserEntity, { id: c.subject }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (user === null || user.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
        await deps.guard?.assertCodesAllowed(tenant.id, user.id);
        if (!(await hasSecondFactor(em, user.id)))
          throw new TansuError('MFA_REQUIRED', 'Set up a second factor first (enrollTotp, confirmTotp)', { extensions: { enroll: true } });
        const proof = await proveSecondFactor(em, deps.kek, user.id, code);
        if (proof === null) return { failed: true as const };
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: user.id,
          action: 'auth.step_up',
          target: user.email,
          outcome: 'success',
          detail: { factor: proof },
          origin,
        });
        return { result: await session(em, tenant, user) };
      });
      if (outcome.result !== undefined) {
        await deps.guard?.codeSucceeded(tenant.id, c.subject);
        return outcome.result;
      }
      await deps.guard?.codeFailed(tenant.id, c.subject);
      await recordAuditNow(db, {
        tenantId: tenant.id,
        actorId: c.subject,
        action: 'auth.step_up',
        outcome: 'failure',
        detail: { reason: 'wrong code' },
        origin,
      });
      throw errors.badInput('code', 'is not valid');
    },

    /** What a password sign-in of this user still needs: nothing, a code, or setting a factor up. */
    async secondStep(tenant: Tenant, userId: string): Promise<'none' | 'verify' | 'enroll'> {
      const has = await db.withTenant(tenant.id, (em) => hasSecondFactor(em, userId));
      if (has) return 'verify';
      return settingsOf(tenant).mfaRequired ? 'enroll' : 'none';
    },

    /** Checks a code for a user between password and second factor (the issuer's sign-in page). */
    async proveCode(tenant: Tenant, userId: string, code: string, origin?: RequestOrigin): Promise<boolean> {
      await deps.guard?.throttle(origin?.ip);
      await deps.guard?.assertCodesAllowed(tenant.id, userId);
      const proof = await db.withTenant(tenant.id, async (em) => {
        const result = await proveSecondFactor(em, deps.kek, userId, code);
        if (result !== null)
          await recordAudit(em, {
            tenantId: tenant.id,
            actorId: userId,
            action: 'auth.mfa_verified',
            outcome: 'success',
            detail: { factor: result, via: 'issuer' },
            origin,
          });
        return result;
      });
      if (proof === null) {
        await deps.guard?.codeFailed(tenant.id, userId);
        await recordAuditNow(db, {
          tenantId: tenant.id,
          actorId: userId,
          action: 'auth.mfa_verified',
          outcome: 'failure',
          detail: { reason: 'wrong code', via: 'issuer' },
          origin,
        });
      } else await deps.guard?.codeSucceeded(tenant.id, userId);
      return proof !== null;
    },

    async factors(caller: CallerContext): Promise<FactorView[]> {
      const c = authorize(caller, SELF_SERVICE);
      return db.withTenant(c.tenantId, async (em) =>
        (await em.find(MfaFactorEntity, { userId: c.subject, confirmedAt: { $ne: null } }, { orderBy: { createdAt: 'asc' } })).map(factorView),
      );
    },

    /** Removes one of the caller's factors (step-up); the last one takes the recovery codes with it. */
    async removeFactor(caller: CallerContext, id: string, origin?: RequestOrigin): Promise<boolean> {
      const c = authorize(caller, SELF_SERVICE);
      requireRecentMfa(caller);
      if (!isUuid(id)) throw errors.badInput('id', 'is not a factor id');
      return db.withTenant(c.tenantId, async (em) => {
        const removed = await em.nativeDelete(MfaFactorEntity, { id: id.toLowerCase(), userId: c.subject });
        if (removed === 0) throw errors.notFound('Factor');
        if (!(await hasSecondFactor(em, c.subject))) await em.execute(`delete from identity.recovery_codes where user_id = ?`, [c.subject]);
        await recordAudit(em, { tenantId: c.tenantId, actorId: c.subject, action: 'mfa.removed', target: id, outcome: 'success', origin });
        return true;
      });
    },

    /** Ten new recovery codes replacing the old ones (step-up). */
    async regenerateRecoveryCodes(caller: CallerContext, origin?: RequestOrigin): Promise<string[]> {
      const c = authorize(caller, SELF_SERVICE);
      requireRecentMfa(caller);
      return db.withTenant(c.tenantId, async (em) => {
        if (!(await hasSecondFactor(em, c.subject))) throw errors.badInput('factors', 'set up a second factor first');
        const codes = await newRecoveryCodes(em, c.tenantId, c.subject);
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'mfa.recovery_codes_regenerated',
          target: c.subject,
          outcome: 'success',
          origin,
        });
        return codes;
      });
    },
  };
}
export type MfaService = ReturnType<typeof createMfaService>;
