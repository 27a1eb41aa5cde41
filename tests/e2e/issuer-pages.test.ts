import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { authorizationUrl } from '../support/pkce.ts';
import { rawRequest } from '../support/raw-http.ts';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { createPublicClient, signIn, signUp } from '../support/graphql-client.ts';
import { enrollTotp } from '../support/mfa.ts';
import { Browser } from '../support/browser.ts';

// The issuer's pages as a browser meets them: through the router, at the public URL.
const ctx = useTestStack({}, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';
/** Just over what any issuer form accepts. */
const OVERSIZED = 'x'.repeat(17 * 1024);

function assertUnframable(response: Response, what: string): void {
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/, what);
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
  assert.equal(response.headers.get('x-frame-options'), 'DENY', what);
}

const actionOf = (html: string) => /action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');

describe("the issuer's pages", () => {
  let seed: TwoTenants;
  let clientId: string;
  const router = () => ctx.stack.routerUrl;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const developer = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    clientId = await createPublicClient(url, developer.accessToken, 'Acme SPA', REDIRECT);
    // A user with an authenticator, for the second-factor page.
    const dana = await signUp(url, 'acme', 'dana@acme.test', 'dana-password');
    await enrollTotp(url, dana.accessToken);
  });

  const authorizeUrl = () => authorizationUrl(`${router()}/identity/acme`, { clientId, redirectUri: REDIRECT, scope: 'openid email', prompt: 'consent' });

  /** A browser at the sign-in page; returns it with the page's form action. */
  async function atSignIn(): Promise<{ browser: Browser; login: string; page: Response }> {
    const browser = new Browser(REDIRECT);
    const { response } = await browser.follow(authorizeUrl());
    const html = await response.clone().text();
    assert.match(html, /Sign in to Acme Corp/);
    return { browser, login: new URL(actionOf(html)!, router()).toString(), page: response };
  }

  it('sends no page that another site could frame', async () => {
    const { browser, login, page } = await atSignIn();
    assertUnframable(page, 'sign-in page');
    const wrong = await browser.request(login, { method: 'POST', form: { email: 'alice@acme.test', password: 'not-her-password' } });
    assert.equal(wrong.status, 401);
    assertUnframable(wrong, 'sign-in page with an error');
    const consent = await browser.follow(login, { method: 'POST', form: { email: 'alice@acme.test', password: 'alice-password' } });
    assert.match(await consent.response.clone().text(), /Allow access/);
    assertUnframable(consent.response, 'consent page');
    const done = await browser.follow(new URL(actionOf(await consent.response.text())!, router()).toString(), { method: 'POST', form: {} });
    assert.ok(done.url.startsWith(REDIRECT), done.url);

    // Signing out: the provider's own pages, in ours.
    const signOut = await browser.follow(`${router()}/identity/acme/session/end`);
    const signOutHtml = await signOut.response.clone().text();
    assert.equal(signOut.response.status, 200, signOutHtml);
    assert.match(signOutHtml, /Sign out of Acme Corp/);
    assertUnframable(signOut.response, 'sign-out page');
    const confirm = /action="([^"]+)"/.exec(signOutHtml)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(signOutHtml)![1]!;
    const signedOut = await browser.follow(confirm, { method: 'POST', form: { xsrf, logout: 'yes' } });
    assert.match(await signedOut.response.clone().text(), /signed out/i);
    assertUnframable(signedOut.response, 'signed-out page');

    const second = await atSignIn();
    const factor = await second.browser.request(second.login, { method: 'POST', form: { email: 'dana@acme.test', password: 'dana-password' } });
    assert.match(await factor.clone().text(), /Two-step verification/);
    assertUnframable(factor, 'second-factor page');

    const account = await fetch(`${router()}/identity/acme/account/reset-password?token=some-token`);
    assert.equal(account.status, 200);
    assertUnframable(account, 'emailed-link page');
    const incomplete = await fetch(`${router()}/identity/acme/account/verify-email`);
    assert.equal(incomplete.status, 400);
    assertUnframable(incomplete, 'emailed-link page without its token');

    const providerError = await fetch(
      `${router()}/identity/acme/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    const providerErrorHtml = await providerError.clone().text();
    assert.equal(providerError.status, 400);
    assert.match(providerErrorHtml, /invalid_client/);
    assert.doesNotMatch(providerErrorHtml, /https?:\/\//, 'the error page loads nothing from anywhere');
    assertUnframable(providerError, "the provider's error page");

    const upstream = await fetch(`${router()}/identity/acme/federation/corp/callback?state=nothing.here`);
    assert.equal(upstream.status, 400);
    assertUnframable(upstream, 'federated sign-in page');

    const expired = await fetch(`${router()}/identity/acme/interaction/no-such-step/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40b.c&password=x',
    });
    assert.equal(expired.status, 400);
    assert.match(await expired.clone().text(), /expired or is invalid/);
    assertUnframable(expired, 'expired sign-in page');
  });

  describe('oversized and malformed forms', () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    after(() => agent.destroy());

    it('answers an oversized emailed-link form with 413 and the page, on a connection that stays usable', async () => {
      const page = `${router()}/identity/acme/account/reset-password?token=some-token`;
      const big = await rawRequest(page, {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: 'some-token', password: 'a-new-password', padding: OVERSIZED }).toString(),
      });
      assert.equal(big.status, 413, big.text);
      assert.match(String(big.headers['content-type']), /^text\/html/);
      assert.match(big.text, /too large for this form/);
      assert.match(big.text, /name="token" value="some-token"/, 'the form is shown again');
      const next = await rawRequest(page, { agent });
      assert.equal(next.status, 200);
      assert.match(next.text, /Choose a new password/);
      assert.ok(next.reusedSocket, 'the connection was kept');
    });

    it('answers a body that is not a form with 400 and the page', async () => {
      const answer = await fetch(`${router()}/identity/acme/account/verify-email?token=some-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: 'some-token' }),
      });
      assert.equal(answer.status, 400);
      assert.match(await answer.text(), /takes its form as application\/x-www-form-urlencoded/);
    });

    it('answers oversized sign-in, second-factor and consent forms with 413 and the page, and the sign-in goes on', async () => {
      const { browser, login } = await atSignIn();
      const big = await browser.request(login, { method: 'POST', form: { email: 'alice@acme.test', password: 'alice-password', padding: OVERSIZED } });
      const bigHtml = await big.text();
      assert.equal(big.status, 413, bigHtml);
      assert.match(bigHtml, /Sign in to Acme Corp/);
      assert.match(bigHtml, /too large for this form/);
      const consent = await browser.follow(login, { method: 'POST', form: { email: 'alice@acme.test', password: 'alice-password' } });
      const consentHtml = await consent.response.text();
      assert.match(consentHtml, /Allow access/);
      const allow = new URL(actionOf(consentHtml)!, router()).toString();
      const bigConsent = await browser.request(allow, { method: 'POST', form: { padding: OVERSIZED } });
      const bigConsentHtml = await bigConsent.text();
      assert.equal(bigConsent.status, 413, bigConsentHtml);
      assert.match(bigConsentHtml, /Allow access/);
      const done = await browser.follow(allow, { method: 'POST', form: {} });
      assert.ok(done.url.startsWith(REDIRECT), done.url);

      const second = await atSignIn();
      const factor = await second.browser.request(second.login, { method: 'POST', form: { email: 'dana@acme.test', password: 'dana-password' } });
      const mfa = new URL(actionOf(await factor.text())!, router()).toString();
      const bigCode = await second.browser.request(mfa, { method: 'POST', form: { code: '123456', padding: OVERSIZED } });
      const bigCodeHtml = await bigCode.text();
      assert.equal(bigCode.status, 413, bigCodeHtml);
      assert.match(bigCodeHtml, /Two-step verification/);
    });
  });

  it('answers wrong methods and steps that do not exist as mistakes of the sender', async () => {
    const identity = new URL(ctx.stack.subgraphUrl('identity')).origin;
    const agent = new Agent();
    try {
      const deleted = await rawRequest(`${identity}/identity/acme/interaction/some-step/login`, { agent, method: 'DELETE' });
      assert.equal(deleted.status, 405);
      assert.equal(deleted.headers.allow, 'GET, HEAD, POST');
      const put = await rawRequest(`${identity}/identity/acme/account/verify-email`, {
        agent,
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=x',
      });
      assert.equal(put.status, 405);
    } finally {
      agent.destroy();
    }
    // A state that cannot name a sign-in (here with a NUL in it) is refused on the page, not a failure of ours.
    const garbled = await fetch(`${router()}/identity/acme/federation/corp/callback?state=%00.x`);
    assert.equal(garbled.status, 400);
    assertUnframable(garbled, 'federated sign-in page');
  });
});
