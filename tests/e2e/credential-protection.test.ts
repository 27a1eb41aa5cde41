import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { CLIENT_HEADER, CONTEXT_HEADER, createContextTokenCodec } from '@tansu/platform/context-token';
import { deriveSecrets } from '@tansu/platform/config';
import { TEST_SECRET } from '@tansu/platform/testing/test-servers';
import { authorizationUrl } from '../support/pkce.ts';
import { rawRequest, type RawAnswer } from '../support/raw-http.ts';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { createPublicClient, dataOf, expectError, gql, signIn as signInAs } from '../support/graphql-client.ts';

// Small limits so the test reaches them: 3 failures lock an account; 40 requests a minute per address.
const ctx = useTestStack({ TANSU_LOCKOUT_THRESHOLD: '3', TANSU_LOCKOUT_SECONDS: '60', TANSU_CREDENTIAL_RATE_PER_MINUTE: '40' });

const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
const REDIRECT = 'http://localhost:8080/callback';
const AUDIT = 'query($t: String, $f: AuditFilter) { auditLog(tenant: $t, filter: $f, first: 200) { entries { action target outcome ip } } }';

describe('credential protection', () => {
  let seed: TwoTenants;
  const signIn = (tenant: string, email: string, password: string) => gql(ctx.stack.graphqlUrl, SIGN_IN, { variables: { i: { tenant, email, password } } });

  let clientId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    // An application at acme's issuer, so its sign-in page can be opened.
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const developer = await signInAs(url, 'acme', 'alice@acme.test', 'alice-password');
    clientId = await createPublicClient(url, developer.accessToken, 'Acme SPA', REDIRECT);
  });

  it('locks an account after repeated failures, even against the right password, and not its neighbours', async () => {
    for (let i = 0; i < 3; i++) expectError(await signIn('acme', 'alice@acme.test', 'wrong-password'), 'UNAUTHENTICATED');
    const locked = expectError(await signIn('acme', 'ALICE@acme.test', 'alice-password'), 'RATE_LIMITED');
    assert.match(locked.message, /locked/);
    assert.ok(Number(locked.extensions?.retryAfter) > 0);
    // The same email in another tenant is another account, with its own count.
    await gql(ctx.stack.graphqlUrl, 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
      variables: { i: { tenant: 'globex', email: 'alice@acme.test', password: 'globex-alice-password' } },
    });
    dataOf(await signIn('globex', 'alice@acme.test', 'globex-alice-password'));
    assert.notEqual(seed.acme.id, seed.globex.id);
  });

  it('resets the failure count on a successful sign-in', async () => {
    for (let i = 0; i < 2; i++) expectError(await signIn('globex', 'bob@globex.test', 'wrong-password'), 'UNAUTHENTICATED');
    dataOf(await signIn('globex', 'bob@globex.test', 'bob-password'));
    for (let i = 0; i < 2; i++) expectError(await signIn('globex', 'bob@globex.test', 'wrong-password'), 'UNAUTHENTICATED');
    dataOf(await signIn('globex', 'bob@globex.test', 'bob-password'));
  });

  it('limits credential requests per client address', async () => {
    let limited: ReturnType<typeof expectError> | undefined;
    for (let i = 0; i < 45 && limited === undefined; i++) {
      const res = await signIn('globex', `nobody${i}@globex.test`, 'whatever-password');
      if (res.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED') limited = expectError(res, 'RATE_LIMITED');
    }
    assert.ok(limited, 'no request was limited');
    assert.match(limited.message, /Too many attempts from this address/);
  });

  it('counts callers without a signed address under one budget, and a forged address does not open a new one', async () => {
    // Straight to the identity service, past the router: a context it signed, but no client it signed.
    const context = createContextTokenCodec(deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).contextKey).sign({ roles: [], scopes: [] });
    const direct = (email: string, headers: Record<string, string> = {}) =>
      gql(ctx.stack.subgraphUrl('identity'), SIGN_IN, {
        variables: { i: { tenant: 'globex', email, password: 'whatever-password' } },
        headers: { [CONTEXT_HEADER]: context, ...headers },
      });
    let limited: ReturnType<typeof expectError> | undefined;
    for (let i = 0; i < 45 && limited === undefined; i++) {
      const res = await direct(`unknown${i}@globex.test`);
      if (res.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED') limited = expectError(res, 'RATE_LIMITED');
      else expectError(res, 'UNAUTHENTICATED');
    }
    assert.ok(limited, 'callers without an address were never limited');
    assert.match(limited.message, /Too many attempts from this address/);
    // A client header the router did not sign is no address at all: the shared budget is spent.
    const forger = createContextTokenCodec(randomBytes(32));
    const forged = forger.signClient({ ip: '198.51.100.23', userAgent: 'forger' });
    expectError(await direct('forged@globex.test', { [CLIENT_HEADER]: forged }), 'RATE_LIMITED');
    expectError(await direct('garbled@globex.test', { [CLIENT_HEADER]: 'not-a-signed-value' }), 'RATE_LIMITED');
    // What the router signs is an address of its own, with its own budget, and the audit row keeps it.
    const signed = createContextTokenCodec(deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).contextKey).signClient({
      ip: '198.51.100.24',
      userAgent: 'router',
    });
    expectError(await direct('signed@globex.test', { [CLIENT_HEADER]: signed }), 'UNAUTHENTICATED');
    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; target: string; outcome: string; ip: string | null }[] } }>(ctx.stack.graphqlUrl, AUDIT, {
        token: seed.admin.accessToken,
        variables: { t: 'globex', f: { outcome: 'FAILURE' } },
      }),
    ).auditLog.entries;
    assert.equal(audit.find((e) => e.target === 'signed@globex.test')?.ip, '198.51.100.24');
    assert.equal(audit.find((e) => e.target === 'forged@globex.test')?.ip, null);
  });

  it("limits the issuer's sign-in page, posted straight to the identity service, by the peer's own address", async () => {
    const issuer = `${new URL(ctx.stack.subgraphUrl('identity')).origin}/identity/acme`;
    // Another loopback address than every other request of this file: a budget of its own.
    const peer = '127.0.0.2';
    const started = await rawRequest(authorizationUrl(issuer, { clientId, redirectUri: REDIRECT, scope: 'openid' }), { localAddress: peer });
    assert.ok(started.status >= 300 && started.status < 400 && started.headers.location !== undefined, `${started.status} ${started.text}`);
    const cookies = ([] as string[])
      .concat(started.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0]!)
      .join('; ');
    const login = new URL(`${String(started.headers.location)}/login`, issuer).toString();
    let limited: RawAnswer | undefined;
    for (let i = 0; i < 45 && limited === undefined; i++) {
      const answer = await rawRequest(login, {
        localAddress: peer,
        method: 'POST',
        headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: `page${i}@acme.test`, password: 'whatever-password' }).toString(),
      });
      if (answer.status === 429) limited = answer;
      else assert.equal(answer.status, 401, answer.text);
    }
    assert.ok(limited, 'the sign-in page was never limited');
    assert.match(String(limited.headers['content-type']), /text\/html/);
    assert.match(limited.text, /Too many attempts from this address/);
    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; target: string; outcome: string; ip: string | null }[] } }>(ctx.stack.graphqlUrl, AUDIT, {
        token: seed.admin.accessToken,
        variables: { t: 'acme', f: { outcome: 'FAILURE' } },
      }),
    ).auditLog.entries;
    const attempts = audit.filter((e) => e.action === 'auth.sign_in' && e.target.startsWith('page'));
    assert.ok(attempts.length > 0);
    for (const entry of attempts) assert.equal(entry.ip, peer);
  });
});
