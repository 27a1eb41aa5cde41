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
  /** Issuers not seen before that one client address may make this router look up per minute. */
  newIssuersPerAddressPerMinute?: number;
}

export interface Authenticator {
  /**
   * null for a request without credentials; throws UNAUTHENTICATED for bad ones. The client's
   * address budgets the issuers it may make the router look up for the first time.
   */
  authenticate(authorization: string | undefined, client?: { clientIp?: string | undefined }): Promise<CallerContext | null>;
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
class LookupsBusyError extends Error {}

/** Remembers the most recently used entries; the least recently used goes first once full. */
function touch<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  map.delete(key);
  boundedSet(map, max, key, value);
}

const MISS_TTL_MS = 60_000;
/** Key-set fetches in flight at once, so a flood cannot pile requests onto identity; more wait in line. */
const MAX_FETCHES_IN_FLIGHT = 16;
const MAX_FETCHES_WAITING = 1_000;

/** A counting semaphore: at most `max` holders, `waiting` more in line, the rest refused. */
function createGate(max: number, waiting: number) {
  let held = 0;
  const queue: (() => void)[] = [];
  return {
    async enter(): Promise<void> {
      if (held < max) {
        held += 1;
        return;
      }
      if (queue.length >= waiting) throw new LookupsBusyError();
      await new Promise<void>((resolve) => queue.push(resolve));
    },
    leave(): void {
      const next = queue.shift();
      if (next !== undefined) next();
      else held -= 1;
    },
  };
}

/**
 * Verifies bearer JWTs against the issuing tenant's own JWKS. Key sets are cached per tenant
 * (kept once a token verified with them) and refetched when a token names an unknown `kid`
 * (jose's cooldown bounds the refetches). The first requests of a tenant share one lookup of
 * its keys. Tenants the identity service does not know are remembered for a minute, and each
 * client address may make the router look up only so many new issuers a minute, so one
 * client's tokens naming random issuers cannot spend what another's real tenant needs. A
 * token string that verified once is remembered until it expires. The key id carries the
 * tenant id, which binds `tid` to the issuer's keys.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const issuerPrefix = `${options.publicUrl}/identity/`;
  const maxTenants = options.maxTenants ?? 10_000;
  const maxTokens = options.maxCachedTokens ?? 50_000;
  const newIssuersPerMinute = options.newIssuersPerAddressPerMinute ?? 30;
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  /** Key sets of tenants whose first lookup is in flight, shared by every request that waits on it. */
  const firstLookups = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const misses = new Map<string, number>();
  const verified = new Map<string, { caller: CallerContext; expMs: number }>();
  /** New issuers looked up per client address in the current minute. */
  const lookupsByAddress = new Map<string, { minute: number; count: number }>();
  const gate = createGate(MAX_FETCHES_IN_FLIGHT, MAX_FETCHES_WAITING);

  function newKeySet(slug: string) {
    return createRemoteJWKSet(new URL(options.jwksUrlTemplate.replace('{tenant}', slug)), {
      cooldownDuration: options.jwksCooldownMs ?? 10_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
      [customFetch]: async (url: string, init: RequestInit) => {
        await gate.enter();
        try {
          const response = await fetch(url, init);
          if (response.status === 404) {
            await response.body?.cancel();
            throw new UnknownIssuerError(slug);
          }
          // jose reads the body after this returns: buffer it so the slot is free once the bytes are here.
          return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers });
        } finally {
          gate.leave();
        }
      },
    });
  }

  function spendLookup(clientIp: string | undefined): void {
    const address = clientIp ?? 'unknown';
    const minute = Math.floor(Date.now() / 60_000);
    const seen = lookupsByAddress.get(address);
    const spent = seen !== undefined && seen.minute === minute ? seen.count : 0;
    if (spent >= newIssuersPerMinute) throw errors.rateLimited('Too many tokens of new issuers from this address; retry in a minute');
    touch(lookupsByAddress, maxTenants, address, { minute, count: spent + 1 });
  }

  function keySetFor(slug: string, clientIp: string | undefined): { keySet: ReturnType<typeof createRemoteJWKSet>; cold: boolean } {
    const known = keySets.get(slug);
    if (known !== undefined) {
      touch(keySets, maxTenants, slug, known);
      return { keySet: known, cold: false };
    }
    if ((misses.get(slug) ?? 0) > Date.now()) throw errors.unauthenticated('Unknown token issuer');
    const inFlight = firstLookups.get(slug);
    if (inFlight !== undefined) return { keySet: inFlight, cold: true };
    spendLookup(clientIp);
    const keySet = newKeySet(slug);
    boundedSet(firstLookups, maxTenants, slug, keySet);
    return { keySet, cold: true };
  }

  return {
    async authenticate(authorization, client) {
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
      const { keySet, cold } = keySetFor(slug, client?.clientIp);
      let payload: JWTPayload;
      let kid: string | undefined;
      try {
        ({
          payload,
          protectedHeader: { kid },
        } = await jwtVerify(token, keySet, { issuer, audience: options.audience, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
      } catch (error) {
        const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
        if (cold && firstLookups.get(slug) === keySet) firstLookups.delete(slug);
        if (cause instanceof UnknownIssuerError) {
          boundedSet(misses, maxTenants, slug, Date.now() + MISS_TTL_MS);
          throw errors.unauthenticated('Unknown token issuer');
        }
        if (cause instanceof LookupsBusyError) throw errors.rateLimited('Token issuers are being looked up faster than identity answers; retry shortly');
        if (error instanceof joseErrors.JOSEError && !(error instanceof joseErrors.JWKSTimeout) && !(error instanceof joseErrors.JWKSInvalid)) {
          // The keys were fetched; the token is what failed. Keep them, so bad tokens do not refetch.
          if (cold) touch(keySets, maxTenants, slug, keySet);
          throw errors.unauthenticated(error instanceof joseErrors.JWTExpired ? 'Token expired' : 'Invalid token');
        }
        // The issuer's keys could not be fetched: an outage, not a bad token.
        throw errors.internal(error);
      }
      if (cold) {
        if (firstLookups.get(slug) === keySet) firstLookups.delete(slug);
        touch(keySets, maxTenants, slug, keySet);
      }
      const caller = callerFrom(payload, slug);
      // Keys are minted with the tenant id in their id: a token's tenant must own its key.
      if (kid === undefined || !kid.startsWith(`${caller.tenantId}.`)) throw errors.unauthenticated('Token tenant does not match its signing key');
      boundedSet(verified, maxTokens, token, { caller, expMs: (payload.exp ?? 0) * 1000 });
      return caller;
    },
  };
}
