import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { createPublicClient, dataOf, expectError, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';
import { createWorkflow } from '../support/workflows.ts';
import { Browser } from '../support/browser.ts';

// Sessions through the router: first-party refresh-token families and an application's grant
// at the tenant's issuer (a real OpenID client, so the issuer must be reachable).
const ctx = useTestStack({}, { publicRouter: true });
const REDIRECT = 'http://localhost:8080/callback';

interface Session {
  id: string;
  kind: 'DIRECT' | 'ISSUER';
  clientId: string | null;
  startedAt: string;
  lastRefreshedAt: string | null;
  expiresAt: string;
  authMethods: string[];
  authenticatedAt: string | null;
}

const SESSION_FIELDS = 'id kind clientId startedAt lastRefreshedAt expiresAt authMethods authenticatedAt';
const END = 'mutation($id: ID!) { endSession(id: $id) }';
const END_ALL = 'mutation($u: ID!) { endUserSessions(userId: $u) }';
const REFRESH = 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }';

describe('user sessions', () => {
  let seed: TwoTenants;
  let owner: AuthPayload;
  let admin: AuthPayload;
  let carol: AuthPayload;
  let erin: AuthPayload;

  async function ownSessions(token: string): Promise<Session[]> {
    return dataOf(await gql<{ me: { sessions: Session[] } }>(ctx.stack.graphqlUrl, `{ me { sessions { ${SESSION_FIELDS} } } }`, { token })).me.sessions;
  }

  /** A member's sessions as an owner or admin sees them in the user list. */
  async function sessionsOf(token: string, userId: string): Promise<Session[]> {
    const users = dataOf(
      await gql<{ users: { nodes: { id: string; sessions: Session[] }[] } }>(
        ctx.stack.graphqlUrl,
        `{ users(first: 50) { nodes { id sessions { ${SESSION_FIELDS} } } } }`,
        {
          token,
        },
      ),
    ).users.nodes;
    const user = users.find((u) => u.id === userId);
    assert.ok(user, `user ${userId} is listed`);
    return user.sessions;
  }

  const refresh = (refreshToken: string) =>
    gql<{ refreshToken: { accessToken: string; refreshToken: string } }>(ctx.stack.graphqlUrl, REFRESH, { variables: { i: { tenant: 'acme', refreshToken } } });

  /** Signs carol in and returns the tokens with the id of the session the sign-in started. */
  async function carolSignsIn(): Promise<{ tokens: AuthPayload; id: string }> {
    const before = new Set((await sessionsOf(owner.accessToken, carol.user.id)).map((s) => s.id));
    const tokens = await signIn(ctx.stack.graphqlUrl, 'acme', 'carol@acme.test', 'carol-password');
    const started = (await sessionsOf(owner.accessToken, carol.user.id)).filter((s) => !before.has(s.id));
    assert.equal(started.length, 1, 'one sign-in starts one session');
    return { tokens, id: started[0]!.id };
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    carol = await signUp(url, 'acme', 'carol@acme.test', 'carol-password');
    erin = await signUp(url, 'acme', 'erin@acme.test', 'erin-password');
    const dave = await signUp(url, 'acme', 'dave@acme.test', 'dave-password');
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    await setRole(url, seed.admin.accessToken, 'acme', dave.user.id, 'ADMIN');
    owner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    admin = await signIn(url, 'acme', 'dave@acme.test', 'dave-password');
  });

  it('lists each sign-in as a session, to the user and to owners and admins', async () => {
    const url = ctx.stack.graphqlUrl;
    const [signedUp] = await ownSessions(carol.accessToken);
    assert.ok(signedUp, 'signing up started a session');
    const first = await carolSignsIn();
    const second = await carolSignsIn();

    const own = await ownSessions(second.tokens.accessToken);
    assert.deepEqual(
      own.map((s) => s.id),
      [second.id, first.id, signedUp.id],
      'newest first',
    );
    for (const session of own) {
      assert.equal(session.kind, 'DIRECT');
      assert.equal(session.clientId, null);
      assert.deepEqual(session.authMethods, ['pwd']);
      assert.equal(session.lastRefreshedAt, null);
      assert.ok(Date.parse(session.expiresAt) > Date.now());
      assert.ok(Date.parse(session.startedAt) <= Date.now());
      assert.ok(session.authenticatedAt !== null);
    }
    assert.deepEqual(await sessionsOf(admin.accessToken, carol.user.id), own, 'an admin sees the same sessions');

    // Renewing keeps the session and says when it was renewed.
    const renewed = dataOf(await refresh(first.tokens.refreshToken)).refreshToken;
    first.tokens = { ...first.tokens, ...renewed };
    const after = (await ownSessions(carol.accessToken)).find((s) => s.id === first.id);
    assert.ok(after, 'the refreshed session is still listed');
    assert.ok(after.lastRefreshedAt !== null && Date.parse(after.lastRefreshedAt) >= Date.parse(after.startedAt));
    assert.equal(after.startedAt, own.find((s) => s.id === first.id)!.startedAt);

    // Ending one stops its refresh token; the other sessions go on.
    assert.equal(dataOf(await gql<{ endSession: boolean }>(url, END, { token: admin.accessToken, variables: { id: first.id } })).endSession, true);
    const refused = expectError(await refresh(first.tokens.refreshToken), 'UNAUTHENTICATED');
    assert.match(refused.message, /Invalid or expired refresh token/);
    assert.ok(dataOf(await refresh(second.tokens.refreshToken)).refreshToken.accessToken);
    // Its last access token lives until it expires, as documented.
    assert.equal(dataOf(await gql<{ me: { id: string } }>(url, '{ me { id } }', { token: first.tokens.accessToken })).me.id, carol.user.id);
    assert.deepEqual(
      (await ownSessions(carol.accessToken)).map((s) => s.id),
      [second.id, signedUp.id],
    );
    // Ended, unknown and malformed ids.
    expectError(await gql(url, END, { token: admin.accessToken, variables: { id: first.id } }), 'NOT_FOUND');
    expectError(await gql(url, END, { token: admin.accessToken, variables: { id: `direct:${crypto.randomUUID()}` } }), 'NOT_FOUND');
    expectError(await gql(url, END, { token: admin.accessToken, variables: { id: 'issuer:no-such-grant' } }), 'NOT_FOUND');
    for (const id of ['nonsense', 'direct:not-a-uuid', `issuer:${'x'.repeat(200)}`, 'issuer:a b']) {
      const bad = expectError(await gql(url, END, { token: admin.accessToken, variables: { id } }), 'BAD_USER_INPUT');
      assert.equal(bad.extensions?.field, 'id');
    }
    expectError(await gql(url, END, { variables: { id: second.id } }), 'UNAUTHENTICATED');

    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; actorId: string; target: string }[] } }>(
        url,
        'query($f: AuditFilter) { auditLog(filter: $f, first: 10) { entries { action actorId target } } }',
        { token: owner.accessToken, variables: { f: { action: 'session.ended' } } },
      ),
    ).auditLog.entries;
    assert.deepEqual(audit, [{ action: 'session.ended', actorId: admin.user.id, target: first.id }]);
  });

  it("keeps a member from seeing or ending another user's sessions, but not their own", async () => {
    const url = ctx.stack.graphqlUrl;
    const carolSession = (await sessionsOf(owner.accessToken, carol.user.id))[0]!;
    expectError(await gql(url, END, { token: erin.accessToken, variables: { id: carolSession.id } }), 'FORBIDDEN');
    expectError(await gql(url, END_ALL, { token: erin.accessToken, variables: { u: carol.user.id } }), 'FORBIDDEN');
    // A member reaches another user through a workflow's author, but not their sessions.
    await createWorkflow(url, admin.accessToken, 'greet', [{ id: 'a', type: 'log', with: { message: 'hi' } }]);
    const authors = await gql(url, '{ workflows { name createdBy { id sessions { id } } } }', { token: erin.accessToken });
    assert.match(expectError(authors, 'FORBIDDEN').message, /Only owners and admins may see another user's sessions/);
    assert.equal(
      dataOf(await gql<{ workflows: { createdBy: { id: string } }[] }>(url, '{ workflows { createdBy { id } } }', { token: erin.accessToken })).workflows[0]
        ?.createdBy.id,
      admin.user.id,
    );
    assert.deepEqual((await sessionsOf(owner.accessToken, carol.user.id)).map((s) => s.id).includes(carolSession.id), true, "carol's session is untouched");

    // Her own: she may see and end them.
    const other = await signIn(url, 'acme', 'erin@acme.test', 'erin-password');
    const mine = await ownSessions(erin.accessToken);
    assert.equal(mine.length, 2);
    const otherId = mine[0]!.id;
    dataOf(await gql(url, END, { token: erin.accessToken, variables: { id: otherId } }));
    expectError(await refresh(other.refreshToken), 'UNAUTHENTICATED');
    assert.ok(dataOf(await refresh(erin.refreshToken)).refreshToken.accessToken);

    // An admin may not end an owner's sessions; an owner may.
    const ownerSession = (await ownSessions(owner.accessToken))[0]!;
    assert.match(expectError(await gql(url, END, { token: admin.accessToken, variables: { id: ownerSession.id } }), 'FORBIDDEN').message, /Only owners/);
    expectError(await gql(url, END_ALL, { token: admin.accessToken, variables: { u: owner.user.id } }), 'FORBIDDEN');
    assert.ok((await ownSessions(owner.accessToken)).some((s) => s.id === ownerSession.id));
  });

  it("ending all of a user's sessions refuses their current access token at once", async () => {
    const url = ctx.stack.graphqlUrl;
    const current = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    dataOf(await gql(url, '{ me { id } }', { token: current.accessToken }));
    const live = await sessionsOf(owner.accessToken, carol.user.id);
    assert.ok(live.length >= 2);

    const ended = dataOf(await gql<{ endUserSessions: number }>(url, END_ALL, { token: owner.accessToken, variables: { u: carol.user.id } })).endUserSessions;
    assert.equal(ended, live.length);
    const me = await eventually(
      () => gql(url, '{ me { id } }', { token: current.accessToken }),
      (res) => res.body.errors !== undefined,
      20,
    );
    assert.match(expectError(me, 'UNAUTHENTICATED').message, /session was ended/);
    expectError(await refresh(current.refreshToken), 'UNAUTHENTICATED');
    assert.deepEqual(await sessionsOf(owner.accessToken, carol.user.id), []);

    // She may sign in again.
    const back = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    assert.equal((await ownSessions(back.accessToken)).length, 1);

    expectError(await gql(url, END_ALL, { token: owner.accessToken, variables: { u: crypto.randomUUID() } }), 'NOT_FOUND');
    assert.equal(expectError(await gql(url, END_ALL, { token: owner.accessToken, variables: { u: 'carol' } }), 'BAD_USER_INPUT').extensions?.field, 'userId');
    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; actorId: string; target: string }[] } }>(
        url,
        'query($f: AuditFilter) { auditLog(filter: $f, first: 10) { entries { action actorId target } } }',
        { token: owner.accessToken, variables: { f: { action: 'user.sessions_ended' } } },
      ),
    ).auditLog.entries;
    assert.deepEqual(audit, [{ action: 'user.sessions_ended', actorId: owner.user.id, target: carol.user.id }]);

    // Ending one's own sessions signs oneself out everywhere, this token included.
    const self = await signIn(url, 'acme', 'erin@acme.test', 'erin-password');
    assert.ok(dataOf(await gql<{ endUserSessions: number }>(url, END_ALL, { token: self.accessToken, variables: { u: erin.user.id } })).endUserSessions >= 2);
    const refusedSelf = await eventually(
      () => gql(url, '{ me { id } }', { token: self.accessToken }),
      (res) => res.body.errors !== undefined,
      20,
    );
    expectError(refusedSelf, 'UNAUTHENTICATED');
  });

  it("lists and ends an application's grant at the tenant's issuer", async () => {
    const url = ctx.stack.graphqlUrl;
    const clientId = await createPublicClient(url, admin.accessToken, 'Acme SPA', REDIRECT);
    const config = await oidc.discovery(new URL(`${ctx.stack.routerUrl}/identity/acme`), clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await signInAtIssuer(config);
    const renewed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(renewed.refresh_token);

    const direct = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    const issuer = (await ownSessions(direct.accessToken)).filter((s) => s.kind === 'ISSUER');
    assert.equal(issuer.length, 1);
    const grant = issuer[0]!;
    assert.equal(grant.clientId, clientId);
    assert.deepEqual(grant.authMethods, ['pwd']);
    assert.ok(grant.id.startsWith('issuer:'));
    assert.ok(grant.lastRefreshedAt !== null && Date.parse(grant.lastRefreshedAt) >= Date.parse(grant.startedAt));
    assert.ok(Date.parse(grant.expiresAt) > Date.now());
    assert.deepEqual(
      (await sessionsOf(admin.accessToken, carol.user.id)).map((s) => s.id).sort(),
      (await ownSessions(direct.accessToken)).map((s) => s.id).sort(),
    );

    dataOf(await gql(url, END, { token: direct.accessToken, variables: { id: grant.id } }));
    await assert.rejects(oidc.refreshTokenGrant(config, renewed.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
    assert.deepEqual(
      (await ownSessions(direct.accessToken)).filter((s) => s.kind === 'ISSUER'),
      [],
    );
    expectError(await gql(url, END, { token: direct.accessToken, variables: { id: grant.id } }), 'NOT_FOUND');

    // Ending all of them ends the issuer's grants too.
    const again = await signInAtIssuer(config);
    const live = await sessionsOf(admin.accessToken, carol.user.id);
    assert.equal(live.filter((s) => s.kind === 'ISSUER').length, 1);
    assert.equal(
      dataOf(await gql<{ endUserSessions: number }>(url, END_ALL, { token: admin.accessToken, variables: { u: carol.user.id } })).endUserSessions,
      live.length,
    );
    assert.deepEqual(await sessionsOf(admin.accessToken, carol.user.id), []);
    await assert.rejects(oidc.refreshTokenGrant(config, again.refresh_token!), (error: unknown) => (error as { error?: string }).error === 'invalid_grant');
  });

  async function signInAtIssuer(config: oidc.Configuration) {
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    const browser = new Browser(REDIRECT);
    const login = await browser.follow(authorize.toString());
    const action = /action="([^"]+)"/.exec(await login.response.text())![1]!;
    let step = await browser.follow(new URL(action, ctx.stack.routerUrl).toString(), {
      method: 'POST',
      form: { email: 'carol@acme.test', password: 'carol-password' },
    });
    if (!step.url.startsWith(REDIRECT)) {
      const consent = /action="([^"]+)"/.exec(await step.response.text())![1]!;
      step = await browser.follow(new URL(consent, ctx.stack.routerUrl).toString(), { method: 'POST', form: {} });
    }
    return oidc.authorizationCodeGrant(config, new URL(step.url), { pkceCodeVerifier: verifier });
  }

  it("reads one user by id with their sessions, for the tenant's owners and admins", async () => {
    const url = ctx.stack.graphqlUrl;
    const USER = `query($id: ID!) { user(id: $id) { id email sessions { ${SESSION_FIELDS} } } }`;
    const { user } = dataOf(
      await gql<{ user: { id: string; email: string; sessions: Session[] } | null }>(url, USER, { token: owner.accessToken, variables: { id: carol.user.id } }),
    );
    assert.equal(user?.email, 'carol@acme.test');
    assert.deepEqual(
      user.sessions.map((s) => s.id),
      (await sessionsOf(owner.accessToken, carol.user.id)).map((s) => s.id),
    );
    assert.equal(dataOf(await gql<{ user: null }>(url, USER, { token: owner.accessToken, variables: { id: crypto.randomUUID() } })).user, null);
    expectError(await gql(url, USER, { token: owner.accessToken, variables: { id: 'not-an-id' } }), 'BAD_USER_INPUT');
    const member = await signIn(url, 'acme', 'erin@acme.test', 'erin-password');
    expectError(await gql(url, USER, { token: member.accessToken, variables: { id: carol.user.id } }), 'FORBIDDEN');
  });
});
