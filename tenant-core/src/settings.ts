import { errors } from '@tansu/platform/errors';

/** What a tenant decides for its own users. Stored sparse: an absent field is the default. */
export interface TenantSettings {
  /** Whether anyone may sign up; when off, sign-up is refused and existing users carry on. */
  selfSignUp: boolean;
  passwordMinLength: number;
  /** How long a session (its refresh tokens) lives; null means the platform default. */
  sessionLifetimeSeconds: number | null;
  /** Whether a user must prove their address before signing in. */
  emailVerificationRequired: boolean;
  /** Whether every user must sign in with a second factor (those without one set it up at sign-in). */
  mfaRequired: boolean;
  /**
   * Where the tenant's apps call WebAuthn: the relying-party id (a domain, e.g. acme.com) and
   * the exact origins (https://app.acme.com). Null and empty mean the platform's public URL.
   */
  passkeyRpId: string | null;
  passkeyOrigins: string[];
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  selfSignUp: true,
  passwordMinLength: 8,
  sessionLifetimeSeconds: null,
  emailVerificationRequired: false,
  mfaRequired: false,
  passkeyRpId: null,
  passkeyOrigins: [],
};

const PASSWORD_MIN = { low: 8, high: 128 };
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const SESSION = { low: 300, high: 90 * 86_400 };

export function settingsOf(tenant: { settings?: Partial<TenantSettings> | null }): TenantSettings {
  return { ...DEFAULT_TENANT_SETTINGS, ...(tenant.settings ?? {}) };
}

/** Checks a change field by field; absent (or null) fields stay as they are, except a null session lifetime, which returns to the platform default. */
export function validateSettingsPatch(input: Record<string, unknown>): Partial<TenantSettings> {
  const patch: Partial<TenantSettings> = {};
  if (input.selfSignUp != null) {
    if (typeof input.selfSignUp !== 'boolean') throw errors.badInput('selfSignUp', 'must be true or false');
    patch.selfSignUp = input.selfSignUp;
  }
  if (input.emailVerificationRequired != null) {
    if (typeof input.emailVerificationRequired !== 'boolean') throw errors.badInput('emailVerificationRequired', 'must be true or false');
    patch.emailVerificationRequired = input.emailVerificationRequired;
  }
  if (input.mfaRequired != null) {
    if (typeof input.mfaRequired !== 'boolean') throw errors.badInput('mfaRequired', 'must be true or false');
    patch.mfaRequired = input.mfaRequired;
  }
  if (input.passkeyRpId !== undefined) {
    const rpId = input.passkeyRpId;
    if (rpId !== null && (typeof rpId !== 'string' || !DOMAIN.test(rpId))) throw errors.badInput('passkeyRpId', 'must be a domain name such as acme.com');
    patch.passkeyRpId = rpId as string | null;
  }
  if (input.passkeyOrigins != null) {
    const origins = input.passkeyOrigins;
    if (!Array.isArray(origins) || origins.length > 10) throw errors.badInput('passkeyOrigins', 'must be a list of at most 10 origins');
    patch.passkeyOrigins = origins.map((origin, i) => {
      let url: URL;
      try {
        url = new URL(String(origin));
      } catch {
        throw errors.badInput(`passkeyOrigins[${i}]`, 'is not an origin');
      }
      const local = url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
      if ((url.protocol !== 'https:' && !local) || url.origin !== String(origin).replace(/\/$/, ''))
        throw errors.badInput(`passkeyOrigins[${i}]`, 'must be an https origin (scheme, host and port only)');
      return url.origin;
    });
  }
  if (input.passwordMinLength != null) {
    const n = input.passwordMinLength;
    if (!Number.isInteger(n) || (n as number) < PASSWORD_MIN.low || (n as number) > PASSWORD_MIN.high)
      throw errors.badInput('passwordMinLength', `must be between ${PASSWORD_MIN.low} and ${PASSWORD_MIN.high}`);
    patch.passwordMinLength = n as number;
  }
  if (input.sessionLifetimeSeconds !== undefined) {
    const n = input.sessionLifetimeSeconds;
    if (n !== null && (!Number.isInteger(n) || (n as number) < SESSION.low || (n as number) > SESSION.high))
      throw errors.badInput('sessionLifetimeSeconds', `must be between ${SESSION.low} and ${SESSION.high} seconds`);
    patch.sessionLifetimeSeconds = n as number | null;
  }
  return patch;
}
