import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { SignJWT } from 'jose';
import { CONTEXT_HEADER, createContextTokenCodec } from '@tansu/platform/context-token';
import { deriveSecrets } from '@tansu/platform/config';
import { createSigningKeyCache } from '@tansu/subgraph-identity/signing-keys';
import { TEST_SECRET } from '@tansu/platform/testing/test-servers';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { PUBLIC_URL, useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, type AuthPayload } from '../support/graphql-client.ts';

// Tight limits so that the checks can be crossed with this schema's shallow types.
const ctx = useTestStack({ TANSU_MAX_DEPTH: '6', TANSU_MAX_ALIASES: '10', TANSU_MAX_COST: '1000', TANSU_MAX_BODY_BYTES: '4096' });

const ME = '{ me { id email roles tenant { id slug name } } }';

describe('the spine through the router', () => {
  let admin: AuthPayload;
  let acme: { id: string; slug: string };
  let globex: { id: string; slug: string };
  let alice: AuthPayload;
  let bob: AuthPayload;

  before(async () => {
    ({ admin, acme, globex, alice, bob } = await seedTwoTenants(ctx.stack.graphqlUrl));
  });

  it('signs the platform admin in with the OWNER role of the platform tenant', () => {
    assert.deepEqual(admin.user.roles, ['OWNER']);
    assert.equal(admin.user.tenant.slug, 'platform');
    assert.equal(admin.expiresIn, 900);
  });

  it("answers me with each caller's own tenant", async () => {
    const url = ctx.stack.graphqlUrl;
    const a = dataOf(await gql<{ me: AuthPayload['user'] }>(url, ME, { token: alice.accessToken })).me;
    assert.equal(a.email, 'alice@acme.test');
    assert.deepEqual(a.tenant, { id: acme.id, slug: 'acme', name: 'Acme Corp' });
    assert.deepEqual(a.roles, ['VIEWER']);
    const b = dataOf(await gql<{ me: AuthPayload['user'] }>(url, ME, { token: bob.accessToken })).me;
    assert.equal(b.email, 'bob@globex.test');
    assert.deepEqual(b.tenant, { id: globex.id, slug: 'globex', name: 'Globex' });
  });

  it('signs a user in again and accepts a matching X-Tenant-Id', async () => {
    const again = await signIn(ctx.stack.graphqlUrl, 'acme', 'ALICE@acme.test', 'alice-password');
    assert.equal(again.user.id, alice.user.id);
    const res = await gql<{ me: { id: string } }>(ctx.stack.graphqlUrl, '{ me { id } }', { token: again.accessToken, headers: { 'x-tenant-id': 'acme' } });
    assert.equal(dataOf(res).me.id, alice.user.id);
  });

  it('rotates refresh tokens, and keeps two tabs refreshing at once signed in', async () => {
    const url = ctx.stack.graphqlUrl;
    const refresh = (token: string) =>
      gql<{ refreshToken: { accessToken: string; refreshToken: string } }>(
        url,
        'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }',
        {
          variables: { i: { tenant: 'acme', refreshToken: token } },
        },
      );
    const first = dataOf(await refresh(alice.refreshToken)).refreshToken;
    assert.notEqual(first.refreshToken, alice.refreshToken);
    // The second tab presents the same token within the grace window: it gets its own pair.
    const second = dataOf(await refresh(alice.refreshToken)).refreshToken;
    assert.notEqual(second.refreshToken, first.refreshToken);
    dataOf(await refresh(first.refreshToken));
    expectError(await refresh('not-a-refresh-token'), 'UNAUTHENTICATED');
  });

  describe('refusals', () => {
    it('refuses a private operation without a token', async () => {
      expectError(await gql(ctx.stack.graphqlUrl, ME), 'UNAUTHENTICATED', 401);
    });

    it('refuses a malformed Authorization header', async () => {
      expectError(await gql(ctx.stack.graphqlUrl, ME, { headers: { authorization: 'Basic abc' } }), 'UNAUTHENTICATED', 401);
    });

    it('refuses a tampered token', async () => {
      const [header, payload, signature] = alice.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, roles: ['OWNER'] })).toString('base64url');
      expectError(await gql(ctx.stack.graphqlUrl, ME, { token: `${header}.${forgedPayload}.${signature}` }), 'UNAUTHENTICATED', 401);
      const flipped = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      expectError(await gql(ctx.stack.graphqlUrl, ME, { token: flipped }), 'UNAUTHENTICATED', 401);
    });

    it("refuses an expired token signed with the tenant's real key", async () => {
      const kek = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).keyEncryptionKey;
      const key = await ctx.stack.db.withTenant(acme.id, (em) => createSigningKeyCache(kek).active(em, acme.id));
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({ tid: acme.id, roles: ['VIEWER'], scope: 'openid' })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(`${PUBLIC_URL}/identity/acme`)
        .setAudience('tansu')
        .setSubject(alice.user.id)
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 60)
        .sign(key.privateKey);
      const error = expectError(await gql(ctx.stack.graphqlUrl, ME, { token: expired }), 'UNAUTHENTICATED', 401);
      assert.match(error.message, /expired/i);
    });

    it('refuses a token whose issuer names another tenant than its key', async () => {
      // acme's key, globex's issuer: the JWKS of globex does not hold acme's key.
      const kek = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).keyEncryptionKey;
      const key = await ctx.stack.db.withTenant(acme.id, (em) => createSigningKeyCache(kek).active(em, acme.id));
      const token = await new SignJWT({ tid: globex.id, roles: ['OWNER'] })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(`${PUBLIC_URL}/identity/globex`)
        .setAudience('tansu')
        .setSubject(alice.user.id)
        .setExpirationTime('5m')
        .sign(key.privateKey);
      expectError(await gql(ctx.stack.graphqlUrl, ME, { token }), 'UNAUTHENTICATED', 401);
    });

    it("refuses acme's token sent with X-Tenant-Id: globex", async () => {
      expectError(await gql(ctx.stack.graphqlUrl, ME, { token: alice.accessToken, headers: { 'x-tenant-id': 'globex' } }), 'FORBIDDEN', 403);
    });

    it('refuses createTenant from a non-admin', async () => {
      const res = await gql(ctx.stack.graphqlUrl, 'mutation { createTenant(input: { slug: "initech", name: "Initech" }) { id } }', {
        token: alice.accessToken,
      });
      expectError(res, 'FORBIDDEN');
    });

    it('refuses createTenant with a bad slug or a taken one, leaving nothing behind', async () => {
      const url = ctx.stack.graphqlUrl;
      const bad = await gql(url, 'mutation { createTenant(input: { slug: "No Spaces!", name: "x" }) { id } }', { token: admin.accessToken });
      assert.equal(expectError(bad, 'BAD_USER_INPUT').extensions?.field, 'slug');
      expectError(await gql(url, 'mutation { createTenant(input: { slug: "acme", name: "Again" }) { id } }', { token: admin.accessToken }), 'CONFLICT');
      const rows = await ctx.stack.systemDb.global((em) => em.execute<{ n: number }[]>(`select count(*)::int as n from platform.tenants`));
      assert.equal(rows[0]?.n, 3);
    });

    it('refuses sign-up with a taken email, a short password or an unknown tenant', async () => {
      const url = ctx.stack.graphqlUrl;
      const input = (tenant: string, email: string, password: string) => ({ variables: { i: { tenant, email, password } } });
      const op = 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }';
      expectError(await gql(url, op, input('acme', 'alice@acme.test', 'another-password')), 'CONFLICT');
      assert.equal(expectError(await gql(url, op, input('acme', 'carol@acme.test', 'short')), 'BAD_USER_INPUT').extensions?.field, 'password');
      assert.equal(expectError(await gql(url, op, input('acme', 'not-an-email', 'long-enough-password')), 'BAD_USER_INPUT').extensions?.field, 'email');
      expectError(await gql(url, op, input('nowhere', 'x@y.test', 'long-enough-password')), 'NOT_FOUND');
      expectError(await gql(url, op, input('platform', 'x@y.test', 'long-enough-password')), 'FORBIDDEN');
    });

    it('refuses a wrong password without telling which part was wrong', async () => {
      const op = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
      const wrongPassword = expectError(
        await gql(ctx.stack.graphqlUrl, op, { variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'nope-nope' } } }),
        'UNAUTHENTICATED',
      );
      const noAccount = expectError(
        await gql(ctx.stack.graphqlUrl, op, { variables: { i: { tenant: 'acme', email: 'nobody@acme.test', password: 'nope-nope' } } }),
        'UNAUTHENTICATED',
      );
      assert.equal(wrongPassword.message, noAccount.message);
    });

    it('refuses a query deeper than the limit', async () => {
      const deep = '{ runs { nodes { workflow { createdBy { tenant { plan { id } } } } } } }';
      const error = expectError(await gql(ctx.stack.graphqlUrl, deep, { token: alice.accessToken }), 'BAD_USER_INPUT', 400);
      assert.match(error.message, /depth 7 exceeds the limit of 6/);
    });

    it('refuses a query costlier than the budget', async () => {
      const costly = '{ tenants(first: 200) { id slug name members { userId role } } }';
      const error = expectError(await gql(ctx.stack.graphqlUrl, costly, { token: admin.accessToken }), 'BAD_USER_INPUT', 400);
      assert.match(error.message, /cost \d+ exceeds the budget of 1000/);
    });

    it('counts list sizes given as variables against the budget', async () => {
      const op = 'query($n: Int) { tenants(first: $n) { id slug name members { userId role } } }';
      const error = expectError(await gql(ctx.stack.graphqlUrl, op, { token: admin.accessToken, variables: { n: 150 } }), 'BAD_USER_INPUT');
      assert.match(error.message, /cost \d+ exceeds the budget of 1000/);
      const ok = await gql<{ tenants: { slug: string }[] }>(ctx.stack.graphqlUrl, op, { token: admin.accessToken, variables: { n: 2 } });
      assert.equal(dataOf(ok).tenants.length, 2);
    });

    it("prices a page's items by the size it asks for", async () => {
      const page = (first: number) => `{ runs(first: ${first}) { nodes { id status createdAt finishedAt error } } }`;
      const error = expectError(await gql(ctx.stack.graphqlUrl, page(200), { token: alice.accessToken }), 'BAD_USER_INPUT', 400);
      assert.match(error.message, /Query cost 1002 exceeds the budget of 1000/);
      dataOf(await gql(ctx.stack.graphqlUrl, page(100), { token: alice.accessToken }));
    });

    it('refuses too many aliases', async () => {
      const aliases = `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
      const error = expectError(await gql(ctx.stack.graphqlUrl, aliases, { token: alice.accessToken }), 'BAD_USER_INPUT', 400);
      assert.match(error.message, /11 aliases; the limit is 10/);
    });

    it('refuses an oversized body with PAYLOAD_TOO_LARGE', async () => {
      const res = await gql(ctx.stack.graphqlUrl, `{ me { id } } # ${'x'.repeat(5000)}`, { token: alice.accessToken });
      expectError(res, 'PAYLOAD_TOO_LARGE', 413);
    });

    it('refuses malformed JSON with BAD_USER_INPUT', async () => {
      const response = await fetch(ctx.stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ me { id } ' });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      assert.equal(body.errors[0]?.extensions.code, 'BAD_USER_INPUT');
    });

    it('refuses a request without a JSON content type (CSRF prevention)', async () => {
      const response = await fetch(`${ctx.stack.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`);
      assert.equal(response.status, 400);
    });

    it('strips client-supplied internal headers', async () => {
      // alice (an acme viewer) sends a validly signed context claiming globex's OWNER.
      const forged = createContextTokenCodec(deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).contextKey).sign({
        tenantId: globex.id,
        tenantSlug: 'globex',
        subject: alice.user.id,
        roles: ['OWNER'],
        scopes: [],
      });
      const headers = { [CONTEXT_HEADER]: forged, 'x-tansu-anything': 'x' };
      const own = await gql<{ tenant: { slug: string } }>(ctx.stack.graphqlUrl, '{ tenant { slug } }', { token: alice.accessToken, headers });
      assert.equal(dataOf(own).tenant.slug, 'acme');
      expectError(await gql(ctx.stack.graphqlUrl, '{ tenant { members { userId } } }', { token: alice.accessToken, headers }), 'FORBIDDEN');
      expectError(await gql(ctx.stack.graphqlUrl, ME, { headers }), 'UNAUTHENTICATED', 401);
    });

    it('refuses text Postgres cannot store with BAD_USER_INPUT, not INTERNAL', async () => {
      const op = 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }';
      for (const email of ['nul\u0000@acme.test', '\ud800x@acme.test']) {
        expectError(await gql(ctx.stack.graphqlUrl, op, { variables: { i: { tenant: 'acme', email, password: 'long-enough-password' } } }), 'BAD_USER_INPUT');
      }
      const signIn = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
      const res = await gql(ctx.stack.graphqlUrl, signIn, { variables: { i: { tenant: 'ac\u0000me', email: 'a@b.test', password: 'whatever-pass' } } });
      assert.notEqual(res.body.errors?.[0]?.extensions?.code, 'INTERNAL');
      const name = await gql(ctx.stack.graphqlUrl, 'mutation($n: String!) { createTenant(input: { slug: "nulname", name: $n }) { id } }', {
        token: admin.accessToken,
        variables: { n: 'a\u0000b' },
      });
      expectError(name, 'BAD_USER_INPUT');
    });

    it('answers CORS preflights for browser apps', async () => {
      const res = await fetch(ctx.stack.graphqlUrl, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
    });

    it('refuses two Authorization headers', async () => {
      const headers = new Headers({ 'content-type': 'application/json' });
      headers.append('authorization', `Bearer ${alice.accessToken}`);
      headers.append('authorization', `Bearer ${bob.accessToken}`);
      const res = await fetch(ctx.stack.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query: '{ me { id } }' }) });
      assert.equal(res.status, 401);
    });
  });

  describe('subgraphs trust only the router', () => {
    it("refuses a request sent straight to a subgraph without the router's context", async () => {
      const res = await fetch(subgraphUrl('identity'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      assert.equal(body.errors[0]?.extensions.code, 'UNAUTHENTICATED');
    });

    it('refuses a context signed with another key', async () => {
      const forged = createContextTokenCodec(Buffer.alloc(32, 7)).sign({
        tenantId: acme.id,
        tenantSlug: 'acme',
        subject: alice.user.id,
        roles: ['OWNER'],
        scopes: [],
      });
      for (const name of ['identity', 'tenancy'] as const) {
        const res = await fetch(subgraphUrl(name), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CONTEXT_HEADER]: forged },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        assert.equal(res.status, 401, name);
      }
    });
  });

  describe('operations endpoints', () => {
    it('reports health, readiness and metrics', async () => {
      const health = await fetch(`${ctx.stack.routerUrl}/health`);
      assert.equal(health.status, 200);
      const ready = await fetch(`${ctx.stack.routerUrl}/ready`);
      const readyBody = (await ready.json()) as { status: string; checks: Record<string, boolean> };
      assert.equal(ready.status, 200);
      assert.deepEqual(readyBody.checks, { supergraph: true, redis: true, ...Object.fromEntries(SUBGRAPHS.map((s) => [s.name, true])) });
      const metrics = await (await fetch(`${ctx.stack.routerUrl}/metrics`)).text();
      assert.match(metrics, /tansu_router_http_requests_total\{route="graphql",status="200"\} \d+/);
    });

    it('serves the playground to browsers at the endpoint, from local assets only', async () => {
      const page = await fetch(ctx.stack.graphqlUrl, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.doesNotMatch(html, /https?:\/\//);
      const script = /src="([^"]+)"/.exec(html)?.[1];
      assert.ok(script?.startsWith('/graphql/assets/'), `unexpected script ${script}`);
      assert.equal((await fetch(`${ctx.stack.routerUrl}${script}`)).status, 200);
    });

    it('serves the tenant JWKS through the router', async () => {
      const res = await fetch(`${ctx.stack.routerUrl}/identity/acme/.well-known/jwks.json`);
      assert.equal(res.status, 200);
      const jwks = (await res.json()) as { keys: { kid: string; kty: string; d?: string }[] };
      assert.equal(jwks.keys.length, 2, 'the signing key and the next one');
      assert.equal(jwks.keys[0]?.kty, 'RSA');
      assert.equal(jwks.keys[0]?.d, undefined, 'no private part is published');
      assert.equal((await fetch(`${ctx.stack.routerUrl}/identity/nowhere/.well-known/jwks.json`)).status, 404);
    });
  });
});

/** Subgraph addresses as the router was configured with them. */
function subgraphUrl(name: 'identity' | 'tenancy'): string {
  return ctx.stack.subgraphUrl(name);
}
