import { createRemoteJWKSet, customFetch, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
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
  const amr = Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string') : undefined;
  const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : undefined;
  const issuedAt = typeof payload.iat === 'number' ? payload.iat : undefined;
  return {
    tenantId: tid,
    tenantSlug: slug,
    subject: payload.sub,
    roles,
    scopes,
    ...(clientId === undefined ? {} : { clientId }),
    ...(amr === undefined ? {} : { amr }),
    ...(authTime === undefined ? {} : { authTime }),
    ...(issuedAt === undefined ? {} : { issuedAt }),
  };
}

class UnknownIssuerError extends Error {}

/** Remembers the most recently used entries; the least recently used goes first once full. */
function touch<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  map.delete(key);
  boundedSet(map, max, key, value);
}

const MISS_TTL_MS = 60_000;
/** Key sets fetched for tenants not seen before, per second: random issuers cannot flood identity. */
const COLD_FETCHES_PER_SECOND = 20;

/**
 * Verifies bearer JWTs against the issuing tenant's own JWKS. Key sets are cached per tenant
 * (kept once a token verified with them) and refetched when a token names an unknown `kid`
 * (jose's cooldown bounds the refetches). Tenants the identity service does not know are
 * remembered for a minute, and first fetches are rate-limited, so unverified tokens naming
 * random issuers cost almost nothing. A token string that verified once is remembered until
 * it expires. The key id carries the tenant id, which binds `tid` to the issuer's keys.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const issuerPrefix = `${options.publicUrl}/identity/`;
  const maxTenants = options.maxTenants ?? 10_000;
  const maxTokens = options.maxCachedTokens ?? 50_000;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const misses = new Map<string, number>();
  const verified = new Map<string, { caller: CallerContext; expMs: number }>();
  let coldWindow = { start: 0, count: 0 };

  function newKeySet(slug: string) {
    return createRemoteJWKSet(new URL(options.jwksUrlTemplate.replace('{tenant}', slug)), {
      cooldownDuration: options.jwksCooldownMs ?? 10_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
      [customFetch]: async (url: string, init: RequestInit) => {
        const response = await fetch(url, init);
        if (response.status === 404) {
          await response.body?.cancel();
          throw new UnknownIssuerError(slug);
        }
        return response;
      },
    });
  }

  function keySetFor(slug: string): { keySet: ReturnType<typeof createRemoteJWKSet>; cold: boolean } {
    const known = keySets.get(slug);
    if (known !== undefined) {
      touch(keySets, maxTenants, slug, known);
      return { keySet: known, cold: false };
    }
    if ((misses.get(slug) ?? 0) > Date.now()) throw errors.unauthenticated('Unknown token issuer');
    const now = Date.now();
    if (now - coldWindow.start >= 1_000) coldWindow = { start: now, count: 0 };
    if (++coldWindow.count > COLD_FETCHES_PER_SECOND) throw errors.rateLimited('Too many new token issuers at once; retry shortly');
    return { keySet: newKeySet(slug), cold: true };
  }

  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') return null;
      const match = /^bearer +(\S+)\s*$/i.exec(authorization);
      if (match === null) throw errors.unauthenticated('Authorization header must be "Bearer <token>"');
      const token = match[1]!;
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
      const { keySet, cold } = keySetFor(slug);
      let payload: JWTPayload;
      let kid: string | undefined;
      try {
        ({ payload, protectedHeader: { kid } } = await jwtVerify(token, keySet, { issuer, audience: options.audience, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
      } catch (error) {
        if (error instanceof UnknownIssuerError || (error instanceof Error && error.cause instanceof UnknownIssuerError)) {
          boundedSet(misses, maxTenants, slug, Date.now() + MISS_TTL_MS);
          throw errors.unauthenticated('Unknown token issuer');
        }
        if (error instanceof joseErrors.JWTExpired) throw errors.unauthenticated('Token expired');
        if (error instanceof joseErrors.JOSEError && !(error instanceof joseErrors.JWKSTimeout) && !(error instanceof joseErrors.JWKSInvalid)) {
          throw errors.unauthenticated('Invalid token');
        }
        // The issuer's keys could not be fetched: an outage, not a bad token.
        throw errors.internal(error);
      }
      if (cold) touch(keySets, maxTenants, slug, keySet);
      const caller = callerFrom(payload, slug);
      // Keys are minted with the tenant id in their id: a token's tenant must own its key.
      if (kid === undefined || !kid.startsWith(`${caller.tenantId}.`)) throw errors.unauthenticated('Token tenant does not match its signing key');
      boundedSet(verified, maxTokens, token, { caller, expMs: (payload.exp ?? 0) * 1000 });
      return caller;
    },
  };
}
