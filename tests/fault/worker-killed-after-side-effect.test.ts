import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tableOwners } from '@tansu/supergraph/tables';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { validateWorkflowSpec } from '@tansu/subgraph-workflow/definitions/workflow-definition';
import { createDefinitionCache } from '@tansu/subgraph-workflow/engine/definitions';
import { createRunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import { startProcess, type ServiceProcess } from '../support/processes.ts';
import { useRequestGuard } from '../support/request-guard.ts';

useRequestGuard();

// A worker process SIGKILLed after a step's side effect happened and before its completion was
// recorded: the step runs again, once, and its side effect sees the same idempotency key.
describe('a worker killed between a side effect and its record', { timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  const workers: ServiceProcess[] = [];
  let db: Database;
  let owner: pg.Client;
  let env: Record<string, string>;
  let work: Server;
  let workUrl: string;
  const calls: { key: string; worker: string }[] = [];

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    db = await openDatabase({ url: database.appUrl, entities: [...tenantCoreEntities, OutboxEventEntity] });
    cleanups.push(() => db.close());
    owner = await database.owner();
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: database.redisUrl,
      TANSU_SECRET: TEST_SECRET,
      TANSU_REDIS_NAMESPACE: `test-${crypto.randomUUID()}`,
      TANSU_EGRESS_ALLOW_PRIVATE: 'true',
    };
    // The outside service: the first call takes effect, then the worker that made it dies before it hears back.
    work = createServer((req, res) => {
      calls.push({ key: String(req.headers['idempotency-key']), worker: workers.at(-1)!.name });
      if (calls.length === 1) {
        void workers
          .at(-1)!
          .kill('SIGKILL')
          .then(() => res.destroy());
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"charged":true}');
    });
    await new Promise<void>((resolve) => work.listen(0, '127.0.0.1', resolve));
    workUrl = `http://127.0.0.1:${(work.address() as AddressInfo).port}/charge`;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          work.closeAllConnections();
          work.close(() => resolve());
        }),
    );
    workers.push(await startProcess('workers-1', 'workers', env));
  });

  after(async () => {
    for (const worker of workers) await worker.kill('SIGTERM').catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('runs the step again with the same idempotency key, and records it once', async () => {
    const tenant = await provisionTenant(db, { slug: 'acme', name: 'Acme Corp' });
    const spec = validateWorkflowSpec({
      steps: [{ id: 'charge', type: 'http', with: { url: workUrl, method: 'POST' }, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10 } }],
    });
    const { rows } = await owner.query<{ id: string }>(
      `insert into workflow.definitions (id, tenant_id, name, version, spec) values (gen_random_uuid(), $1, 'pay', 1, $2::jsonb) returning id`,
      [tenant.id, JSON.stringify(spec)],
    );
    const engine = createRunEngine({ definitions: createDefinitionCache() });
    const [runId] = await db.withTenant(tenant.id, (em) =>
      engine.createRuns(em, [
        { tenantId: tenant.id, definitionId: rows[0]!.id, input: {}, idempotencyKey: null, startedBy: null, requestId: null, traceparent: null },
      ]),
    );

    for (let i = 0; i < 100 && calls.length === 0; i++) await sleep(100);
    assert.equal(calls.length, 1, 'the first worker called the service');
    // The first worker died with the attempt open: another takes over once its lease has passed.
    workers.push(await startProcess('workers-2', 'workers', env));
    let status = '';
    for (let i = 0; i < 600 && status !== 'SUCCEEDED' && status !== 'FAILED'; i++) {
      status = (await owner.query<{ status: string }>(`select status from workflow.runs where id = $1`, [runId])).rows[0]!.status;
      if (status !== 'SUCCEEDED') await sleep(100);
    }
    assert.equal(status, 'SUCCEEDED');

    assert.deepEqual(calls, [
      { key: `${runId}:charge`, worker: 'workers-1' },
      { key: `${runId}:charge`, worker: 'workers-2' },
    ]);
    const attempts = await owner.query(`select attempt, status from workflow.step_attempts where run_id = $1 order by attempt`, [runId]);
    assert.deepEqual(attempts.rows, [
      { attempt: 1, status: 'ABANDONED' },
      { attempt: 2, status: 'SUCCEEDED' },
    ]);
    const step = await owner.query(`select status, attempt, output->'body' as body from workflow.steps where run_id = $1`, [runId]);
    assert.deepEqual(step.rows, [{ status: 'SUCCEEDED', attempt: 2, body: { charged: true } }]);
  });
});
