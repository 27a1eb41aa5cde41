import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, type AuthPayload } from '../support/graphql-client.ts';

// Two tenants with a user each, an owner-like admin each way: nothing of one may reach the other.
const ctx = useTestStack();

const TENANT_TABLES = ['platform.memberships', 'platform.signing_keys', 'platform.outbox', 'identity.users', 'identity.refresh_tokens'];

describe('tenant isolation', () => {
  let admin: AuthPayload;
  let acme: { id: string };
  let globex: { id: string };
  let alice: AuthPayload;
  let bob: AuthPayload;

  before(async () => {
    ({ admin, acme, globex, alice, bob } = await seedTwoTenants(ctx.stack.graphqlUrl));
  });

  it('refuses an acme user signing in to globex', async () => {
    const op = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
    expectError(
      await gql(ctx.stack.graphqlUrl, op, { variables: { i: { tenant: 'globex', email: 'alice@acme.test', password: 'alice-password' } } }),
      'UNAUTHENTICATED',
    );
  });

  it('refuses an acme refresh token presented to globex', async () => {
    const op = 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }';
    expectError(await gql(ctx.stack.graphqlUrl, op, { variables: { i: { tenant: 'globex', refreshToken: alice.refreshToken } } }), 'UNAUTHENTICATED');
  });

  it('lets a user see only its own tenant', async () => {
    const res = await gql<{ tenant: { id: string; slug: string } }>(ctx.stack.graphqlUrl, '{ tenant { id slug } }', { token: bob.accessToken });
    assert.deepEqual(dataOf(res).tenant, { id: globex.id, slug: 'globex' });
    expectError(await gql(ctx.stack.graphqlUrl, '{ tenants { id } }', { token: bob.accessToken }), 'FORBIDDEN');
  });

  it("refuses members of a tenant to a mere viewer, and lists only the own tenant's members to its admin", async () => {
    expectError(await gql(ctx.stack.graphqlUrl, '{ tenant { members { userId } } }', { token: alice.accessToken }), 'FORBIDDEN');
    const res = await gql<{ tenants: { slug: string; members: { userId: string }[] }[] }>(ctx.stack.graphqlUrl, '{ tenants { slug members { userId } } }', {
      token: admin.accessToken,
    });
    const bySlug = Object.fromEntries(dataOf(res).tenants.map((t) => [t.slug, t.members.map((m) => m.userId)]));
    assert.deepEqual(bySlug.acme, [alice.user.id]);
    assert.deepEqual(bySlug.globex, [bob.user.id]);
  });

  it('keeps every tenant-scoped table invisible without a tenant context', async () => {
    for (const table of TENANT_TABLES) {
      const rows = await ctx.stack.db.global((em) => em.execute<{ n: number }[]>(`select count(*)::int as n from ${table}`));
      assert.equal(rows[0]?.n, 0, `${table} leaked rows without app.tenant_id`);
      const owner = await ctx.stack.systemDb.global((em) => em.execute<{ n: number }[]>(`select count(*)::int as n from ${table}`));
      if (table !== 'platform.outbox') assert.ok((owner[0]?.n ?? 0) > 0, `${table} should hold rows (the check above must mean something)`);
    }
  });

  it('guards every table that holds tenant rows with row level security', async () => {
    // A new table with a tenant_id column and no policy would fail here.
    const tables = await ctx.stack.systemDb.global((em) =>
      em.execute<{ table: string; rls: boolean; policies: number }[]>(
        `select c.table_schema || '.' || c.table_name as table, t.relrowsecurity as rls,
                (select count(*)::int from pg_policies p where p.schemaname = c.table_schema and p.tablename = c.table_name) as policies
         from information_schema.columns c
         join pg_class t on t.relname = c.table_name
         join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema
         where c.column_name = 'tenant_id' and c.table_schema not in ('pg_catalog', 'information_schema')
         order by 1`,
      ),
    );
    assert.ok(tables.length >= 10, `expected the tenant tables, found ${tables.map((t) => t.table).join(', ')}`);
    for (const table of tables) {
      assert.equal(table.rls, true, `${table.table} has no row level security`);
      assert.ok(table.policies >= 1, `${table.table} has no policy`);
    }
  });

  it("shows acme's context only acme's rows", async () => {
    for (const table of TENANT_TABLES) {
      const rows = await ctx.stack.db.withTenant(acme.id, (em) => em.execute<{ tenant_id: string }[]>(`select distinct tenant_id from ${table}`));
      for (const row of rows) assert.equal(row.tenant_id, acme.id, `${table} showed another tenant's row in acme's context`);
    }
    const users = await ctx.stack.db.withTenant(acme.id, (em) => em.execute<{ email: string }[]>(`select email from identity.users`));
    assert.deepEqual(
      users.map((u) => u.email),
      ['alice@acme.test'],
    );
  });

  it("publishes each tenant's events on its own stream only", async () => {
    // The relay runs in the stack; wait (bounded) until both sign-ups are on their streams.
    let acmeEvents: [string, string[]][] = [];
    let globexEvents: [string, string[]][] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      acmeEvents = await ctx.stack.redis.xrange(tenantStreamKey(ctx.stack.redisNamespace, acme.id), '-', '+');
      globexEvents = await ctx.stack.redis.xrange(tenantStreamKey(ctx.stack.redisNamespace, globex.id), '-', '+');
      if (acmeEvents.length >= 2 && globexEvents.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const topics = (events: [string, string[]][]) => events.map(([, fields]) => fields[fields.indexOf('topic') + 1]);
    assert.deepEqual(topics(acmeEvents), ['tenant.created', 'user.signed_up']);
    assert.deepEqual(topics(globexEvents), ['tenant.created', 'user.signed_up']);
    const payloads = acmeEvents.map(([, fields]) => fields[fields.indexOf('payload') + 1] ?? '');
    assert.ok(payloads.every((p) => !p.includes(globex.id) && !p.includes('bob@globex.test')));
  });

  it("serves each tenant its own JWKS, so one tenant's key cannot sign for another", async () => {
    const jwks = async (slug: string) =>
      ((await (await fetch(`${ctx.stack.routerUrl}/identity/${slug}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const [a, g] = await Promise.all([jwks('acme'), jwks('globex')]);
    assert.equal(a.length, 2, 'the signing key and the next one');
    assert.equal(g.length, 2);
    assert.ok(a.every((kid) => kid.startsWith(`${acme.id}.`)) && g.every((kid) => kid.startsWith(`${globex.id}.`)), 'each key names its own tenant');
    const header = JSON.parse(Buffer.from(alice.accessToken.split('.')[0]!, 'base64url').toString()) as { kid: string };
    assert.equal(header.kid, a[0]);
  });
});
