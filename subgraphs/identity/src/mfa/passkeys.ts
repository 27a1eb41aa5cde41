import { LockMode } from '@mikro-orm/core';
import { isUuid } from '@tansu/platform/uuid';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import { TansuError, errors } from '@tansu/platform/errors';
import { authorize, requireRecentMfa } from '@tansu/tenant-core/guards';
import { recordAudit, recordAuditNow, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import { TenantEntity, type Tenant } from '@tansu/tenant-core/entities';
import { rolesOf } from '@tansu/tenant-core/memberships';
import { settingsOf } from '@tansu/tenant-core/settings';
import { ACCOUNT_DISABLED, type AuthResult, type AuthService } from '../auth-service.ts';
import type { CredentialGuard } from '../credential-guard.ts';
import { UserEntity } from '../entities.ts';
import { MfaFactorEntity, WebAuthnChallengeEntity, type MfaFactor } from './entities.ts';
import { lockChallenge } from './mfa-challenges.ts';
import { hasSecondFactor, newRecoveryCodes } from './second-factor.ts';

const CHALLENGE_SECONDS = 300;

export interface PasskeyOptions {
  challengeId: string;
  /** JSON for navigator.credentials.create / get (as @simplewebauthn/browser takes it). */
  options: string;
}

function parseResponse<T>(json: string): T {
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') return value as T;
  } catch {
    // reported below
  }
  throw errors.badInput('response', 'is not a WebAuthn credential in JSON');
}

/**
 * Passkeys (WebAuthn): registered by a signed-in user as a factor, then used to sign in
 * without a password (a user-verified passkey is two factors in one) or as the second step
 * after a password. Challenges are single-use and short-lived; counters catch cloned keys.
 */
