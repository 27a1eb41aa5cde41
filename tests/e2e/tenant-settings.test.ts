import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp } from '../support/graphql-client.ts';

const ctx = useTestStack();

interface Settings {
  selfSignUp: boolean;
  passwordMinLength: number;
  sessionLifetimeSeconds: number | null;
}

const FIELDS = 'selfSignUp passwordMinLength sessionLifetimeSeconds';
const UPDATE = `mutation($t: String, $i: TenantSettingsInput!) { updateTenantSettings(tenant: $t, input: $i) { slug settings { ${FIELDS} } } }`;
const SIGN_UP = 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }';

describe('tenant settings', () => {
  let seed: TwoTenants;
  let owner: string;
  let member: string;

  async function update(token: string, input: Record<string, unknown>, tenant?: string): Promise<Settings> {
    return dataOf(await gql<{ updateTenantSettings: { settings: Settings } }>(ctx.stack.graphqlUrl, UPDATE, { token, variables: { t: tenant, i: input } }))
      .updateTenantSettings.settings;
  }

  async function current(token: string): Promise<Settings> {
    return dataOf(await gql<{ tenant: { settings: Settings } }>(ctx.stack.graphqlUrl, `{ tenant { settings { ${FIELDS} } } }`, { token })).tenant.settings;
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    owner = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    member = (await signUp(url, 'acme', 'vic@acme.test', 'vic-password')).accessToken;
  });

  it('starts from the defaults, visible to the tenant members', async () => {
    assert.deepEqual(await current(owner), { selfSignUp: true, passwordMinLength: 8, sessionLifetimeSeconds: null });
    assert.deepEqual(await current(member), { selfSignUp: true, passwordMinLength: 8, sessionLifetimeSeconds: null });
  });

  it('refuses members who are not owners or admins, other tenants, and bad values, changing nothing', async () => {
    const url = ctx.stack.graphqlUrl;
    expectError(await gql(url, UPDATE, { token: member, variables: { i: { selfSignUp: false } } }), 'FORBIDDEN');
    expectError(await gql(url, UPDATE, { token: member, variables: { i: { passwordMinLength: 4 } } }), 'FORBIDDEN');
    expectError(await gql(url, UPDATE, { token: seed.bob.accessToken, variables: { t: 'acme', i: { selfSignUp: false } } }), 'FORBIDDEN');
    expectError(await gql(url, UPDATE, { token: owner, variables: { i: { passwordMinLength: 4 } } }), 'BAD_USER_INPUT');
    expectError(await gql(url, UPDATE, { token: owner, variables: { i: { sessionLifetimeSeconds: 10 } } }), 'BAD_USER_INPUT');
    assert.deepEqual(await current(owner), { selfSignUp: true, passwordMinLength: 8, sessionLifetimeSeconds: null });
  });

  it("applies the password policy and the session lifetime to the tenant's own users only", async () => {
    const url = ctx.stack.graphqlUrl;
    assert.equal((await update(owner, { passwordMinLength: 12, sessionLifetimeSeconds: 600 })).passwordMinLength, 12);
    expectError(await gql(url, SIGN_UP, { variables: { i: { tenant: 'acme', email: 'short@acme.test', password: 'ten-chars!' } } }), 'BAD_USER_INPUT');
    const carol = await signUp(url, 'acme', 'carol@acme.test', 'twelve-chars!');
    assert.ok(await signUp(url, 'globex', 'short@globex.test', 'ten-chars!'), 'globex keeps the default policy');

    const lifetimes = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute<{ seconds: number }[]>(`select extract(epoch from expires_at - created_at)::int as seconds from identity.refresh_tokens where user_id = ?`, [
        carol.user.id,
      ]),
    );
    assert.equal(lifetimes.length, 1);
    assert.ok(Math.abs(lifetimes[0]!.seconds - 600) <= 2, `session lives ${lifetimes[0]!.seconds}s`);

    // null returns to the platform default.
    assert.equal((await update(owner, { sessionLifetimeSeconds: null })).sessionLifetimeSeconds, null);
    assert.equal((await current(owner)).passwordMinLength, 12, 'fields left out stay as they are');
  });

  it('closes self sign-up; a platform administrator may change any tenant', async () => {
    const url = ctx.stack.graphqlUrl;
    assert.equal((await update(seed.admin.accessToken, { selfSignUp: false }, 'acme')).selfSignUp, false);
    const refused = expectError(
      await gql(url, SIGN_UP, { variables: { i: { tenant: 'acme', email: 'dave@acme.test', password: 'long-enough-password' } } }),
      'FORBIDDEN',
    );
    assert.match(refused.message, /sign-up is closed/);
    assert.ok(await signUp(url, 'globex', 'dave@globex.test', 'long-enough-password'), 'globex stays open');
    assert.ok(await signIn(url, 'acme', 'alice@acme.test', 'alice-password'), 'existing users still sign in');

    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; detail: string }[] } }>(
        url,
        'query($f: AuditFilter) { auditLog(filter: $f, first: 10) { entries { action detail } } }',
        {
          token: owner,
          variables: { f: { action: 'tenant.settings_changed' } },
        },
      ),
    ).auditLog.entries;
    assert.equal(audit.length, 3);
    assert.ok(audit.some((e) => JSON.parse(e.detail).selfSignUp === false));
  });
});
