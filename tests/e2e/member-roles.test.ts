import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';
import { sessionRevocationKeys } from '@tansu/tenant-core/contracts/session-revocations';

const ctx = useTestStack();

const SET_ROLE = 'mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { userId role } }';
const REFRESH = 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }';
const MEMBERS = '{ tenant { members { userId role } } }';

const rolesIn = (accessToken: string): unknown => (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { roles: unknown }).roles;

describe('member roles', () => {
  let seed: TwoTenants;

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
  });

  it('says where a member was looked for, and how a platform administrator names another tenant', async () => {
    const url = ctx.stack.graphqlUrl;
    // alice is acme's: without `tenant` the platform administrator's own tenant is searched.
    const missing = expectError(
      await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { userId: seed.alice.user.id, role: 'ADMIN' } } }),
      'NOT_FOUND',
    );
    assert.match(missing.message, /is not a member of tenant "platform"/);
    assert.match(missing.message, /tenant: "<slug>"/);
    const elsewhere = expectError(
      await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { tenant: 'globex', userId: seed.alice.user.id, role: 'ADMIN' } } }),
      'NOT_FOUND',
    );
    assert.match(elsewhere.message, /is not a member of tenant "globex"/);
    // A tenant's own owner hears only about their tenant.
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    const owner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    const theirs = expectError(
      await gql(url, SET_ROLE, { token: owner.accessToken, variables: { i: { userId: seed.bob.user.id, role: 'ADMIN' } } }),
      'NOT_FOUND',
    );
    assert.match(theirs.message, /is not a member of tenant "acme"$/);
    // The right tenant named: it works.
    dataOf(await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { tenant: 'globex', userId: seed.bob.user.id, role: 'DEVELOPER' } } }));
  });

  it('takes effect at once: earlier access tokens are refused and a refreshed one carries the new role', async () => {
    const url = ctx.stack.graphqlUrl;
    const dave = dataOf(
      await gql<{ signUp: { user: { id: string } } }>(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }', {
        variables: { i: { tenant: 'acme', email: 'dave@acme.test', password: 'dave-password' } },
      }),
    ).signUp.user;
    const session = await signIn(url, 'acme', 'dave@acme.test', 'dave-password');
    assert.deepEqual(rolesIn(session.accessToken), ['VIEWER']);
    expectError(await gql(url, MEMBERS, { token: session.accessToken }), 'FORBIDDEN');

    assert.deepEqual(
      dataOf(await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { tenant: 'acme', userId: dave.id, role: 'ADMIN' } } })).setMemberRole,
      { userId: dave.id, role: 'ADMIN' },
    );
    const revocation = () => ctx.stack.redis.hget(sessionRevocationKeys(ctx.stack.redisNamespace).revoked, `${seed.acme.id}:${dave.id}`);
    const revoked = await revocation();
    assert.match(String(revoked), /\|roles$/);
    // The token that says VIEWER no longer passes the router (the change travels through Redis).
    const old = await eventually(
      () => gql(url, '{ me { id } }', { token: session.accessToken }),
      (res) => res.body.errors !== undefined,
    );
    expectError(old, 'UNAUTHENTICATED');

    const refreshed = dataOf(
      await gql<{ refreshToken: { accessToken: string } }>(url, REFRESH, { variables: { i: { tenant: 'acme', refreshToken: session.refreshToken } } }),
    ).refreshToken;
    assert.deepEqual(rolesIn(refreshed.accessToken), ['ADMIN']);
    const me = dataOf(await gql<{ me: { roles: string[] } }>(url, '{ me { roles } }', { token: refreshed.accessToken })).me;
    assert.deepEqual(me.roles, ['ADMIN']);
    const members = dataOf(await gql<{ tenant: { members: { userId: string; role: string }[] } }>(url, MEMBERS, { token: refreshed.accessToken })).tenant
      .members;
    assert.equal(members.find((m) => m.userId === dave.id)?.role, 'ADMIN');

    // Setting the role a member already has ends nothing, nor does a change in another tenant.
    dataOf(await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { tenant: 'acme', userId: dave.id, role: 'ADMIN' } } }));
    dataOf(await gql(url, SET_ROLE, { token: seed.admin.accessToken, variables: { i: { tenant: 'globex', userId: seed.bob.user.id, role: 'VIEWER' } } }));
    assert.equal(await revocation(), revoked);
    dataOf(await gql(url, '{ me { id } }', { token: refreshed.accessToken }));
  });
});
