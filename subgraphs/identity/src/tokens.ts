import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ActiveSigningKey } from './signing-keys.ts';

export interface AccessTokenClaims {
  issuer: string;
  audience: string;
  subject: string;
  tenantId: string;
  tenantSlug: string;
  roles: string[];
  scope: string;
  ttlSeconds: number;
  /** How the session was authenticated: `pwd`, plus `mfa` once a second factor proved the user. */
  amr: string[];
  /** When a factor last proved the user (sign-in or step-up); step-up checks its age. */
  authTime: Date;
}

/** The issuer URL of a tenant: the router checks tokens against exactly this. */
export function issuerFor(publicUrl: string, tenantSlug: string): string {
  return `${publicUrl}/identity/${tenantSlug}`;
}

/**
 * `iat` carries milliseconds (a fractional NumericDate, as RFC 7519 allows): the routers refuse
 * tokens issued before a user's sessions were ended, and a token issued later in that same
 * second must not be taken for an earlier one. `exp` and `auth_time` stay whole seconds.
 */
export function signAccessToken(key: ActiveSigningKey, claims: AccessTokenClaims, now: Date = new Date()): Promise<string> {
  const issuedAtMs = now.getTime();
  return new SignJWT({
    tid: claims.tenantId,
    tenant: claims.tenantSlug,
    roles: claims.roles,
    scope: claims.scope,
    amr: claims.amr,
    auth_time: Math.floor(claims.authTime.getTime() / 1000),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.subject)
    .setIssuedAt(issuedAtMs / 1000)
    .setJti(crypto.randomUUID())
    .setExpirationTime(Math.floor(issuedAtMs / 1000) + claims.ttlSeconds)
    .sign(key.privateKey);
}

/**
 * A random secret handed out once (refresh tokens, emailed links, sign-in steps, browser
 * bindings); only its hash is stored, and a presented one is looked up by its hash.
 */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
