import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import type { Client } from 'graphql-ws';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { ADMIN, useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { collect, routerWsClient } from '../support/ws-collect.ts';

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
    // Audit entries go to each tenant's audit feed (their own case below), never to this one.
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

describe("another tenant's sessions", () => {
  const SESSIONS = '{ me { sessions { id kind } } }';
  const END = 'mutation($id: ID!) { endSession(id: $id) }';
  const END_ALL = 'mutation($u: ID!) { endUserSessions(userId: $u) }';
  let acme: { id: string };
  let globex: { id: string };
  let alice: AuthPayload;
  let globexAdmin: AuthPayload;
  let grantId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const platformAdmin = await signIn(url, 'platform', ADMIN.email, ADMIN.password);
    const bob = await signIn(url, 'globex', 'bob@globex.test', 'bob-password');
    await setRole(url, platformAdmin.accessToken, 'globex', bob.user.id, 'ADMIN');
    globexAdmin = await signIn(url, 'globex', 'bob@globex.test', 'bob-password');
    globex = { id: globexAdmin.user.tenant.id };
    alice = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    acme = { id: alice.user.tenant.id };
    // An application's grant at acme's issuer, stored as the issuer's adapter stores it.
    grantId = `grant${crypto.randomUUID().replaceAll('-', '')}`;
    const now = Math.floor(Date.now() / 1000);
    await ctx.stack.db.withTenant(acme.id, async (em) => {
      const insert = `insert into identity.oidc_payloads (tenant_id, model, id, payload, grant_id, expires_at) values (?, ?, ?, ?::jsonb, ?, now() + interval '1 day')`;
      await em.execute(insert, [
        acme.id,
        'Grant',
        grantId,
        JSON.stringify({ kind: 'Grant', jti: grantId, accountId: alice.user.id, clientId: 'acme-app', iat: now, exp: now + 86_400 }),
        null,
      ]);
      const tokenId = `rt${crypto.randomUUID().replaceAll('-', '')}`;
      await em.execute(insert, [
        acme.id,
        'RefreshToken',
        tokenId,
        JSON.stringify({ kind: 'RefreshToken', jti: tokenId, grantId, accountId: alice.user.id, clientId: 'acme-app', iat: now, amr: ['pwd'], authTime: now }),
        grantId,
      ]);
    });
  });

  it("lets an admin of globex neither see nor end acme's sessions, which stay as they were", async () => {
    const url = ctx.stack.graphqlUrl;
    const aliceSessions = dataOf(await gql<{ me: { sessions: { id: string; kind: string }[] } }>(url, SESSIONS, { token: alice.accessToken })).me.sessions;
    assert.deepEqual(new Set(aliceSessions.map((s) => s.kind)), new Set(['DIRECT', 'ISSUER']));
    assert.ok(aliceSessions.some((s) => s.id === `issuer:${grantId}`));

    const listed = dataOf(
      await gql<{ users: { nodes: { id: string; sessions: { id: string }[] }[] } }>(url, '{ users(first: 50) { nodes { id sessions { id } } } }', {
        token: globexAdmin.accessToken,
      }),
    ).users.nodes;
    assert.deepEqual(
      listed.map((u) => u.id),
      [globexAdmin.user.id],
    );
    const seen = new Set(listed.flatMap((u) => u.sessions.map((s) => s.id)));
    assert.ok(
      aliceSessions.every((s) => !seen.has(s.id)),
      "none of acme's sessions is listed in globex",
    );

    // Acme's user by id is no user of globex's.
    assert.equal(
      dataOf(
        await gql<{ user: null }>(url, 'query($id: ID!) { user(id: $id) { id sessions { id } } }', {
          token: globexAdmin.accessToken,
          variables: { id: alice.user.id },
        }),
      ).user,
      null,
    );

    // Indistinguishable from ids that exist nowhere.
    const unknownDirect = expectError(await gql(url, END, { token: globexAdmin.accessToken, variables: { id: `direct:${crypto.randomUUID()}` } }), 'NOT_FOUND');
    const unknownIssuer = expectError(await gql(url, END, { token: globexAdmin.accessToken, variables: { id: 'issuer:nowhere' } }), 'NOT_FOUND');
    for (const session of aliceSessions) {
      const refused = expectError(await gql(url, END, { token: globexAdmin.accessToken, variables: { id: session.id } }), 'NOT_FOUND');
      assert.equal(refused.message, session.kind === 'DIRECT' ? unknownDirect.message : unknownIssuer.message);
    }
    const unknownUser = expectError(await gql(url, END_ALL, { token: globexAdmin.accessToken, variables: { u: crypto.randomUUID() } }), 'NOT_FOUND');
    assert.equal(
      expectError(await gql(url, END_ALL, { token: globexAdmin.accessToken, variables: { u: alice.user.id } }), 'NOT_FOUND').message,
      unknownUser.message,
    );

    assert.deepEqual(
      dataOf(await gql<{ me: { sessions: { id: string; kind: string }[] } }>(url, SESSIONS, { token: alice.accessToken })).me.sessions,
      aliceSessions,
    );
    const refresh = 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }';
    assert.ok(
      dataOf(await gql<{ refreshToken: { accessToken: string } }>(url, refresh, { variables: { i: { tenant: 'acme', refreshToken: alice.refreshToken } } })),
    );
    // Each admin sees only its own tenant's signing keys.
    const kids = dataOf(await gql<{ signingKeys: { kid: string }[] }>(url, '{ signingKeys { kid } }', { token: globexAdmin.accessToken })).signingKeys;
    assert.ok(kids.length >= 2 && kids.every((k) => k.kid.startsWith(`${globex.id}.`)));
  });
});

