import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { TansuError } from '@tansu/platform/errors';
import { createAuthenticator, type Authenticator } from '../src/auth/authenticator.ts';

const PUBLIC_URL = 'http://issuer.test';
const AUDIENCE = 'tansu';
const TENANT_ID = '0f8b5e5a-2c1d-4e3f-8a9b-1c2d3e4f5a6b';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

/** Key ids lead with the tenant id, as the identity service mints them. */
async function newKey(name: string, alg: 'RS256' | 'ES256' = 'RS256', tenantId = TENANT_ID): Promise<SigningKey> {
  const kid = `${tenantId}.${name}`;
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function isUnauthenticated(error: unknown): boolean {
  assert.ok(error instanceof TansuError, `expected a TansuError, got ${String(error)}`);
  assert.equal(error.code, 'UNAUTHENTICATED');
  return true;
}

let subjects = 0;

/** A token as the identity subgraph issues it; `claims` override or (as undefined) remove. */
async function issue(
  key: SigningKey,
  options: { slug?: string; issuer?: string; audience?: string; exp?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    tid: TENANT_ID,
    sub: `user-${++subjects}`,
    roles: ['ADMIN', 'DEVELOPER'],
    scope: 'read  write',
    iss: options.issuer ?? `${PUBLIC_URL}/identity/${options.slug ?? 'acme'}`,
    aud: options.audience ?? AUDIENCE,
    iat: now,
    exp: options.exp ?? now + 300,
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

const bearer = (token: string) => `Bearer ${token}`;

describe('authenticator', () => {
  let server: Server;
  let authenticator: Authenticator;
  let jwksTemplate: string;
  let first: SigningKey;
  let second: SigningKey;
  let stranger: SigningKey;
  /** What each tenant's JWKS holds; a tenant not listed answers 404. */
  const published = new Map<string, JWK[]>();
  /** JWKS requests per path. */
  const fetches = new Map<string, number>();
  const fetchesOf = (slug: string) => fetches.get(`/identity/${slug}/.well-known/jwks.json`) ?? 0;

  before(async () => {
    [first, second, stranger] = await Promise.all([newKey('key-1'), newKey('key-2'), newKey('stranger')]);
    published.set('acme', [first.jwk]);
    server = createServer((req, res) => {
      const path = req.url ?? '';
      fetches.set(path, (fetches.get(path) ?? 0) + 1);
      const slug = /^\/identity\/([^/]+)\/\.well-known\/jwks\.json$/.exec(path)?.[1];
      const keys = slug === undefined ? undefined : published.get(slug);
      if (keys === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    jwksTemplate = `http://127.0.0.1:${port}/identity/{tenant}/.well-known/jwks.json`;
    authenticator = createAuthenticator({
      publicUrl: PUBLIC_URL,
      audience: AUDIENCE,
      jwksUrlTemplate: jwksTemplate,
      jwksCooldownMs: 0,
    });
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('answers null for a request without credentials', async () => {
    assert.equal(await authenticator.authenticate(undefined), null);
    assert.equal(await authenticator.authenticate(''), null);
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer ', 'bearer abc', 'Bearer not-a-jwt', 'Bearer a b']) {
      await assert.rejects(authenticator.authenticate(header), isUnauthenticated, header);
    }
  });

  it('turns a valid token into the caller', async () => {
    const token = await issue(first, { claims: { sub: 'alice', client_id: 'console', amr: ['pwd', 'mfa'], auth_time: 1_700_000_000 } });
    const caller = await authenticator.authenticate(bearer(token));
    assert.equal(typeof caller?.issuedAt, 'number');
    assert.deepEqual(caller, {
      tenantId: TENANT_ID,
      tenantSlug: 'acme',
      subject: 'alice',
      roles: ['ADMIN', 'DEVELOPER'],
      scopes: ['read', 'write'],
      clientId: 'console',
      amr: ['pwd', 'mfa'],
      authTime: 1_700_000_000,
      issuedAt: caller?.issuedAt,
    });
  });

  it('gives a token without roles or scope none', async () => {
    const caller = await authenticator.authenticate(bearer(await issue(first, { claims: { roles: undefined, scope: undefined } })));
    assert.deepEqual(caller?.roles, []);
    assert.deepEqual(caller?.scopes, []);
  });

  describe('refusals', () => {
    it('refuses another audience', async () => {
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { audience: 'someone-else' }))), isUnauthenticated);
    });

    it('refuses an issuer outside the public URL, without fetching its keys', async () => {
      const before = [...fetches.values()].reduce((a, b) => a + b, 0);
      for (const issuer of [
        'http://evil.test/identity/acme',
        'http://issuer.test/other/acme',
        'http://issuer.test.evil/identity/acme',
        'http://issuer.test/identity',
      ]) {
        await assert.rejects(authenticator.authenticate(bearer(await issue(first, { issuer }))), isUnauthenticated, issuer);
      }
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { claims: { iss: undefined } }))), isUnauthenticated);
      assert.equal(
        [...fetches.values()].reduce((a, b) => a + b, 0),
        before,
      );
    });

    it('refuses an issuer whose slug could reach another JWKS URL, without fetching', async () => {
      const before = [...fetches.values()].reduce((a, b) => a + b, 0);
      for (const slug of ['../admin', 'acme/../../x', 'ACME', 'acme?x=1', 'acme#frag', '', 'a'.repeat(65)]) {
        await assert.rejects(authenticator.authenticate(bearer(await issue(first, { slug }))), isUnauthenticated, slug);
      }
      assert.equal(
        [...fetches.values()].reduce((a, b) => a + b, 0),
        before,
      );
    });

    it('refuses an expired token', async () => {
      const token = await issue(first, { exp: Math.floor(Date.now() / 1000) - 60 });
      await assert.rejects(
        authenticator.authenticate(bearer(token)),
        (error: unknown) => isUnauthenticated(error) && /expired/i.test((error as Error).message),
      );
    });

    it('refuses an unsigned token and an HMAC one', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { tid: TENANT_ID, sub: 'mallory', roles: ['OWNER'], iss: `${PUBLIC_URL}/identity/acme`, aud: AUDIENCE, exp: now + 300 };
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
      await assert.rejects(authenticator.authenticate(bearer(unsigned)), isUnauthenticated);
      // HS256 keyed with the public key material: the classic algorithm confusion.
      const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: first.kid }).sign(new TextEncoder().encode(JSON.stringify(first.jwk)));
      await assert.rejects(authenticator.authenticate(bearer(hmac)), isUnauthenticated);
    });

    it('refuses a token signed by a key the tenant does not publish', async () => {
      await assert.rejects(authenticator.authenticate(bearer(await issue(stranger))), isUnauthenticated);
      // Claiming a published kid does not help either.
      const impostor: SigningKey = { ...stranger, kid: first.kid };
      await assert.rejects(authenticator.authenticate(bearer(await issue(impostor))), isUnauthenticated);
    });

    it("refuses a token signed with another tenant's key", async () => {
      const globexKey = await newKey('globex-key');
      published.set('globex', [globexKey.jwk]);
      assert.equal((await authenticator.authenticate(bearer(await issue(globexKey, { slug: 'globex' }))))?.tenantSlug, 'globex');
      await assert.rejects(authenticator.authenticate(bearer(await issue(globexKey, { slug: 'acme' }))), isUnauthenticated);
    });

    it('refuses a token without tid or sub', async () => {
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { claims: { tid: undefined } }))), isUnauthenticated);
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { claims: { tid: 42 } }))), isUnauthenticated);
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { claims: { sub: undefined } }))), isUnauthenticated);
    });

    it('refuses a token of an unknown tenant, and remembers the tenant is unknown', async () => {
      const before = fetchesOf('nobody');
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { slug: 'nobody' }))), isUnauthenticated);
      assert.equal(fetchesOf('nobody'), before + 1);
      await assert.rejects(authenticator.authenticate(bearer(await issue(first, { slug: 'nobody', claims: { sub: 'other' } }))), isUnauthenticated);
      assert.equal(fetchesOf('nobody'), before + 1, 'a known miss must not refetch');
    });

    it('refuses a token whose tenant does not own its signing key', async () => {
      const foreign = await newKey('foreign', 'RS256', '11111111-2222-4333-8444-555555555555');
      published.set('acme', [first.jwk, foreign.jwk]);
      await assert.rejects(authenticator.authenticate(bearer(await issue(foreign))), isUnauthenticated);
      published.set('acme', [first.jwk]);
    });

    it('takes the bearer scheme in any case', async () => {
      const token = await issue(first, { claims: { sub: 'case' } });
      assert.equal((await authenticator.authenticate(`bearer ${token}`))?.subject, 'case');
    });

    it('refuses a tampered token', async () => {
      const [header, payload, signature] = (await issue(first)).split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      claims.roles = ['OWNER'];
      const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      await assert.rejects(authenticator.authenticate(bearer(forged)), isUnauthenticated);
    });
  });

  it('accepts ES256 keys too', async () => {
    const ec = await newKey('ec-key', 'ES256');
    published.set('ecorp', [ec.jwk]);
    assert.equal((await authenticator.authenticate(bearer(await issue(ec, { slug: 'ecorp' }))))?.tenantSlug, 'ecorp');
  });

  it('follows key rotation, and otherwise answers from its cached key set', async () => {
    // Warm the cache with the first key.
    await authenticator.authenticate(bearer(await issue(first)));
    const beforeRotation = fetchesOf('acme');
    assert.ok(beforeRotation >= 1);
    for (let i = 0; i < 3; i++) await authenticator.authenticate(bearer(await issue(first)));
    assert.equal(fetchesOf('acme'), beforeRotation, 'a known kid must not refetch the JWKS');

    published.set('acme', [second.jwk, first.jwk]);
    const rotated = await authenticator.authenticate(bearer(await issue(second, { claims: { sub: 'after-rotation' } })));
    assert.equal(rotated?.subject, 'after-rotation');
    assert.equal(fetchesOf('acme'), beforeRotation + 1, 'an unknown kid refetches once');

    // New token strings with either known kid: verified against the cached set.
    for (let i = 0; i < 5; i++) {
      const caller = await authenticator.authenticate(bearer(await issue(i % 2 === 0 ? second : first)));
      assert.equal(caller?.tenantId, TENANT_ID);
    }
    assert.equal(fetchesOf('acme'), beforeRotation + 1);
  });

  it('looks up a new tenant once for all its first requests at once', async () => {
    const key = await newKey('initech-key');
    published.set('initech', [key.jwk]);
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => issue(key, { slug: 'initech', claims: { sub: `burst-${i}` } })));
    const callers = await Promise.all(tokens.map((token) => authenticator.authenticate(bearer(token), { clientIp: '192.0.2.10' })));
    assert.deepEqual(
      callers.map((c) => c?.subject),
      tokens.map((_, i) => `burst-${i}`),
    );
    assert.equal(fetchesOf('initech'), 1);
  });

  it("budgets new issuers per client address, so one client's made-up issuers cannot lock out another's tenant", async () => {
    const flood = createAuthenticator({ publicUrl: PUBLIC_URL, audience: AUDIENCE, jwksUrlTemplate: jwksTemplate, newIssuersPerAddressPerMinute: 5 });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const token = await issue(first, { slug: `made-up-${i}` });
      await flood.authenticate(bearer(token), { clientIp: '198.51.100.7' }).then(
        () => outcomes.push('accepted'),
        (error: unknown) => outcomes.push(error instanceof TansuError ? error.code : String(error)),
      );
    }
    assert.deepEqual(outcomes, [...Array(5).fill('UNAUTHENTICATED'), ...Array(3).fill('RATE_LIMITED')]);
    const real = await newKey('umbrella-key');
    published.set('umbrella', [real.jwk]);
    const caller = await flood.authenticate(bearer(await issue(real, { slug: 'umbrella', claims: { sub: 'first-user' } })), { clientIp: '203.0.113.9' });
    assert.equal(caller?.subject, 'first-user');
  });

  it('remembers a verified token string', async () => {
    const token = await issue(first);
    const firstCaller = await authenticator.authenticate(bearer(token));
    const again = await authenticator.authenticate(bearer(token));
    assert.ok(firstCaller !== null);
    assert.equal(again, firstCaller);
  });
});
