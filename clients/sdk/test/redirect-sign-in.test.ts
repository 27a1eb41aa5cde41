import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TansuError, createTansuClient, graphql, memoryStore, type FlowStorage, type Session } from '@tansu/client';
import { useTestStack } from '../../../tests/support/test-stack.ts';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';
import { dataOf, gql, signIn } from '../../../tests/support/graphql-client.ts';
import { Browser } from '../../../tests/support/browser.ts';

// The issuer's pages must reach the router, as a browser would follow them.
const ctx = useTestStack({}, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';

const ME = graphql(`
  query RedirectMe {
    me {
      email
    }
  }
`);

/** sessionStorage, as far as the sign-in flow uses it. */
function flowStorage(): FlowStorage & { size(): number } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    size: () => items.size,
  };
}

/** The person at the tenant's sign-in page: password, then consent; returns where the issuer sent the browser. */
async function signInAtIssuer(authorizeUrl: string): Promise<string> {
  const browser = new Browser(REDIRECT);
  const login = await browser.follow(authorizeUrl);
  const action = /action="([^"]+)"/.exec(await login.response.text())?.[1];
  assert.ok(action !== undefined, 'the sign-in page has a form');
  const consent = await browser.follow(new URL(action, ctx.stack.routerUrl).toString(), {
    method: 'POST',
    form: { email: 'alice@acme.test', password: 'alice-password' },
  });
  const consentAction = /action="([^"]+)"/.exec(await consent.response.text())?.[1];
  assert.ok(consentAction !== undefined, 'the consent page has a form');
  const callback = await browser.follow(new URL(consentAction, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
  assert.ok(callback.url.startsWith(REDIRECT), `ended at ${callback.url}`);
  return callback.url;
}

describe("sign-in at the tenant's own page (authorization code with PKCE)", () => {
  let clientId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const dev = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    clientId = dataOf(
      await gql<{ createClient: { client: { clientId: string } } }>(
        url,
        'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } } }',
        {
          token: dev.accessToken,
          variables: { i: { name: 'Acme SPA', type: 'PUBLIC', redirectUris: [REDIRECT] } },
        },
      ),
    ).createClient.client.clientId;
  });

  it('signs in, calls the API, and refreshes at the issuer', async () => {
    const store = memoryStore();
    // Due at once: every request refreshes first, so the refresh is exercised.
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme', store, refreshMarginSeconds: 86_400 });
    const storage = flowStorage();
    const authorize = await client.auth.startRedirect({ clientId, redirectUri: REDIRECT, storage });
    assert.match(authorize, /code_challenge_method=S256/);
    assert.equal(storage.size(), 1, 'the verifier waits for the redirect');
    const session = await client.auth.finishRedirect({ clientId, redirectUri: REDIRECT, storage, callbackUrl: await signInAtIssuer(authorize) });
    assert.equal(storage.size(), 0, 'the verifier is used once');
    assert.equal(session.oidc?.clientId, clientId);
    assert.equal((await client.request(ME)).me?.email, 'alice@acme.test');
    const refreshed = (await store.load()) as Session;
    assert.notEqual(refreshed.refreshToken, session.refreshToken, 'the issuer rotated the refresh token');
    assert.notEqual(refreshed.accessToken, session.accessToken);
    client.close();
  });

  it('refuses a redirect it did not start', async () => {
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
    const error = await client.auth
      .finishRedirect({ clientId, redirectUri: REDIRECT, storage: flowStorage(), callbackUrl: `${REDIRECT}?code=forged&state=forged` })
      .catch((e: unknown) => e);
    assert.ok(error instanceof TansuError);
    assert.equal(error.code, 'BAD_USER_INPUT');
    client.close();
  });
});