describe("another tenant's audit log, live", () => {
  const FEED = 'subscription($after: String) { auditLog(after: $after) { eventId entry { id actorId action target } } }';
  interface FeedEvent {
    eventId: string;
    entry: { id: string; actorId: string | null; action: string; target: string | null };
  }
  let acmeOwner: AuthPayload;
  let globexOwner: AuthPayload;
  const clients: Client[] = [];
  const open = (token: string, params: Record<string, string> = {}) => {
    const c = routerWsClient(ctx.stack.graphqlUrl, token, params);
    clients.push(c);
    return c;
  };
  const failSignIn = async (tenant: string, email: string) =>
    expectError(
      await gql(ctx.stack.graphqlUrl, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant, email, password: 'not-the-password' } },
      }),
      'UNAUTHENTICATED',
    );

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const platformAdmin = await signIn(url, 'platform', ADMIN.email, ADMIN.password);
    const olive = await signUp(url, 'acme', 'olive@acme.test', 'olive-password');
    const gus = await signUp(url, 'globex', 'gus@globex.test', 'gus-password');
    await setRole(url, platformAdmin.accessToken, 'acme', olive.user.id, 'OWNER');
    await setRole(url, platformAdmin.accessToken, 'globex', gus.user.id, 'OWNER');
    acmeOwner = await signIn(url, 'acme', 'olive@acme.test', 'olive-password');
    globexOwner = await signIn(url, 'globex', 'gus@globex.test', 'gus-password');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it("never delivers acme's audit entries to globex's owner, live or replayed", async () => {
    const targets = (events: FeedEvent[]) => events.map((e) => e.entry.target);
    const globexFeed = collect<FeedEvent>(open(globexOwner.accessToken), FEED, { after: '0' }, (events) => targets(events).includes('sentinel@globex.test'));
    await failSignIn('acme', 'leak-check@acme.test');
    const acmeFeed = collect<FeedEvent>(open(acmeOwner.accessToken), FEED, { after: '0' }, (events) => targets(events).includes('leak-check@acme.test'));
    await acmeFeed.done;
    assert.deepEqual(acmeFeed.errors, []);
    assert.ok(targets(acmeFeed.events).includes('leak-check@acme.test'));
    // Recorded once acme's entry was on acme's stream: had it leaked, globex's feed would hold it by now.
    await failSignIn('globex', 'sentinel@globex.test');
    await globexFeed.done;
    assert.deepEqual(globexFeed.errors, []);
    assert.ok(targets(globexFeed.events).includes('sentinel@globex.test'));
    const acmeEntries = new Set(acmeFeed.events.map((e) => e.entry.id));
    assert.ok(!globexFeed.events.some((e) => acmeEntries.has(e.entry.id)), "an acme entry reached globex's feed");
    assert.ok(!targets(globexFeed.events).includes('leak-check@acme.test'));
    assert.ok(!globexFeed.events.some((e) => e.entry.actorId === acmeOwner.user.id));
  });

  it("gives globex's owner no way to name acme's feed", async () => {
    // The feed has no tenant argument: the caller's own tenant is the only one.
    const named = collect<FeedEvent>(open(globexOwner.accessToken), 'subscription { auditLog(tenant: "acme") { eventId } }', {}, () => false, 10_000);
    await named.done;
    assert.equal((named.errors[0] as { extensions?: { code?: string } }).extensions?.code, 'BAD_USER_INPUT');
    // A tenant header naming acme is refused over HTTP and closes the socket (4403) alike.
    expectError(
      await gql(ctx.stack.graphqlUrl, '{ auditLog { entries { id } } }', { token: globexOwner.accessToken, headers: { 'x-tenant-id': 'acme' } }),
      'FORBIDDEN',
    );
    const headed = collect<FeedEvent>(open(globexOwner.accessToken, { 'x-tenant-id': 'acme' }), FEED, {}, () => false, 10_000);
    await headed.done;
    assert.deepEqual(headed.events, []);
    assert.equal((headed.errors[0] as { code?: number }).code, 4403);
  });
});
