import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';

const ctx = useTestStack();

interface Entry {
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
}

const AUDIT =
  'query($t: String, $f: AuditFilter, $after: String) { auditLog(tenant: $t, filter: $f, first: 100, after: $after) { entries { actorId action target outcome ip userAgent } endCursor hasMore } }';

describe('audit log', () => {
  let seed: TwoTenants;
  let acmeOwner: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
      variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'wrong-password' } },
    });
    acmeOwner = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
  });

  it("records the tenant's authentication events and administrative changes", async () => {
    const page = dataOf(await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, AUDIT, { token: acmeOwner })).auditLog;
    const seen = page.entries.map((e) => `${e.action}:${e.outcome}`);
    for (const expected of ['auth.sign_up:SUCCESS', 'member.role_changed:SUCCESS', 'auth.sign_in:FAILURE', 'auth.sign_in:SUCCESS'])
      assert.ok(seen.includes(expected), `${expected} missing in ${seen.join(', ')}`);
    const failure = page.entries.find((e) => e.action === 'auth.sign_in' && e.outcome === 'FAILURE')!;
    assert.equal(failure.target, 'alice@acme.test');
    assert.ok(failure.ip, 'the client address is recorded');
    assert.ok(failure.userAgent, 'the user agent is recorded');
    const roleChange = page.entries.find((e) => e.action === 'member.role_changed')!;
    assert.equal(roleChange.actorId, seed.admin.user.id);
    assert.equal(roleChange.target, seed.alice.user.id);
  });

  it("lists a tenant's users to its owners only, never another tenant's", async () => {
    const users = dataOf(
      await gql<{ users: { nodes: { email: string }[] } }>(ctx.stack.graphqlUrl, '{ users(first: 1) { nodes { email } endCursor hasMore } }', {
        token: acmeOwner,
      }),
    ).users;
    assert.deepEqual(
      users.nodes.map((u) => u.email),
      ['alice@acme.test'],
    );
    expectError(await gql(ctx.stack.graphqlUrl, '{ users { nodes { email } } }', { token: seed.bob.accessToken }), 'FORBIDDEN');
    // Even with globex's tenant header, acme's owner token is refused.
    expectError(await gql(ctx.stack.graphqlUrl, '{ users { nodes { email } } }', { token: acmeOwner, headers: { 'x-tenant-id': 'globex' } }), 'FORBIDDEN');
  });

  it('filters and pages', async () => {
    const failures = dataOf(
      await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, AUDIT, { token: acmeOwner, variables: { f: { outcome: 'FAILURE' } } }),
    ).auditLog;
    assert.ok(failures.entries.length >= 1 && failures.entries.every((e) => e.outcome === 'FAILURE'));
    expectError(await gql(ctx.stack.graphqlUrl, AUDIT, { token: acmeOwner, variables: { after: 'garbage!' } }), 'BAD_USER_INPUT');
  });

  it("shows acme's admins only acme's log", async () => {
    const page = dataOf(await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, AUDIT, { token: acmeOwner })).auditLog;
    assert.ok(!page.entries.some((e) => e.target === 'bob@globex.test' || e.actorId === seed.bob.user.id));
    expectError(await gql(ctx.stack.graphqlUrl, AUDIT, { token: acmeOwner, variables: { t: 'globex' } }), 'FORBIDDEN');
    // A viewer of globex reads no log at all.
    expectError(await gql(ctx.stack.graphqlUrl, AUDIT, { token: seed.bob.accessToken }), 'FORBIDDEN');
    // The platform administrator may read any tenant's.
    const globex = dataOf(
      await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, AUDIT, { token: seed.admin.accessToken, variables: { t: 'globex' } }),
    ).auditLog;
    assert.ok(globex.entries.some((e) => e.action === 'auth.sign_up' && e.actorId === seed.bob.user.id));
  });
});
