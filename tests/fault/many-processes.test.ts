import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { subgraphEnvPrefix } from '@tansu/platform/config';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { tableOwners } from '@tansu/supergraph/tables';
import { AUDIT_FEED } from '@tansu/tenant-core/audit-log';
import { ADMIN, PUBLIC_URL } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { dataOf, gql, signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow } from '../support/workflows.ts';
import { startProcess, type ServiceProcess } from '../support/processes.ts';
import { useRequestGuard } from '../support/request-guard.ts';
import { createClient } from '../support/ws-client.ts';

// Real processes, as deployed: two routers and two workers on one Postgres and one Redis.
useRequestGuard();

describe('many processes behave as one', { timeout: 300_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  const processes: ServiceProcess[] = [];
  let workers: ServiceProcess[] = [];
  let routerA: ServiceProcess;
  let routerB: ServiceProcess;
  let env: Record<string, string>;
  let owner: pg.Client;
  let redis: Redis;
  let seed: TwoTenants;
  let token: string;
  let work: Server;
  let workUrl: string;
  const calls = new Map<string, number>();
  const namespace = `test-${crypto.randomUUID()}`;
  const url = (router: ServiceProcess) => `http://127.0.0.1:${router.port}/graphql`;

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    owner = await database.owner();
    redis = new Redis(database.redisUrl);
    cleanups.push(async () => redis.disconnect());

    // The outside service the workflow calls: slow enough that kills land mid-step.
    work = createServer((req, res) => {
      const key = String(req.headers['idempotency-key']);
      calls.set(key, (calls.get(key) ?? 0) + 1);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 300);
    });
    await new Promise<void>((resolve) => work.listen(0, '127.0.0.1', resolve));
    workUrl = `http://127.0.0.1:${(work.address() as AddressInfo).port}/work`;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          work.closeAllConnections();
          work.close(() => resolve());
        }),
    );

    env = {
      DATABASE_URL: database.url,
      REDIS_URL: database.redisUrl,
      TANSU_SECRET: TEST_SECRET,
      TANSU_ADMIN_EMAIL: ADMIN.email,
      TANSU_ADMIN_PASSWORD: ADMIN.password,
      PUBLIC_URL,
      TANSU_REDIS_NAMESPACE: namespace,
      TANSU_EGRESS_ALLOW_PRIVATE: 'true',
      TANSU_WORKFLOW_TENANT_CONCURRENCY: '20',
    };
    // One process per subgraph of the list, the routers pointed at each.
    for (const subgraph of SUBGRAPHS) {
      const started = await startProcess(subgraph.name, subgraph.name, env);
      processes.push(started);
      env = { ...env, [`${subgraphEnvPrefix(subgraph.name)}_URL`]: `http://127.0.0.1:${started.port}` };
    }
    routerA = await startProcess('router-a', 'router', env);
    routerB = await startProcess('router-b', 'router', env);
    workers = [await startProcess('workers-1', 'workers', env), await startProcess('workers-2', 'workers', env)];
    processes.push(routerA, routerB);

    seed = await seedTwoTenants(url(routerA));
    dataOf(
      await gql(url(routerB), 'mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { role } }', {
        token: seed.admin.accessToken,
        variables: { i: { tenant: 'acme', userId: seed.alice.user.id, role: 'DEVELOPER' } },
      }),
    );
    token = (await signIn(url(routerB), 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    await createWorkflow(url(routerA), token, 'chaos', [
      { id: 'a', type: 'http', with: { url: workUrl, method: 'POST' }, timeoutMs: 3_000, retry: { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1_000 } },
      { id: 'b', type: 'transform', needs: ['a'], with: { output: '$.steps.a.output.body' } },
      {
        id: 'c',
        type: 'http',
        needs: ['b'],
        with: { url: workUrl, method: 'POST', body: '$.steps.b.output' },
        timeoutMs: 3_000,
        retry: { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1_000 },
      },
    ]);
  });

  after(async () => {
    for (const p of [...workers, ...processes].reverse()) await p.kill('SIGTERM').catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('shows a subscriber on router A a run started through router B', async () => {
    const client: Client = createClient({
      url: url(routerA).replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const seen: { runId: string; status: string }[] = [];
    const unsubscribe = client.subscribe<{ runs: { runId: string; status: string } }>(
      { query: 'subscription { runs(after: "0-0") { runId status } }' },
      { next: (v) => v.data && seen.push(v.data.runs), error: () => undefined, complete: () => undefined },
    );
    await sleep(500);
    const run = await startWorkflow(url(routerB), token, { workflow: 'chaos' });
    for (let i = 0; i < 200 && !seen.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'); i++) await sleep(50);
    unsubscribe();
    await client.dispose();
    assert.ok(
      seen.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
      JSON.stringify(seen),
    );
  });

  it('loses no run and records no step twice while workers are SIGKILLed', async () => {
    const ids: string[] = [];
    const finalCount = async () =>
      (
        await owner.query<{ n: number }>(
          `select count(*)::int as n from workflow.runs where id = any($1) and status in ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT')`,
          [ids],
        )
      ).rows[0]!.n;
    let starting = true;
    let kills = 0;
    // Chaos, from the first run on: kill a random worker process mid-flight and start a new one.
    const chaos = (async () => {
      for (let round = 0; round < 600; round++) {
        if (!starting && (await finalCount()) >= ids.length) return;
        if (kills < 6 && round % 3 === 1) {
          const index = Math.floor(Math.random() * workers.length);
          await workers[index]!.kill('SIGKILL');
          kills += 1;
          workers[index] = await startProcess(`workers-${kills + 2}`, 'workers', env);
        }
        await sleep(300);
      }
    })();
    for (let batch = 0; batch < 10; batch++) {
      const runs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          startWorkflow(url(batch % 2 === 0 ? routerA : routerB), token, { workflow: 'chaos', input: { n: batch * 20 + i } }),
        ),
      );
      ids.push(...runs.map((r) => r.id));
    }
    starting = false;
    await chaos;
    assert.ok(kills >= 3, `only ${kills} kills happened before the runs ended`);
    const statuses = await owner.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from workflow.runs where id = any($1) group by status`,
      [ids],
    );
    assert.deepEqual(statuses.rows, [{ status: 'SUCCEEDED', n: 200 }]);

    const twice = await owner.query(
      `select run_id, step_id, count(*) from workflow.step_attempts where run_id = any($1) and status = 'SUCCEEDED' group by 1, 2 having count(*) > 1`,
      [ids],
    );
    assert.deepEqual(twice.rows, [], 'a step completion was recorded twice');
    const steps = await owner.query<{ n: number }>(`select count(*)::int as n from workflow.steps where run_id = any($1) and status = 'SUCCEEDED'`, [ids]);
    assert.equal(steps.rows[0]!.n, 600);

    // Every outbox event reached one of the tenant's streams (audit entries have a feed of their
    // own; delivery is at least once: dedupe by id).
    let unpublished = 1;
    for (let i = 0; i < 100 && unpublished > 0; i++) {
      unpublished = (await owner.query<{ n: number }>(`select count(*)::int as n from platform.outbox where published_at is null`)).rows[0]!.n;
      if (unpublished > 0) await sleep(100);
    }
    assert.equal(unpublished, 0);
    const outbox = await owner.query<{ id: string }>(`select id::text as id from platform.outbox where tenant_id = $1`, [seed.acme.id]);
    const stream = [
      ...((await redis.xrange(tenantStreamKey(namespace, seed.acme.id), '-', '+')) as [string, string[]][]),
      ...((await redis.xrange(tenantStreamKey(namespace, seed.acme.id, AUDIT_FEED), '-', '+')) as [string, string[]][]),
    ];
    const delivered = new Set(stream.map(([, fields]) => fields[fields.indexOf('outboxId') + 1]));
    const missing = outbox.rows.filter((row) => !delivered.has(row.id));
    assert.deepEqual(missing, [], 'events missing from the stream');
    // Each step's side effect carried one idempotency key whatever its retries: one key per
    // http step of each run (a call repeated after a kill reuses its key).
    const keys = [...calls.keys()].filter((key) => ids.some((id) => key.startsWith(`${id}:`)));
    assert.equal(keys.length, ids.length * 2);
    assert.ok(keys.every((key) => /^[0-9a-f-]{36}:(a|c)$/.test(key)));
  });
});
