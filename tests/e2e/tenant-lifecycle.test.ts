import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { AUDIT_FEED } from '@tansu/tenant-core/audit-log';
import { requestQuotaKeys } from '@tansu/tenant-core/contracts/request-quota';
import { consumeQuota } from '@tansu/tenant-core/usage-counters';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';
import { enrollTotp } from '../support/mfa.ts';
import { eventually } from '../support/eventually.ts';
import { createClient } from '../support/ws-client.ts';

// Deleted tenants are purged at once here, so the test can look for what is left.
const ctx = useTestStack({ TANSU_TENANT_PURGE_DELAY: '0' });

describe('tenant lifecycle', () => {
  let seed: TwoTenants;
  /** The administrator's token after a second factor: deleting a tenant asks for one. */
  let adminMfa: string;
  const status = (slug: string, op: 'suspendTenant' | 'resumeTenant' | 'deleteTenant', token = op === 'deleteTenant' ? adminMfa : seed.admin.accessToken) =>
    gql<Record<string, { status: string }>>(ctx.stack.graphqlUrl, `mutation($s: String!) { ${op}(slug: $s) { status } }`, { token, variables: { s: slug } });

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
    adminMfa = (await enrollTotp(ctx.stack.graphqlUrl, seed.admin.accessToken)).session.accessToken;
  });

  it("refuses a suspended tenant's valid tokens, closes its live connections, and lets it back on resume", async () => {
    const url = ctx.stack.graphqlUrl;
    const me = () => gql(url, '{ me { id } }', { token: seed.alice.accessToken });
    dataOf(await me());
    const socketClosed = new Promise<number>((resolve) => {
      const client = createClient({
        url: url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: `Bearer ${seed.alice.accessToken}` },
      });
      client.on('closed', (event) => resolve((event as { code: number }).code));
    });
    await sleep(200);
    assert.equal(dataOf(await status('acme', 'suspendTenant')).suspendTenant!.status, 'SUSPENDED');
    expectError(await eventually(me, (res) => res.status === 403), 'FORBIDDEN', 403);
    assert.equal(await Promise.race([socketClosed, sleep(5_000).then(() => -1)]), 4403);
    expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'alice-password' } },
      }),
      'FORBIDDEN',
    );
    // globex is untouched.
    dataOf(await gql(url, '{ me { id } }', { token: seed.bob.accessToken }));
    dataOf(await status('acme', 'resumeTenant'));
    dataOf(await eventually(me, (res) => res.status === 200));
  });

  it("only platform administrators change a tenant's status, and the platform tenant stays", async () => {
    expectError(await gql(ctx.stack.graphqlUrl, 'mutation { suspendTenant(slug: "globex") { status } }', { token: seed.alice.accessToken }), 'FORBIDDEN');
    expectError(await status('platform', 'deleteTenant'), 'FORBIDDEN');
    expectError(await status('globex', 'deleteTenant', seed.admin.accessToken), 'MFA_REQUIRED');
    expectError(await status('nowhere', 'suspendTenant'), 'NOT_FOUND');
  });

  it('deletes a tenant: refused at once, then no row, key or stream of it is left', async () => {
    const url = ctx.stack.graphqlUrl;
    // Give globex data in every kind of store: a developer, a workflow, runs, events.
    await setRole(url, seed.admin.accessToken, 'globex', seed.bob.user.id, 'DEVELOPER');
    const dev = (await signIn(url, 'globex', 'bob@globex.test', 'bob-password')).accessToken;
    await createWorkflow(url, dev, 'w', [{ id: 'a', type: 'delay', with: { ms: 0 } }]);
    const run = await startWorkflow(url, dev, { workflow: 'w' });
    await waitForRun(url, dev, run.id, ['SUCCEEDED']);
    dataOf(
      await gql(url, 'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } } }', {
        token: dev,
        variables: { i: { name: 'app', type: 'PUBLIC', redirectUris: ['http://localhost/cb'] } },
      }),
    );
    // A plan with a request limit, usage counted against it, an emailed link.
    dataOf(await gql(url, 'mutation { setTenantPlan(tenant: "globex", plan: "free") { slug } }', { token: seed.admin.accessToken }));
    await ctx.stack.db.withTenant(seed.globex.id, (em) => consumeQuota(em, seed.globex.id, 'storageBytes', 10));
    dataOf(await gql(url, 'mutation { requestPasswordReset(input: { tenant: "globex", email: "bob@globex.test" }) }'));
    assert.equal(await ctx.stack.redis.hexists(requestQuotaKeys(ctx.stack.redisNamespace).limits, seed.globex.id), 1);

    assert.equal(dataOf(await status('globex', 'deleteTenant')).deleteTenant!.status, 'DELETED');
    expectError(
      await eventually(
        () => gql(url, '{ me { id } }', { token: dev }),
        (res) => res.status !== 200,
      ),
      'FORBIDDEN',
    );

    // The purge runs in the background; wait (bounded) until the tenant row is gone.
    const tables = await ctx.stack.systemDb.global((em) =>
      em.execute<{ table: string }[]>(
        `select table_schema || '.' || table_name as table from information_schema.columns
         where column_name = 'tenant_id' and table_schema not in ('pg_catalog', 'information_schema')`,
      ),
    );
    let tenantRows = 1;
    for (let i = 0; i < 100 && tenantRows > 0; i++) {
      tenantRows = (
        await ctx.stack.systemDb.global((em) => em.execute<{ n: number }[]>(`select count(*)::int as n from platform.tenants where id = ?`, [seed.globex.id]))
      )[0]!.n;
      if (tenantRows > 0) await sleep(100);
    }
    assert.equal(tenantRows, 0, 'the tenant row was not purged');
    for (const { table } of tables) {
      const [row] = await ctx.stack.systemDb.global((em) =>
        em.execute<{ n: number }[]>(`select count(*)::int as n from ${table} where tenant_id = ?`, [seed.globex.id]),
      );
      assert.equal(row!.n, 0, `${table} kept rows of the deleted tenant`);
    }
    assert.equal(await ctx.stack.redis.exists(tenantStreamKey(ctx.stack.redisNamespace, seed.globex.id)), 0, 'the event stream is left');
    assert.equal(await ctx.stack.redis.exists(tenantStreamKey(ctx.stack.redisNamespace, seed.globex.id, AUDIT_FEED)), 0, 'the audit feed is left');
    assert.equal(await ctx.stack.redis.hexists(requestQuotaKeys(ctx.stack.redisNamespace).limits, seed.globex.id), 0, 'the request limit is left');
    assert.equal((await fetch(`${ctx.stack.routerUrl}/identity/globex/.well-known/jwks.json`)).status, 404);
    // acme lives on.
    dataOf(await gql(url, '{ me { id } }', { token: seed.alice.accessToken }));
  });
});