export function createPasskeys(deps: { db: Database; auth: AuthService; publicUrl: string; guard?: CredentialGuard }) {
  const { db, auth } = deps;
  const platform = new URL(deps.publicUrl);

  /** Where this tenant's apps run: its own relying party and origins, or the platform's. */
  function relyingParty(tenant: Tenant): { rpId: string; origins: string[] } {
    const settings = settingsOf(tenant);
    return { rpId: settings.passkeyRpId ?? platform.hostname, origins: settings.passkeyOrigins.length > 0 ? settings.passkeyOrigins : [platform.origin] };
  }

  async function tenantById(id: string): Promise<Tenant> {
    const tenant = await db.global((em) => em.findOne(TenantEntity, { id }));
    if (tenant === null || tenant.status !== 'ACTIVE') throw errors.forbidden('This tenant is not active');
    return tenant;
  }

  function saveChallenge(em: EntityManager, tenantId: string, purpose: 'register' | 'authenticate', challenge: string, userId: string | null): string {
    const row = em.create(WebAuthnChallengeEntity, {
      id: crypto.randomUUID(),
      tenantId,
      userId,
      purpose,
      challenge,
      expiresAt: new Date(Date.now() + CHALLENGE_SECONDS * 1000),
      usedAt: null,
    });
    return row.id;
  }

  async function spendChallenge(em: EntityManager, id: string, purpose: 'register' | 'authenticate') {
    const row = isUuid(id) ? await em.findOne(WebAuthnChallengeEntity, { id: id.toLowerCase(), purpose }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    if (row === null) throw new TansuError('TOKEN_INVALID', 'This passkey request is not valid; start again');
    if (row.usedAt != null) throw new TansuError('TOKEN_ALREADY_USED', 'This passkey request was already answered; start again');
    if (row.expiresAt.getTime() <= Date.now()) throw new TansuError('TOKEN_EXPIRED', 'This passkey request expired; start again');
    row.usedAt = new Date();
    return row;
  }

  const descriptor = (f: MfaFactor) => ({ id: f.credentialId!, transports: (f.transports ?? undefined) as AuthenticatorTransport[] | undefined });

  return {
    async startRegistration(caller: CallerContext): Promise<PasskeyOptions> {
      const c = authorize(caller, { role: 'VIEWER', scope: 'tansu:admin', action: 'manage second factors' });
      const tenant = await tenantById(c.tenantId);
      const { rpId } = relyingParty(tenant);
      return db.withTenant(tenant.id, async (em) => {
        const user = await em.findOne(UserEntity, { id: c.subject });
        if (user === null || user.disabledAt != null) throw errors.forbidden(ACCOUNT_DISABLED);
        // Adding a factor beside an existing one is as sensitive as removing one.
        if (await hasSecondFactor(em, user.id)) requireRecentMfa(caller);
        const existing = await em.find(MfaFactorEntity, { userId: user.id, kind: 'webauthn' });
        const options = await generateRegistrationOptions({
          rpName: tenant.name,
          rpID: rpId,
          userName: user.email,
          userID: new TextEncoder().encode(user.id),
          attestationType: 'none',
          excludeCredentials: existing.map(descriptor),
          authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        });
        return { challengeId: saveChallenge(em, tenant.id, 'register', options.challenge, user.id), options: JSON.stringify(options) };
      });
    },

    /** Stores the new passkey; the first factor of an account comes with ten recovery codes. */
    async finishRegistration(
      caller: CallerContext,
      input: { challengeId: string; response: string; name?: string | null },
      origin?: RequestOrigin,
    ): Promise<{ factor: MfaFactor; recoveryCodes: string[] }> {
      const c = authorize(caller, { role: 'VIEWER', scope: 'tansu:admin', action: 'manage second factors' });
      const tenant = await tenantById(c.tenantId);
      const { rpId, origins } = relyingParty(tenant);
      const name = (input.name ?? 'Passkey').trim();
      if (name.length === 0 || name.length > 100) throw errors.badInput('name', 'must be 1-100 characters');
      const response = parseResponse<RegistrationResponseJSON>(input.response);
      return db.withTenant(tenant.id, async (em) => {
        const challenge = await spendChallenge(em, input.challengeId, 'register');
        if (challenge.userId !== c.subject) throw new TansuError('TOKEN_INVALID', 'This passkey request belongs to someone else');
        const verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          requireUserVerification: false,
        }).catch((error: unknown) => {
          throw errors.badInput('response', `was not accepted (${error instanceof Error ? error.message.slice(0, 200) : 'invalid'})`);
        });
        if (!verification.verified) throw errors.badInput('response', 'was not accepted');
        const { credential } = verification.registrationInfo;
        const first = !(await hasSecondFactor(em, c.subject));
        const factor = em.create(MfaFactorEntity, {
          id: crypto.randomUUID(),
          tenantId: tenant.id,
          userId: c.subject,
          kind: 'webauthn',
          name,
          credentialId: credential.id,
          publicKey: Buffer.from(credential.publicKey).toString('base64url'),
          signCount: credential.counter,
          transports: credential.transports ?? null,
          confirmedAt: new Date(),
        });
        await em.flush();
        const recoveryCodes = first ? await newRecoveryCodes(em, tenant.id, c.subject) : [];
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: c.subject,
          action: 'mfa.enrolled',
          target: factor.id,
          outcome: 'success',
          detail: { kind: 'webauthn' },
          origin,
        });
        return { factor, recoveryCodes };
      });
    },

    /**
     * Options for signing in with a passkey: any passkey of the tenant the device holds
     * (passwordless), or, with the mfaToken of a password sign-in, that user's passkeys.
     */
    async startSignIn(input: { tenant: string; mfaToken?: string | null }, origin?: RequestOrigin): Promise<PasskeyOptions> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      const { rpId } = relyingParty(tenant);
      return db.withTenant(tenant.id, async (em) => {
        let userId: string | null = null;
        let allow: MfaFactor[] = [];
        if (input.mfaToken != null) {
          userId = (await lockChallenge(em, input.mfaToken)).userId;
          allow = await em.find(MfaFactorEntity, { userId, kind: 'webauthn' });
        }
        const options = await generateAuthenticationOptions({
          rpID: rpId,
          allowCredentials: allow.map(descriptor),
          userVerification: input.mfaToken == null ? 'required' : 'preferred',
        });
        return { challengeId: saveChallenge(em, tenant.id, 'authenticate', options.challenge, userId), options: JSON.stringify(options) };
      });
    },

    /** Checks the passkey's signature and signs the user in (a user-verified passkey satisfies step-up). */
    async finishSignIn(
      input: { tenant: string; challengeId: string; response: string; mfaToken?: string | null },
      origin?: RequestOrigin,
    ): Promise<AuthResult> {
      await deps.guard?.throttle(origin?.ip);
      const tenant = await auth.tenantBySlug(input.tenant);
      const { rpId, origins } = relyingParty(tenant);
      const response = parseResponse<AuthenticationResponseJSON>(input.response);
      const outcome = await db.withTenant(tenant.id, async (em) => {
        const challenge = await spendChallenge(em, input.challengeId, 'authenticate');
        const factor = await em.findOne(MfaFactorEntity, { kind: 'webauthn', credentialId: response.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (factor === null || (challenge.userId != null && factor.userId !== challenge.userId)) return { refused: 'unknown passkey' };
        const passwordStep = input.mfaToken == null ? null : await lockChallenge(em, input.mfaToken);
        if (passwordStep !== null && passwordStep.userId !== factor.userId) return { refused: 'passkey of another account' };
        const verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          credential: {
            id: factor.credentialId!,
            publicKey: Buffer.from(factor.publicKey ?? '', 'base64url'),
            counter: factor.signCount,
            transports: factor.transports ?? undefined,
          },
          // Without a password first, the passkey must also have verified the user (PIN, biometrics).
          requireUserVerification: passwordStep === null,
        }).catch(() => ({ verified: false as const, authenticationInfo: undefined }));
        if (!verification.verified) return { refused: 'signature not accepted' };
        const { newCounter, userVerified } = verification.authenticationInfo;
        // A counter that does not grow means two devices hold one key: a clone.
        if (newCounter !== 0 && newCounter <= factor.signCount) return { refused: 'signature counter went back (cloned key?)' };
        factor.signCount = newCounter;
        factor.lastUsedAt = new Date();
        const user = await em.findOneOrFail(UserEntity, { id: factor.userId }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (user.disabledAt != null) throw errors.forbidden(ACCOUNT_DISABLED);
        if (passwordStep === null && settingsOf(tenant).emailVerificationRequired && user.emailVerifiedAt == null) {
          throw new TansuError('EMAIL_NOT_VERIFIED', 'Verify your email address before signing in; the link is in your inbox');
        }
        if (passwordStep !== null) passwordStep.usedAt = new Date();
        const amr = passwordStep !== null ? ['pwd', 'hwk', 'mfa'] : userVerified ? ['hwk', 'user', 'mfa'] : ['hwk'];
        await recordAudit(em, {
          tenantId: tenant.id,
          actorId: user.id,
          action: passwordStep === null ? 'auth.sign_in' : 'auth.mfa_verified',
          target: user.email,
          outcome: 'success',
          detail: { factor: 'passkey' },
          origin,
        });
        return { result: await auth.startSession(em, tenant, user, await rolesOf(em, tenant.id, user.id), { amr, authTime: new Date() }) };
      });
      if (outcome.result !== undefined) return outcome.result;
      await recordAuditNow(db, {
        tenantId: tenant.id,
        action: 'auth.sign_in',
        outcome: 'failure',
        detail: { reason: outcome.refused, factor: 'passkey' },
        origin,
      });
      throw errors.unauthenticated('This passkey was not accepted');
    },
  };
}
export type Passkeys = ReturnType<typeof createPasskeys>;
