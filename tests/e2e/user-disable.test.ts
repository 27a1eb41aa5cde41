import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';

const ctx = useTestStack();

const SET_DISABLED = 'mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id disabled } }';
const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
const REFRESH = 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }';

describe('disabling users', () => {
  let seed: TwoTenants;
  let owner: AuthPayload;
  let admin: AuthPayload;
  let carol: AuthPayload;
  let globexOwner: AuthPayload;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    carol = await signUp(url, 'acme', 'carol@acme.test', 'carol-password');
    const dave = await signUp(url, 'acme', 'dave@acme.test', 'dave-password');
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    await setRole(url, seed.admin.accessToken, 'acme', dave.user.id, 'ADMIN');
    await setRole(url, seed.admin.accessToken, 'globex', seed.bob.user.id, 'OWNER');
    owner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    admin = await signIn(url, 'acme', 'dave@acme.test', 'dave-password');
    globexOwner = await signIn(url, 'globex', 'bob@globex.test', 'bob-password');
  });

  it('is refused to members, to admins against owners, to oneself, and across tenants', async () => {
    const url = ctx.stack.graphqlUrl;
    expectError(await gql(url, SET_DISABLED, { token: carol.accessToken, variables: { u: admin.user.id, d: true } }), 'FORBIDDEN');
    expectError(await gql(url, SET_DISABLED, { token: admin.accessToken, variables: { u: owner.user.id, d: true } }), 'FORBIDDEN');
    expectError(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: owner.user.id, d: true } }), 'BAD_USER_INPUT');
    expectError(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: owner.user.id.toUpperCase(), d: true } }), 'BAD_USER_INPUT');
    expectError(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: '-'.repeat(36), d: true } }), 'BAD_USER_INPUT');
    expectError(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: 'not-a-user', d: true } }), 'BAD_USER_INPUT');
    // globex's owner cannot even see acme's user.
    expectError(await gql(url, SET_DISABLED, { token: globexOwner.accessToken, variables: { u: carol.user.id, d: true } }), 'NOT_FOUND');
    assert.ok(await signIn(url, 'acme', 'carol@acme.test', 'carol-password'), 'carol is still enabled');
  });

  it('stops sign-in and ends sessions until the user is enabled again', async () => {
    const url = ctx.stack.graphqlUrl;
    const session = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    dataOf(await gql(url, '{ me { id } }', { token: session.accessToken }));
    const disabled = dataOf(
      await gql<{ setUserDisabled: { id: string; disabled: boolean } }>(url, SET_DISABLED, {
        token: admin.accessToken,
        variables: { u: carol.user.id, d: true },
      }),
    );
    assert.deepEqual(disabled.setUserDisabled, { id: carol.user.id, disabled: true });
    // Her access token stops at the router now, not when it expires.
    const me = await eventually(
      () => gql(url, '{ me { id } }', { token: session.accessToken }),
      (res) => res.body.errors !== undefined,
      20,
    );
    assert.match(expectError(me, 'UNAUTHENTICATED').message, /session was ended/);

    const refused = expectError(
      await gql(url, SIGN_IN, { variables: { i: { tenant: 'acme', email: 'carol@acme.test', password: 'carol-password' } } }),
      'FORBIDDEN',
    );
    assert.match(refused.message, /disabled/);
    // A wrong password says nothing about the account.
    const wrong = expectError(
      await gql(url, SIGN_IN, { variables: { i: { tenant: 'acme', email: 'carol@acme.test', password: 'not-her-password' } } }),
      'UNAUTHENTICATED',
    );
    assert.doesNotMatch(wrong.message, /disabled/);
    expectError(await gql(url, REFRESH, { variables: { i: { tenant: 'acme', refreshToken: session.refreshToken } } }), 'UNAUTHENTICATED');

    const listed = dataOf(
      await gql<{ users: { nodes: { email: string; disabled: boolean }[] } }>(url, '{ users(first: 50) { nodes { email disabled } } }', {
        token: owner.accessToken,
      }),
    ).users.nodes;
    assert.deepEqual(
      listed.filter((u) => u.disabled).map((u) => u.email),
      ['carol@acme.test'],
    );

    dataOf(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: carol.user.id, d: false } }));
    const back = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    assert.equal(back.user.id, carol.user.id);
    // The session that was open when she was disabled stays ended.
    expectError(await gql(url, REFRESH, { variables: { i: { tenant: 'acme', refreshToken: session.refreshToken } } }), 'UNAUTHENTICATED');

    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; actorId: string; target: string }[] } }>(
        url,
        '{ auditLog(first: 100) { entries { action actorId target } } }',
        { token: owner.accessToken },
      ),
    ).auditLog.entries;
    const changes = audit.filter((e) => e.action === 'user.disabled' || e.action === 'user.enabled').map((e) => `${e.action}:${e.actorId}:${e.target}`);
    assert.deepEqual(changes.sort(), [`user.disabled:${admin.user.id}:${carol.user.id}`, `user.enabled:${owner.user.id}:${carol.user.id}`].sort());
  });

  it('leaves a disabled owner no power, even with a token issued before', async () => {
    const url = ctx.stack.graphqlUrl;
    const erin = await signUp(url, 'acme', 'erin@acme.test', 'erin-password');
    await setRole(url, seed.admin.accessToken, 'acme', erin.user.id, 'OWNER');
    const erinToken = (await signIn(url, 'acme', 'erin@acme.test', 'erin-password')).accessToken;
    expectError(await gql(url, SET_DISABLED, { token: admin.accessToken, variables: { u: erin.user.id, d: true } }), 'FORBIDDEN');
    dataOf(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: erin.user.id, d: true } }));
    // Her token is refused at the router, or (issued in the very second she was disabled) by the
    // subgraph, which finds her disabled: either way she cannot disable the owner who disabled her.
    for (const target of [owner.user.id, carol.user.id]) {
      const refused = await gql(url, SET_DISABLED, { token: erinToken, variables: { u: target, d: true } });
      assert.ok(['UNAUTHENTICATED', 'FORBIDDEN'].includes(String(refused.body.errors?.[0]?.extensions?.code)), JSON.stringify(refused.body));
    }
    assert.equal((await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).user.id, owner.user.id);
  });
});
