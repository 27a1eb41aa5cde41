import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { CallerContext } from '@tansu/platform/context-token';
import { errors } from '@tansu/platform/errors';

export interface AuthenticatorOptions {
  /** Issuers are `${publicUrl}/identity/${slug}`; anything else is refused. */
  publicUrl: string;
  audience: string;
  /** Where a tenant's JWKS is fetched from; `{tenant}` is replaced by the slug. */
  jwksUrlTemplate: string;
  /** How many tenants' key sets and verified tokens a process keeps. */
  maxTenants?: number;
  maxCachedTokens?: number;
  /** Least time between two fetches of one tenant's JWKS when a token names an unknown key. */
  jwksCooldownMs?: number;
}

export interface Authenticator {
  /** null for a request without credentials; throws UNAUTHENTICATED for bad ones. */
  authenticate(authorization: string | undefined): Promise<CallerContext | null>;
}

const SLUG = /^[a-z0-9-]{1,64}$/;
const ALGORITHMS = ['RS256', 'ES256'];

/** Evicts the oldest entry once full: bounded memory whatever callers send. */
function boundedSet<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

function callerFrom(payload: JWTPayload, slug: string): CallerContext {
  const tid = payload.tid;
  if (typeof tid !== 'string' || typeof payload.sub !== 'string') throw errors.unauthenticated('Token lacks tenant or subject');
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
  return { tenantId: tid, tenantSlug: slug, subject: payload.sub, roles, scopes, ...(clientId === undefined ? {} : { clientId }) };
}

/**
 * Verifies bearer JWTs against the issuing tenant's own JWKS. Key sets are cached per tenant
 * and refetched when a token names an unknown `kid` (jose's cooldown bounds the refetches).
 * A token string that verified once is remembered until it expires.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const issuerPrefix = `${options.publicUrl}/identity/`;
  const maxTenants = options.maxTenants ?? 10_000;
  const maxTokens = options.maxCachedTokens ?? 50_000;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const verified = new Map<string, { caller: CallerContext; expMs: number }>();

  function keySetFor(slug: string) {
    let keySet = keySets.get(slug);
    if (keySet === undefined) {
      keySet = createRemoteJWKSet(new URL(options.jwksUrlTemplate.replace('{tenant}', slug)), {
        cooldownDuration: options.jwksCooldownMs ?? 10_000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
      });
      boundedSet(keySets, maxTenants, slug, keySet);
    }
    return keySet;
  }

  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') return null;
      if (!authorization.startsWith('Bearer ') || authorization.length < 8) {
        throw errors.unauthenticated('Authorization header must be "Bearer <token>"');
      }
      const token = authorization.slice(7).trim();
      const cached = verified.get(token);
      if (cached !== undefined) {
        if (cached.expMs > Date.now()) return cached.caller;
        verified.delete(token);
        throw errors.unauthenticated('Token expired');
      }
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw errors.unauthenticated('Malformed token');
      }
      const issuer = unverified.iss;
      if (typeof issuer !== 'string' || !issuer.startsWith(issuerPrefix)) throw errors.unauthenticated('Unknown token issuer');
      const slug = issuer.slice(issuerPrefix.length);
      if (!SLUG.test(slug)) throw errors.unauthenticated('Unknown token issuer');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySetFor(slug), { issuer, audience: options.audience, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw errors.unauthenticated('Token expired');
        if (error instanceof joseErrors.JWKSTimeout) throw errors.internal(error);
        throw errors.unauthenticated('Invalid token');
      }
      const caller = callerFrom(payload, slug);
      boundedSet(verified, maxTokens, token, { caller, expMs: (payload.exp ?? 0) * 1000 });
      return caller;
    },
  };
}
