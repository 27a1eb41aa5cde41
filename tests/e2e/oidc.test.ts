import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp } from '../support/graphql-client.ts';
import { enrollTotp, nextTotp } from '../support/mfa.ts';
import { Browser } from '../support/browser.ts';

// A real relying party (openid-client) signs a user in at acme's issuer, through the router.
// A one-second grace window for reused refresh tokens, so the test can step past it.
const ctx = useTestStack({ TANSU_REFRESH_REUSE_GRACE: '1' }, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';

describe('OpenID Connect at a tenant issuer, through the router', () => {
  let seed: TwoTenants;
  let clientId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const dev = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    const created = dataOf(
      await gql<{ createClient: { client: { clientId: string; type: string }; clientSecret: string | null } }>(
        url,
        'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId type } clientSecret } }',
        { token: dev.accessToken, variables: { i: { name: 'Acme SPA', type: 'PUBLIC', redirectUris: [REDIRECT] } } },
      ),
    ).createClient;
    assert.equal(created.clientSecret, null);
    clientId = created.client.clientId;
  });

  async function discover(slug: string, id: string) {
    return oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/${slug}`), id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  }

  it('completes authorization code + PKCE, refreshes, and the access token works at the router', async () => {
    const config = await discover('acme', clientId);
    const { authorize, verifier } = await offlineAuthorization(config);
    const browser = new Browser(REDIRECT);
    const loginStep = await browser.follow(authorize.toString());
    assert.equal(loginStep.response.status, 200);
    const loginHtml = await loginStep.response.text();
    assert.match(loginHtml, /Sign in to Acme Corp/);
    const action = /action="([^"]+)"/.exec(loginHtml)![1]!;
    // A wrong password shows the form again.
    const wrong = await browser.request(new URL(action, ctx.stack.routerUrl).toString(), {
      method: 'POST',
      form: { email: 'alice@acme.test', password: 'nope-nope-nope' },
    });
    assert.equal(wrong.status, 401);
    const consentStep = await browser.follow(new URL(action, ctx.stack.routerUrl).toString(), {
      method: 'POST',
      form: { email: 'alice@acme.test', password: 'alice-password' },
    });
    const consentHtml = await consentStep.response.text();
    assert.match(consentHtml, /Allow access/);
    const consentAction = /action="([^"]+)"/.exec(consentHtml)![1]!;
    const callback = await browser.follow(new URL(consentAction, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    assert.ok(callback.url.startsWith(REDIRECT), `ended at ${callback.url}`);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: verifier });
    assert.ok(tokens.access_token);
    assert.deepEqual(
      browser.cookiesNamed('_session').map((c) => c.path),
      ['/identity/acme'],
      "the issuer's session cookie stays on its path",
    );
    assert.ok(tokens.refresh_token);
    assert.equal(tokens.claims()?.email, 'alice@acme.test');

    const me = await gql<{ me: { id: string; roles: string[]; tenant: { slug: string } } }>(ctx.stack.graphqlUrl, '{ me { id roles tenant { slug } } }', {
      token: tokens.access_token,
    });
    assert.deepEqual(dataOf(me).me, { id: seed.alice.user.id, roles: ['DEVELOPER'], tenant: { slug: 'acme' } });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    const again = await gql<{ me: { id: string } }>(ctx.stack.graphqlUrl, '{ me { id } }', { token: refreshed.access_token });
    assert.equal(dataOf(again).me.id, seed.alice.user.id);

    // The application was granted no API scope: it may not act in the API for alice.
    const refused = expectError(await gql(ctx.stack.graphqlUrl, '{ tenant { slug } }', { token: tokens.access_token }), 'FORBIDDEN');
    assert.equal(refused.extensions?.scope, 'tansu:read');

    // The access token of acme's issuer is refused with globex's tenant header.
    expectError(await gql(ctx.stack.graphqlUrl, '{ me { id } }', { token: tokens.access_token, headers: { 'x-tenant-id': 'globex' } }), 'FORBIDDEN');
  });

  /** An authorization request with PKCE that asks for a refresh token. */
  async function offlineAuthorization(config: oidc.Configuration, scope = 'openid email offline_access') {
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // OpenID Connect grants offline_access (a refresh token) only with explicit consent.
      prompt: 'consent',
    });
    return { authorize, verifier };
  }

  async function signInAtIssuer(config: oidc.Configuration, scope?: string) {
    const { authorize, verifier } = await offlineAuthorization(config, scope);
    const browser = new Browser(REDIRECT);
    const login = await browser.follow(authorize.toString());
    const action = /action="([^"]+)"/.exec(await login.response.text())![1]!;
    let step = await browser.follow(new URL(action, ctx.stack.routerUrl).toString(), {
      method: 'POST',
      form: { email: 'alice@acme.test', password: 'alice-password' },
    });
    if (!step.url.startsWith(REDIRECT)) {
      const consent = /action="([^"]+)"/.exec(await step.response.text())![1]!;
      step = await browser.follow(new URL(consent, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    }
    return oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier });
  }

  it('lets two tabs refresh with one token inside the grace window, and revokes the family on a later reuse', async () => {
    const config = await discover('acme', clientId);
    const tokens = await signInAtIssuer(config);
    const tabA = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    const tabB = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(tabA.refresh_token && tabB.refresh_token);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const invalidGrant = (error: unknown) => (error as { error?: string }).error === 'invalid_grant';
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), invalidGrant);
    // The reuse revoked the grant: the newest tokens of the family stop working too.
    await assert.rejects(oidc.refreshTokenGrant(config, tabA.refresh_token!), invalidGrant);
  });

  it('revokes a reused password-session refresh token family after the grace window', async () => {
    const url = ctx.stack.graphqlUrl;
    const refresh = (token: string) =>
      gql<{ refreshToken: { refreshToken: string } }>(url, 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { refreshToken } }', {
        variables: { i: { tenant: 'acme', refreshToken: token } },
      });
    const session = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    const next = dataOf(await refresh(session.refreshToken)).refreshToken;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expectError(await refresh(session.refreshToken), 'UNAUTHENTICATED');
    expectError(await refresh(next.refreshToken), 'UNAUTHENTICATED');
  });

  it('publishes its endpoints at the public URL, whatever X-Forwarded-Host a client sends', async () => {
    const response = await fetch(`${ctx.stack.routerUrl}/identity/acme/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    const discovery = (await response.json()) as { issuer: string; authorization_endpoint: string; token_endpoint: string };
    assert.equal(discovery.issuer, `${ctx.stack.routerUrl}/identity/acme`);
    assert.ok(discovery.authorization_endpoint.startsWith(`${ctx.stack.routerUrl}/identity/acme/`), discovery.authorization_endpoint);
    assert.ok(discovery.token_endpoint.startsWith(`${ctx.stack.routerUrl}/identity/acme/`), discovery.token_endpoint);
  });

  it("refuses acme's refresh token at globex's token endpoint", async () => {
    const tokens = await signInAtIssuer(await discover('acme', clientId));
    const globex = await discover('globex', clientId).catch(() => undefined);
    if (globex !== undefined) {
      await assert.rejects(oidc.refreshTokenGrant(globex, tokens.refresh_token!), (error: unknown) =>
        ['invalid_client', 'invalid_grant'].includes(String((error as { error?: string }).error)),
      );
    }
    const response = await fetch(`${ctx.stack.routerUrl}/identity/globex/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }).toString(),
    });
    // invalid_client (401): acme's client does not exist at globex's issuer.
    assert.ok([400, 401].includes(response.status), String(response.status));
    assert.match(await response.text(), /invalid_client|invalid_grant/);
  });

  it("refuses acme's client at globex's issuer", async () => {
    const config = await discover('globex', clientId);
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const result = await new Browser(REDIRECT).follow(authorize.toString());
    assert.equal(result.response.status, 400);
    assert.match(await result.response.text(), /invalid_client/);
  });

  it('serves a confidential client: client credentials, introspection and revocation', async () => {
    const url = ctx.stack.graphqlUrl;
    const dev = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    const created = dataOf(
      await gql<{ createClient: { client: { clientId: string }; clientSecret: string } }>(
        url,
        'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } clientSecret } }',
        {
          token: dev.accessToken,
          variables: {
            i: {
              name: 'Acme backend',
              type: 'CONFIDENTIAL',
              redirectUris: [REDIRECT],
              grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
            },
          },
        },
      ),
    ).createClient;
    const config = await oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/acme`), created.client.clientId, created.clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const machine = await oidc.clientCredentialsGrant(config, { scope: 'tansu:read' });
    assert.ok(machine.access_token);
    const claims = JSON.parse(Buffer.from(machine.access_token.split('.')[1]!, 'base64url').toString()) as { client_id: string; aud: string; tid: string };
    assert.deepEqual({ client: claims.client_id, aud: claims.aud, tid: claims.tid }, { client: created.client.clientId, aud: 'tansu', tid: seed.acme.id });
    await assert.rejects(
      oidc
        .discovery(new URL(`${ctx.stack.routerUrl}/identity/acme`), created.client.clientId, 'not-the-secret', undefined, {
          execute: [oidc.allowInsecureRequests],
        })
        .then((c) => oidc.clientCredentialsGrant(c)),
      (error: unknown) => (error as { error?: string }).error === 'invalid_client',
    );

    // A user's refresh token at this client: active until revoked, then refused.
    const tokens = await signInAtIssuer(config);
    assert.equal((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active, true);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    assert.equal((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
  });

  it('requires PKCE', async () => {
    const config = await discover('acme', clientId);
    const authorize = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid' });
    const result = await new Browser(REDIRECT).follow(authorize.toString());
    assert.ok(result.url.startsWith(REDIRECT) ? /error=invalid_request/.test(result.url) : result.response.status === 400, result.url);
  });

  it('refuses registering a client to viewers, and bad redirect URIs', async () => {
    const op = 'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } } }';
    expectError(
      await gql(ctx.stack.graphqlUrl, op, { token: seed.bob.accessToken, variables: { i: { name: 'x', type: 'PUBLIC', redirectUris: [REDIRECT] } } }),
      'FORBIDDEN',
    );
    const dev = await signIn(ctx.stack.graphqlUrl, 'acme', 'alice@acme.test', 'alice-password');
    const bad = await gql(ctx.stack.graphqlUrl, op, {
      token: dev.accessToken,
      variables: { i: { name: 'x', type: 'PUBLIC', redirectUris: ['http://evil.example/cb'] } },
    });
    assert.equal(expectError(bad, 'BAD_USER_INPUT').extensions?.field, 'redirectUris[0]');
  });

  it("ends a disabled user's grants and refuses them at the login page", async () => {
    const url = ctx.stack.graphqlUrl;
    const config = await discover('acme', clientId);
    const tokens = await signInAtIssuer(config);
    const owner = await signUpOwner(url);
    const setDisabled = (disabled: boolean) =>
      gql(url, 'mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { disabled } }', {
        token: owner,
        variables: { u: seed.alice.user.id, d: disabled },
      });
    dataOf(await setDisabled(true));
    {
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
      const verifier = oidc.randomPKCECodeVerifier();
      const authorize = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const browser = new Browser(REDIRECT);
      const login = await browser.follow(authorize.toString());
      const action = /action="([^"]+)"/.exec(await login.response.text())![1]!;
      const refused = await browser.request(new URL(action, ctx.stack.routerUrl).toString(), {
        method: 'POST',
        form: { email: 'alice@acme.test', password: 'alice-password' },
      });
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /This account is disabled/);
    }
    dataOf(await setDisabled(false));
    // Enabling her again does not revive the grants that were open when she was disabled.
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
  });

  it('asks a user with an authenticator for a code at the login page before any grant', async () => {
    const url = ctx.stack.graphqlUrl;
    const user = await signUp(url, 'acme', 'totp@acme.test', 'totp-password');
    const { secret } = await enrollTotp(url, user.accessToken);
    const config = await discover('acme', clientId);
    const { authorize, verifier } = await offlineAuthorization(config);
    const browser = new Browser(REDIRECT);
    const login = await browser.follow(authorize.toString());
    const action = new URL(/action="([^"]+)"/.exec(await login.response.text())![1]!, ctx.stack.routerUrl).toString();
    const codePage = await browser.request(action, { method: 'POST', form: { email: 'totp@acme.test', password: 'totp-password' } });
    assert.equal(codePage.status, 200);
    const codeHtml = await codePage.text();
    assert.match(codeHtml, /Two-step verification/);
    const codeAction = new URL(/action="([^"]+)"/.exec(codeHtml)![1]!, ctx.stack.routerUrl).toString();
    assert.match(codeAction, /\/mfa$/);

    const wrong = await browser.request(codeAction, { method: 'POST', form: { code: '000000' } });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /4 attempts left/);
    let step = await browser.follow(codeAction, { method: 'POST', form: { code: await nextTotp(secret) } });
    if (!step.url.startsWith(REDIRECT)) {
      const consent = /action="([^"]+)"/.exec(await step.response.text())![1]!;
      step = await browser.follow(new URL(consent, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    }
    assert.ok(step.url.startsWith(REDIRECT), `ended at ${step.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier });
    assert.deepEqual(tokens.claims()?.amr, ['pwd', 'mfa']);
    assert.equal(tokens.claims()?.email, 'totp@acme.test');

    // Skipping the code page is not a way in: the code step is the only one that finishes.
    const other = new Browser(REDIRECT);
    const again = await other.follow(
      oidc
        .buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        })
        .toString(),
    );
    const againAction = new URL(/action="([^"]+)"/.exec(await again.response.text())![1]!, ctx.stack.routerUrl).toString();
    await other.request(againAction, { method: 'POST', form: { email: 'totp@acme.test', password: 'totp-password' } });
    const consentWithoutCode = await other.request(againAction.replace(/\/login$/, '/consent'), { method: 'POST', form: {} });
    assert.equal(consentWithoutCode.status, 400);
  });

  it("lets an application act in the API only within the scopes the user granted it, and the user's role", async () => {
    const url = ctx.stack.graphqlUrl;
    const tokens = await signInAtIssuer(await discover('acme', clientId), 'openid tansu:read');
    assert.match(String(tokens.scope), /tansu:read/);
    assert.equal(dataOf(await gql<{ tenant: { slug: string } }>(url, '{ tenant { slug } }', { token: tokens.access_token })).tenant.slug, 'acme');
    const write = 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }';
    const variables = { i: { name: 'from-app', steps: [{ id: 'a', type: 'log', with: { message: 'hi' } }] } };
    const refused = expectError(await gql(url, write, { token: tokens.access_token, variables }), 'FORBIDDEN');
    assert.equal(refused.extensions?.scope, 'tansu:write');
    // With tansu:write granted, alice's own role (developer) is what allows it.
    const writer = await signInAtIssuer(await discover('acme', clientId), 'openid tansu:read tansu:write');
    dataOf(await gql(url, write, { token: writer.access_token, variables }));
    expectError(await gql(url, '{ users { nodes { id } } }', { token: writer.access_token }), 'FORBIDDEN');
  });

  async function signUpOwner(url: string): Promise<string> {
    const owner = await signUp(url, 'acme', 'owner@acme.test', 'owner-password');
    await setRole(url, seed.admin.accessToken, 'acme', owner.user.id, 'OWNER');
    return (await signIn(url, 'acme', 'owner@acme.test', 'owner-password')).accessToken;
  }
});
