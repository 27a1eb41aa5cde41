import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TansuError } from '@tansu/platform/errors';
import { consumeQuota } from '@tansu/tenant-core/usage-counters';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { createTenant, dataOf, expectError, gql, signIn, type AuthPayload } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';

const ctx = useTestStack({ TANSU_EGRESS_ALLOW_PRIVATE: 'true' });

const SET_PLAN = 'mutation($t: String!, $p: ID!) { setTenantPlan(tenant: $t, plan: $p) { slug plan { id } } }';
const USAGE = '{ tenant { plan { id name } usage { quota limit used period } } }';

describe('plans, quotas and usage', () => {
  let seed: TwoTenants;
  let acmeOwner: AuthPayload;
  let slowServer: Server;
  let slowUrl: string;

  const quotaError = (error: unknown) => {
    assert.ok(error instanceof TansuError, String(error));
    assert.equal(error.code, 'QUOTA_EXCEEDED');
    return error;
  };

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    acmeOwner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    // Operators define plans in the database; a tiny one keeps the test short.
    const admin = new pg.Client({ connectionString: ctx.stack.databaseUrl });
    await admin.connect();
    await admin.query(`insert into platform.plans (id, name, requests_per_minute, storage_bytes, vectors, function_invocations_per_month, concurrent_runs)
      values ('tiny', 'Tiny', 1000, 1000, 3, 2, null), ('burst', 'Burst', 8, null, null, null, null), ('paced', 'Paced', null, null, null, null, 1)`);
    await admin.end();
    slowServer = createServer((_req, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 150));
    await new Promise<void>((resolve) => slowServer.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/slow`;
  });

  after(() => new Promise<void>((resolve) => slowServer.close(() => resolve())));

  it('lists plans; a tenant starts on the default plan or the one its creator names', async () => {
    const url = ctx.stack.graphqlUrl;
    const plans = dataOf(
      await gql<{ plans: { id: string; requestsPerMinute: number | null }[] }>(url, '{ plans { id requestsPerMinute } }', { token: acmeOwner.accessToken }),
    ).plans;
    assert.deepEqual(
      plans.map((p) => p.id),
      ['burst', 'tiny', 'free', 'pro', 'enterprise', 'paced'],
    );
    assert.equal(plans.find((p) => p.id === 'enterprise')?.requestsPerMinute, null);
    assert.equal(dataOf(await gql<{ tenant: { plan: { id: string } } }>(url, USAGE, { token: acmeOwner.accessToken })).tenant.plan.id, 'enterprise');

    const created = dataOf(
      await gql<{ createTenant: { plan: { id: string } } }>(url, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { plan { id } } }', {
        token: seed.admin.accessToken,
        variables: { i: { slug: 'initech', name: 'Initech', plan: 'free' } },
      }),
    ).createTenant;
    assert.equal(created.plan.id, 'free');
    expectError(
      await gql(url, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
        token: seed.admin.accessToken,
        variables: { i: { slug: 'hooli', name: 'Hooli', plan: 'platinum' } },
      }),
      'BAD_USER_INPUT',
    );
    expectError(await gql(url, SET_PLAN, { token: acmeOwner.accessToken, variables: { t: 'acme', p: 'enterprise' } }), 'FORBIDDEN');
    expectError(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'platinum' } }), 'NOT_FOUND');
    assert.ok(await createTenant(url, seed.admin.accessToken, 'umbrella', 'Umbrella'));
  });

  it("refuses a tenant's requests past its plan's requests per minute, without touching other tenants", async () => {
    const url = ctx.stack.graphqlUrl;
    // A minute boundary inside the burst would reset the count: start early in a minute.
    if (Date.now() % 60_000 > 45_000) await sleep(60_000 - (Date.now() % 60_000) + 100);
    dataOf(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'burst' } }));
    const ask = () => gql(url, '{ me { id } }', { token: acmeOwner.accessToken });
    let admitted = 0;
    let refusal: { message: string; extensions?: Record<string, unknown> } | undefined;
    for (let i = 0; i < 12 && refusal === undefined; i++) {
      const response = await ask();
      if (response.body.errors === undefined) admitted++;
      else refusal = expectError(response, 'QUOTA_EXCEEDED', 429);
    }
    assert.equal(admitted, 8, 'exactly the plan allows');
    assert.ok(refusal);
    assert.match(refusal.message, /allows 8 requests per minute; 9 made this minute/);
    assert.deepEqual(
      { quota: refusal.extensions?.quota, limit: refusal.extensions?.limit, used: refusal.extensions?.used },
      { quota: 'requestsPerMinute', limit: 8, used: 9 },
    );
    assert.ok(Number(refusal.extensions?.retryAfter) >= 1);
    assert.equal((await gql(url, '{ me { id } }', { token: seed.bob.accessToken })).body.errors, undefined, 'globex is not limited');

    dataOf(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'enterprise' } }));
    assert.equal((await ask()).body.errors, undefined, 'an unlimited plan applies at once');
  });

  it('reserves storage and vectors against the plan, atomically, and gives them back', async () => {
    const url = ctx.stack.graphqlUrl;
    dataOf(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'tiny' } }));
    const db = ctx.stack.db;
    const acme = seed.acme.id;
    assert.deepEqual(await db.withTenant(acme, (em) => consumeQuota(em, acme, 'storageBytes', 600)), { used: 600, limit: 1000 });
    const refused = quotaError(await db.withTenant(acme, (em) => consumeQuota(em, acme, 'storageBytes', 500)).catch((e: unknown) => e));
    assert.match(refused.message, /Tiny plan allows 1000 bytes of storage; 600 used, 500 more requested/);
    assert.deepEqual({ limit: refused.extensions.limit, used: refused.extensions.used }, { limit: 1000, used: 600 });
    assert.equal((await db.withTenant(acme, (em) => consumeQuota(em, acme, 'storageBytes', -600))).used, 0);

    // Ten uploads of 150 bytes at once against 1000: six fit, four are refused, none over.
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => db.withTenant(acme, (em) => consumeQuota(em, acme, 'storageBytes', 150))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 6);
    for (const r of results) if (r.status === 'rejected') quotaError(r.reason);

    // A reservation in a transaction that fails afterwards is not counted.
    await assert.rejects(
      db.withTenant(acme, async (em) => {
        await consumeQuota(em, acme, 'vectors', 2);
        throw new Error('upload failed after the reservation');
      }),
      /upload failed/,
    );
    assert.equal((await db.withTenant(acme, (em) => consumeQuota(em, acme, 'vectors', 3))).used, 3);
    quotaError(await db.withTenant(acme, (em) => consumeQuota(em, acme, 'vectors', 1)).catch((e: unknown) => e));

    // Globex's counters are its own.
    assert.equal((await db.withTenant(seed.globex.id, (em) => consumeQuota(em, seed.globex.id, 'vectors', 50))).used, 50);
  });

  it('counts function invocations per calendar month', async () => {
    const db = ctx.stack.db;
    const acme = seed.acme.id;
    const november = new Date('2026-11-30T23:59:00Z');
    await db.withTenant(acme, (em) => consumeQuota(em, acme, 'functionInvocations', 2, november));
    const refused = quotaError(await db.withTenant(acme, (em) => consumeQuota(em, acme, 'functionInvocations', 1, november)).catch((e: unknown) => e));
    assert.match(refused.message, /2 function invocations this month; 2 used, 1 more requested/);
    assert.equal((await db.withTenant(acme, (em) => consumeQuota(em, acme, 'functionInvocations', 1, new Date('2026-12-01T00:00:01Z')))).used, 1);
  });

  it("shows a tenant's members its plan and usage, and nobody else", async () => {
    const url = ctx.stack.graphqlUrl;
    const tenant = dataOf(
      await gql<{
        tenant: { plan: { id: string; name: string }; usage: { quota: string; limit: number | null; used: number | null; period: string | null }[] };
      }>(url, USAGE, { token: acmeOwner.accessToken }),
    ).tenant;
    assert.deepEqual(tenant.plan, { id: 'tiny', name: 'Tiny' });
    const byQuota = Object.fromEntries(tenant.usage.map((u) => [u.quota, u]));
    assert.deepEqual({ limit: byQuota.STORAGE_BYTES?.limit, used: byQuota.STORAGE_BYTES?.used }, { limit: 1000, used: 900 });
    assert.deepEqual({ limit: byQuota.VECTORS?.limit, used: byQuota.VECTORS?.used }, { limit: 3, used: 3 });
    assert.equal(byQuota.REQUESTS_PER_MINUTE?.limit, 1000);
    assert.ok(Number(byQuota.REQUESTS_PER_MINUTE?.used) >= 1, 'this request was counted');
    assert.equal(byQuota.FUNCTION_INVOCATIONS_PER_MONTH?.period, new Date().toISOString().slice(0, 7));
    assert.equal(byQuota.CONCURRENT_RUNS?.limit, null);

    const globex = dataOf(
      await gql<{ tenant: { usage: { quota: string; used: number | null }[] } }>(url, '{ tenant { usage { quota used } } }', { token: seed.bob.accessToken }),
    ).tenant;
    assert.equal(globex.usage.find((u) => u.quota === 'VECTORS')?.used, 50, "globex sees its own count, not acme's");
    dataOf(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'enterprise' } }));
  });

  it("paces a tenant's workflow steps to its plan's concurrent runs; the excess waits and completes", async () => {
    const url = ctx.stack.graphqlUrl;
    const dev = acmeOwner.accessToken;
    dataOf(await gql(url, SET_PLAN, { token: seed.admin.accessToken, variables: { t: 'acme', p: 'paced' } }));
    await createWorkflow(url, dev, 'slow-call', [{ id: 'call', type: 'http', with: { url: slowUrl } }]);
    const runs = await Promise.all(Array.from({ length: 4 }, () => startWorkflow(url, dev, { workflow: 'slow-call' })));
    let most = 0;
    const watching = (async () => {
      for (let i = 0; i < 400; i++) {
        const [row] = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
          em.execute<{ n: number }[]>(`select count(*)::int as n from workflow.steps where status in ('DISPATCHED', 'RUNNING')`),
        );
        most = Math.max(most, row?.n ?? 0);
        await sleep(10);
      }
    })();
    for (const run of runs) assert.equal((await waitForRun(url, dev, run.id, ['SUCCEEDED', 'FAILED'])).status, 'SUCCEEDED');
    await watching;
    assert.equal(most, 1, 'never more than the plan allows in flight');
  });
});
