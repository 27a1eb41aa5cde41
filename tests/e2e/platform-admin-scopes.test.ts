import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { useTestStack, ADMIN } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { createPublicClient, dataOf, expectError, gql, type GraphQLResponse } from '../support/graphql-client.ts';
import { startMailCatcher, tokenIn } from '../support/mail-catcher.ts';
import { Browser } from '../support/browser.ts';

// An application registered in the platform tenant, signed into by the platform administrator
// through a real authorization-code flow: it may do only what the administrator granted it.
const catcher = await startMailCatcher();
after(() => catcher.stop());
const ctx = useTestStack({ TANSU_SMTP_URL: catcher.url }, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';

const AUDIT = '{ auditLog(first: 5) { entries { action } } }';
const MEMBERS = '{ me { tenant { members { userId role } } } }';
const SETTINGS = 'mutation($t: String, $i: TenantSettingsInput!) { updateTenantSettings(tenant: $t, input: $i) { slug } }';
const SET_ROLE = 'mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { userId role } }';

describe('platform administrators through an application', () => {
  let seed: TwoTenants;
  let clientId: string;
  let carolId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    clientId = await createPublicClient(url, seed.admin.accessToken, 'Ops dashboard', REDIRECT);
    // A second member of the platform tenant, whose role the application tries to change.
    dataOf(
      await gql(url, 'mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }', {
        token: seed.admin.accessToken,
        variables: { i: { email: 'carol@platform.test', role: 'VIEWER' } },
      }),
    );
    const token = tokenIn(await catcher.waitFor('carol@platform.test', /invited/));
    carolId = dataOf(
      await gql<{ acceptInvitation: { user: { id: string } } }>(url, 'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }', {
        variables: { i: { tenant: 'platform', token, password: 'carol-password' } },
      }),
    ).acceptInvitation.user.id;
  });

  /** The administrator signs in at the platform issuer and consents to `scope`; returns the application's access token. */
  async function appToken(scope: string): Promise<string> {
    const config = await oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/platform`), clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    const browser = new Browser(REDIRECT);
    const login = await browser.follow(authorize.toString());
    const action = /action="([^"]+)"/.exec(await login.response.text())![1]!;
    let step = await browser.follow(new URL(action, ctx.stack.routerUrl).toString(), {
      method: 'POST',
      form: { email: ADMIN.email, password: ADMIN.password },
    });
    if (!step.url.startsWith(REDIRECT)) {
      const consent = /action="([^"]+)"/.exec(await step.response.text())![1]!;
      step = await browser.follow(new URL(consent, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    }
    assert.ok(step.url.startsWith(REDIRECT), `ended at ${step.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier });
    return tokens.access_token;
  }

  function refusedForScope(response: GraphQLResponse): void {
    const error = expectError(response, 'FORBIDDEN');
    assert.equal(error.extensions?.scope, 'tansu:admin', JSON.stringify(error));
  }

  it('refuses an application granted only openid everything a platform administrator may do', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = await appToken('openid');
    refusedForScope(await gql(url, AUDIT, { token }));
    refusedForScope(await gql(url, MEMBERS, { token }));
    refusedForScope(await gql(url, SETTINGS, { token, variables: { i: { passwordMinLength: 20 } } }));
    refusedForScope(await gql(url, SET_ROLE, { token, variables: { i: { userId: carolId, role: 'OWNER' } } }));
    // Across tenants too: being a platform administrator through an application takes tansu:admin.
    refusedForScope(await gql(url, '{ auditLog(tenant: "acme", first: 5) { entries { action } } }', { token }));
    refusedForScope(await gql(url, SETTINGS, { token, variables: { t: 'acme', i: { passwordMinLength: 20 } } }));
    refusedForScope(await gql(url, SET_ROLE, { token, variables: { i: { tenant: 'acme', userId: seed.alice.user.id, role: 'OWNER' } } }));
    refusedForScope(await gql(url, '{ tenants { slug } }', { token }));

    // Nothing changed: the administrator's own session sees carol still a viewer and the settings as they were.
    const members = dataOf(await gql<{ me: { tenant: { members: { userId: string; role: string }[] } } }>(url, MEMBERS, { token: seed.admin.accessToken })).me
      .tenant.members;
    assert.equal(members.find((m) => m.userId === carolId)?.role, 'VIEWER');
    const settings = dataOf(
      await gql<{ tenant: { settings: { passwordMinLength: number } } }>(url, '{ tenant { settings { passwordMinLength } } }', {
        token: seed.admin.accessToken,
      }),
    );
    assert.equal(settings.tenant.settings.passwordMinLength, 8);
  });

  it('lets an application granted tansu:admin act for the platform administrator', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = await appToken('openid tansu:admin');
    assert.ok(dataOf(await gql<{ auditLog: { entries: unknown[] } }>(url, AUDIT, { token })).auditLog.entries.length > 0);
    const members = dataOf(await gql<{ me: { tenant: { members: { userId: string }[] } } }>(url, MEMBERS, { token })).me.tenant.members;
    assert.ok(members.some((m) => m.userId === carolId));
    // tansu:admin alone does not read the tenant (tansu:read does): the answer selects only the slug.
    dataOf(
      await gql(url, 'mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { slug } }', { token, variables: { i: { passwordMinLength: 12 } } }),
    );
    const settings = dataOf(
      await gql<{ tenant: { settings: { passwordMinLength: number } } }>(url, '{ tenant { settings { passwordMinLength } } }', {
        token: seed.admin.accessToken,
      }),
    );
    assert.equal(settings.tenant.settings.passwordMinLength, 12);
    assert.deepEqual(dataOf(await gql(url, SET_ROLE, { token, variables: { i: { userId: carolId, role: 'ADMIN' } } })).setMemberRole, {
      userId: carolId,
      role: 'ADMIN',
    });
    assert.deepEqual(
      dataOf(await gql(url, SET_ROLE, { token, variables: { i: { tenant: 'acme', userId: seed.alice.user.id, role: 'DEVELOPER' } } })).setMemberRole,
      { userId: seed.alice.user.id, role: 'DEVELOPER' },
    );
    // Another tenant's members stay its own: acme's list holds none of globex's users.
    const acme = dataOf(
      await gql<{ tenants: { slug: string; members: { userId: string }[] }[] }>(url, '{ tenants { slug members { userId } } }', { token }),
    ).tenants.find((t) => t.slug === 'acme')!;
    assert.deepEqual(
      acme.members.map((m) => m.userId),
      [seed.alice.user.id],
    );
  });
});
