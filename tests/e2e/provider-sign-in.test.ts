import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { createPublicClient, dataOf, expectError, gql, signIn, signUp } from '../support/graphql-client.ts';
import { enrollTotp } from '../support/mfa.ts';
import { Browser } from '../support/browser.ts';
import { startUpstreamIdp } from '../support/upstream-idp.ts';

// Our issuer must reach the upstream provider on loopback, and the browser must reach our router.
const ctx = useTestStack({ TANSU_EGRESS_ALLOW_PRIVATE: 'true' }, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';
const ADD = 'mutation($i: AddIdentityProviderInput!) { addIdentityProvider(input: $i) { slug name issuer redirectUri } }';

describe('signing in with an external OpenID provider', () => {
  let seed: TwoTenants;
  let owner: string;
  /** Olivia, an owner who just proved a second factor: adding a provider asks for both. */
  let ownerMfa: string;
  let clientId: string;
  let upstream: Awaited<ReturnType<typeof startUpstreamIdp>>;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    owner = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    const olivia = await signUp(url, 'acme', 'olivia@acme.test', 'olivia-password');
    await setRole(url, seed.admin.accessToken, 'acme', olivia.user.id, 'OWNER');
    ownerMfa = (await enrollTotp(url, (await signIn(url, 'acme', 'olivia@acme.test', 'olivia-password')).accessToken)).session.accessToken;
    upstream = await startUpstreamIdp({
      clientId: 'acme-at-corp',
      clientSecret: 'corp-client-secret',
      redirectUri: `${ctx.stack.routerUrl}/identity/acme/federation/corp/callback`,
      accounts: {
        'corp-newbie': { email: 'newbie@corp.test', email_verified: true },
        'corp-alice': { email: 'alice@acme.test', email_verified: true },
        'corp-mallory': { email: 'bob@acme.test', email_verified: false },
        'corp-stranger': { email: 'stranger@corp.test', email_verified: true },
        'corp-carol': { email: 'carol@acme.test', email_verified: true },
      },
    });
    clientId = await createPublicClient(url, owner, 'Acme SPA', REDIRECT);
  });

  after(() => upstream.stop());

  it("is configured by the tenant's owners and admins, checked by discovery, and invisible to other tenants", async () => {
    const url = ctx.stack.graphqlUrl;
    const input = { slug: 'corp', name: 'Corp SSO', issuer: upstream.issuer, clientId: 'acme-at-corp', clientSecret: 'corp-client-secret' };
    expectError(await gql(url, ADD, { token: seed.bob.accessToken, variables: { i: input } }), 'FORBIDDEN');
    // A provider vouches for addresses: an owner's password session alone may not add one.
    expectError(await gql(url, ADD, { token: owner, variables: { i: input } }), 'MFA_REQUIRED');
    const unreachable = expectError(await gql(url, ADD, { token: ownerMfa, variables: { i: { ...input, issuer: 'http://127.0.0.1:1' } } }), 'BAD_USER_INPUT');
    assert.match(unreachable.message, /discovery failed/);
    expectError(await gql(url, ADD, { token: ownerMfa, variables: { i: { ...input, scopes: 'email' } } }), 'BAD_USER_INPUT');
    const added = dataOf(
      await gql<{ addIdentityProvider: { slug: string; redirectUri: string } }>(url, ADD, { token: ownerMfa, variables: { i: input } }),
    ).addIdentityProvider;
    assert.equal(added.redirectUri, `${ctx.stack.routerUrl}/identity/acme/federation/corp/callback`);
    expectError(await gql(url, ADD, { token: ownerMfa, variables: { i: input } }), 'CONFLICT');

    await setRole(url, seed.admin.accessToken, 'globex', seed.bob.user.id, 'OWNER');
    const globexOwner = (await signIn(url, 'globex', 'bob@globex.test', 'bob-password')).accessToken;
    assert.deepEqual(dataOf(await gql<{ identityProviders: unknown[] }>(url, '{ identityProviders { slug } }', { token: globexOwner })).identityProviders, []);
    const stored = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute<{ client_secret_sealed: string }[]>(`select client_secret_sealed from identity.identity_providers`),
    );
    assert.ok(!stored[0]!.client_secret_sealed.includes('corp-client-secret'), 'the client secret is sealed at rest');
  });

  /** The whole round trip a user makes: our sign-in page, the upstream's, and back to the app. */
  async function signInUpstream(
    login: string,
  ): Promise<{ status: number; text: string; tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers }> {
    const config = await oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/acme`), clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new Browser(REDIRECT);
    const page = await (await browser.follow(authorize.toString())).response.text();
    const link = /<a href="([^"]+)">Continue with Corp SSO<\/a>/.exec(page)?.[1];
    assert.ok(link, 'the sign-in page offers the provider');
    // To the upstream provider's sign-in page, and through its login and consent.
    let step = await browser.follow(new URL(link, ctx.stack.routerUrl).toString());
    assert.ok(step.url.startsWith(upstream.issuer), `went to ${step.url}`);
    for (const prompt of ['login', 'consent']) {
      const form = /action="([^"]+)"/.exec(await step.response.text())?.[1];
      if (form === undefined || step.url.startsWith(REDIRECT)) break;
      step = await browser.follow(new URL(form, step.url).toString(), {
        method: 'POST',
        form: prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt },
      });
      if (!step.url.startsWith(upstream.issuer)) break;
    }
    // Back at our issuer: consent for the app, then the app's callback.
    if (!step.url.startsWith(REDIRECT) && step.response.status === 200) {
      const text = await step.response.text();
      const consent = /action="([^"]+\/consent)"/.exec(text)?.[1];
      if (consent === undefined) return { status: step.response.status, text };
      step = await browser.follow(new URL(consent, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    }
    if (!step.url.startsWith(REDIRECT)) return { status: step.response.status, text: await step.response.text() };
    return { status: 200, text: '', tokens: await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier }) };
  }

  it('creates an account for a new address the provider confirmed, and finds it again by the provider account', async () => {
    const first = await signInUpstream('corp-newbie');
    assert.ok(first.tokens, first.text);
    assert.equal(first.tokens.claims()?.email, 'newbie@corp.test');
    assert.deepEqual(first.tokens.claims()?.amr, ['fed']);
    const me = dataOf(
      await gql<{ me: { email: string; roles: string[]; emailVerified: boolean } }>(ctx.stack.graphqlUrl, '{ me { email roles emailVerified } }', {
        token: first.tokens.access_token,
      }),
    ).me;
    assert.deepEqual(me, { email: 'newbie@corp.test', roles: ['VIEWER'], emailVerified: true });
    const again = await signInUpstream('corp-newbie');
    assert.equal(again.tokens?.claims()?.sub, first.tokens.claims()?.sub);
    // The account has no password: only the provider signs it in.
    expectError(
      await gql(ctx.stack.graphqlUrl, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'newbie@corp.test', password: '!federated' } },
      }),
      'UNAUTHENTICATED',
    );
  });

  it('links an existing account by an address both sides confirmed, never otherwise', async () => {
    // Carol signed up with a password but never proved her address: no link.
    await signUp(ctx.stack.graphqlUrl, 'acme', 'carol@acme.test', 'carol-password');
    const unproven = await signInUpstream('corp-carol');
    assert.equal(unproven.status, 403);
    assert.match(unproven.text, /address is not verified/);
    // Alice proved hers (set directly here; the email flow has its own tests).
    await ctx.stack.db.withTenant(seed.acme.id, (em) => em.execute(`update identity.users set email_verified_at = now() where email = 'alice@acme.test'`));
    const linked = await signInUpstream('corp-alice');
    assert.equal(linked.tokens?.claims()?.sub, seed.alice.user.id);
    const refused = await signInUpstream('corp-mallory');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /did not confirm an email address/);
    const links = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute<{ subject: string }[]>(`select subject from identity.user_identities order by subject`),
    );
    assert.deepEqual(
      links.map((l) => l.subject),
      ['corp-alice', 'corp-newbie'],
    );
    const refusals = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute<{ target: string }[]>(
        `select target from platform.audit_log where action = 'auth.sign_in' and outcome = 'failure' and detail->>'via' = 'corp' order by id`,
      ),
    );
    assert.deepEqual(
      refusals.map((r) => r.target),
      ['carol@acme.test', 'bob@acme.test'],
      'refused upstream sign-ins are audited',
    );
  });

  it('creates no account when the tenant is closed to sign-up', async () => {
    dataOf(await gql(ctx.stack.graphqlUrl, 'mutation { updateTenantSettings(input: { selfSignUp: false }) { slug } }', { token: owner }));
    const refused = await signInUpstream('corp-stranger');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /ask for an invitation/);
  });

  it('finishes a sign-in only in the browser that started it', async () => {
    const config = await oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/acme`), clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const attacker = new Browser(REDIRECT);
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await (await attacker.follow(authorize.toString())).response.text();
    const link = /<a href="([^"]+)">Continue with Corp SSO<\/a>/.exec(page)![1]!;
    const toUpstream = await attacker.request(new URL(link, ctx.stack.routerUrl).toString());
    const upstreamUrl = toUpstream.headers.get('location')!;
    // The victim is sent the upstream link and signs in there in their own browser.
    const victim = new Browser(REDIRECT);
    let step = await victim.follow(upstreamUrl);
    for (const prompt of ['login', 'consent']) {
      const form = /action="([^"]+)"/.exec(await step.response.text())?.[1];
      if (form === undefined || !step.url.startsWith(upstream.issuer)) break;
      step = await victim.follow(new URL(form, step.url).toString(), {
        method: 'POST',
        form: prompt === 'login' ? { prompt, login: 'corp-newbie', password: 'x' } : { prompt },
      });
    }
    assert.ok(step.url.includes('/federation/corp/callback'), `ended at ${step.url}`);
    assert.equal(step.response.status, 400, 'the callback refuses a browser that did not start the sign-in');
    assert.match(await step.response.text(), /did not start here/);
    // And the attacker, resuming their own sign-in, is not signed in as the victim.
    const uid = new URL(upstreamUrl).searchParams.get('state')!.split('.')[0]!;
    const resumed = await attacker.follow(`${ctx.stack.routerUrl}/identity/acme/auth/${uid}`);
    assert.ok(!resumed.url.startsWith(REDIRECT), `the attacker got a code: ${resumed.url}`);
  });

  it('refuses a callback that did not start here', async () => {
    const forged = await fetch(`${ctx.stack.routerUrl}/identity/acme/federation/corp/callback?code=abc&state=nope.nope`);
    assert.equal(forged.status, 400);
    assert.equal((await fetch(`${ctx.stack.routerUrl}/identity/globex/federation/corp/callback?code=abc&state=x.y`)).status, 400);
  });
});
