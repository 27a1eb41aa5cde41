import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tenantCoreEntities, type Tenant } from '@tansu/tenant-core/entities';
import { provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { tableOwners } from '@tansu/supergraph/tables';
import { validateWorkflowSpec } from '@tansu/subgraph-workflow/definitions/workflow-definition';
import { createDefinitionCache } from '@tansu/subgraph-workflow/engine/definitions';
import { createRunEngine, type RunEngine } from '@tansu/subgraph-workflow/engine/run-engine';

// The step queue against real Postgres: claims, outcomes, leases and reaping, with the rows as the only schedule.
describe('the step queue', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let db: Database;
  let systemDb: Database;
  let owner: pg.Client;
  let acme: Tenant;
  let globex: Tenant;
  let engine: RunEngine;
  const lease = { leaseMs: 30_000, tenantConcurrency: 100 };

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    db = await openDatabase({ url: database.appUrl, entities: [...tenantCoreEntities, OutboxEventEntity] });
    cleanups.push(() => db.close());
    systemDb = await openDatabase({ url: database.url, entities: [OutboxEventEntity], poolMax: 2 });
    cleanups.push(() => systemDb.close());
    owner = await database.owner();
    acme = await provisionTenant(db, { slug: 'acme', name: 'Acme Corp' });
    globex = await provisionTenant(db, { slug: 'globex', name: 'Globex' });
    engine = createRunEngine({ definitions: createDefinitionCache() });
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function define(tenant: Tenant, name: string, steps: unknown[]): Promise<string> {
    const spec = validateWorkflowSpec({ steps });
    const { rows } = await owner.query<{ id: string }>(
      `insert into workflow.definitions (id, tenant_id, name, version, spec) values (gen_random_uuid(), $1, $2, 1, $3::jsonb) returning id`,
      [tenant.id, name, JSON.stringify(spec)],
    );
    return rows[0]!.id;
  }

  async function start(tenant: Tenant, definitionId: string, count = 1, input: unknown = {}): Promise<string[]> {
    const runs = Array.from({ length: count }, () => ({
      tenantId: tenant.id,
      definitionId,
      input: input as never,
      idempotencyKey: null,
      startedBy: null,
      requestId: 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    }));
    return db.withTenant(tenant.id, (em) => engine.createRuns(em, runs));
  }

  const claim = (slots: number, options = lease) => systemDb.global((em) => engine.claimSteps(em, { slots, ...options }));
  const stepRow = async (runId: string, stepId: string) =>
    (await owner.query(`select status, attempt, lease_until, ready_at from workflow.steps where run_id = $1 and step_id = $2`, [runId, stepId])).rows[0];
  const runStatus = async (runId: string) => (await owner.query(`select status from workflow.runs where id = $1`, [runId])).rows[0]?.status;
  const events = async (runId: string) =>
    (
      await owner.query<{ topic: string; payload: Record<string, unknown> }>(
        `select topic, payload from platform.outbox where payload->>'runId' = $1 and topic <> 'workflow.run.log' order by id`,
        [runId],
      )
    ).rows.map((e) => (e.topic === 'workflow.run.updated' ? `run ${e.payload.status}` : `${e.payload.stepId} ${e.payload.status} #${e.payload.attempt}`));

  it('claims a step with what its runner needs, starts the run, and records its completion and the next step', async () => {
    const definitionId = await define(acme, 'two', [
      { id: 'first', type: 'delay', with: { ms: 0 } },
      { id: 'second', type: 'delay', needs: ['first'], with: { ms: '$.input.ms' } },
    ]);
    const [runId] = await start(acme, definitionId, 1, { ms: 0 });
    const first = await claim(10);
    const step = first.steps.find((s) => s.runId === runId)!;
    assert.equal(step.stepId, 'first');
    assert.equal(step.attempt, 1);
    assert.equal(step.tenantId, acme.id);
    assert.equal(step.requestId, 'req-1');
    assert.equal(step.idempotencyKey, `${runId}:first`);
    assert.equal(step.def.type, 'delay');
    assert.deepEqual(step.scope.input, { ms: 0 });
    assert.equal((await stepRow(runId!, 'first')).status, 'RUNNING');
    assert.equal(await runStatus(runId!), 'RUNNING');
    assert.deepEqual((await claim(10)).steps, [], 'a claimed step is not claimed again');

    const recorded = await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'first', attempt: 1, output: { ok: 1 } }]));
    assert.deepEqual(recorded, ['completed']);
    const again = await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'first', attempt: 1, output: { ok: 2 } }]));
    assert.deepEqual(again, ['stale'], 'a second completion of the same attempt changes nothing');

    const second = (await claim(10)).steps.find((s) => s.runId === runId)!;
    assert.equal(second.stepId, 'second');
    assert.deepEqual(second.scope.steps, { first: { output: { ok: 1 } } });
    await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'second', attempt: 1, output: null }]));
    assert.equal(await runStatus(runId!), 'SUCCEEDED');
    assert.deepEqual(await events(runId!), [
      'run QUEUED',
      'first READY #0',
      'run RUNNING',
      'first RUNNING #1',
      'first SUCCEEDED #1',
      'second READY #0',
      'second RUNNING #1',
      'second SUCCEEDED #1',
      'run SUCCEEDED',
    ]);
  });

  it('interleaves tenants and holds each plan’s concurrency', async () => {
    const acmeDef = await define(acme, 'flood', [{ id: 'only', type: 'delay', with: { ms: 0 } }]);
    const globexDef = await define(globex, 'flood', [{ id: 'only', type: 'delay', with: { ms: 0 } }]);
    const acmeRuns = await start(acme, acmeDef, 20);
    const globexRuns = await start(globex, globexDef, 2);
    // The free plan allows five steps in flight per tenant.
    const claimed = await claim(50);
    const byTenant = (tenant: Tenant) => claimed.steps.filter((s) => s.tenantId === tenant.id).length;
    assert.equal(byTenant(acme), 5);
    assert.equal(byTenant(globex), 2);
    assert.deepEqual(
      claimed.steps
        .slice(0, 2)
        .map((s) => s.tenantId)
        .sort(),
      [acme.id, globex.id].sort(),
      'every tenant’s oldest step comes before anyone’s second',
    );
    assert.deepEqual((await claim(50)).steps, [], 'no tenant goes past its plan');
    for (const tenant of [acme, globex]) {
      const mine = claimed.steps.filter((s) => s.tenantId === tenant.id);
      await db.withTenant(tenant.id, (em) =>
        engine.recordOutcomes(
          em,
          mine.map((s) => ({ runId: s.runId, stepId: s.stepId, attempt: s.attempt, output: null })),
        ),
      );
    }
    assert.equal((await claim(50)).steps.length, 5, 'finished steps free their tenant’s slots');
    await owner.query(`update workflow.runs set status = 'CANCELLED' where id = any($1::uuid[])`, [[...acmeRuns, ...globexRuns]]);
    await owner.query(`update workflow.steps set status = 'CANCELLED' where run_id = any($1::uuid[])`, [[...acmeRuns, ...globexRuns]]);
  });

  it('retries a failure after its backoff, and fails the run when the policy says so', async () => {
    const definitionId = await define(acme, 'flaky', [
      { id: 'call', type: 'delay', with: { ms: 0 }, retry: { maxAttempts: 2, initialDelayMs: 200, maxDelayMs: 200 } },
    ]);
    const [runId] = await start(acme, definitionId);
    const failure = { message: 'upstream 503', code: 'HTTP_5XX', retryable: true };
    const one = (await claim(10)).steps.find((s) => s.runId === runId)!;
    assert.deepEqual(await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'call', attempt: one.attempt, failure }])), [
      'retrying',
    ]);
    const early = await claim(10);
    assert.equal(early.steps.length, 0, 'not before its backoff');
    assert.ok(early.nextInMs !== undefined && early.nextInMs <= 200);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const two = (await claim(10)).steps.find((s) => s.runId === runId)!;
    assert.equal(two.attempt, 2);
    assert.equal(two.idempotencyKey, one.idempotencyKey, 'a retry sends the same idempotency key');
    assert.deepEqual(await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'call', attempt: 2, failure }])), ['failed']);
    assert.equal(await runStatus(runId!), 'FAILED');
  });

  it('renews leases it holds, and tells when a run was cancelled', async () => {
    const definitionId = await define(acme, 'long', [{ id: 'wait', type: 'delay', with: { ms: 0 } }]);
    const [kept, cancelled] = await start(acme, definitionId, 2);
    const claimed = (await claim(10)).steps.filter((s) => s.runId === kept || s.runId === cancelled);
    assert.equal(claimed.length, 2);
    await db.withTenant(acme.id, (em) => engine.cancelRun(em, cancelled!));
    const before = (await stepRow(kept!, 'wait')).lease_until as Date;
    const held = await systemDb.global((em) => engine.extendLeases(em, claimed, 60_000));
    assert.deepEqual([...held], [`${kept}:wait`]);
    assert.ok(((await stepRow(kept!, 'wait')).lease_until as Date) > before);
    await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: kept!, stepId: 'wait', attempt: 1, output: null }]));
  });

  it('reaps an attempt whose lease passed once, and retries it with the same key', async () => {
    const definitionId = await define(acme, 'lost', [
      { id: 'call', type: 'delay', with: { ms: 0 }, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 } },
    ]);
    const [runId] = await start(acme, definitionId);
    const first = (await claim(10, { leaseMs: 1, tenantConcurrency: 100 })).steps.find((s) => s.runId === runId)!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const expired = await systemDb.global((em) => engine.findExpired(em));
    const lost = expired!.lost.filter((s) => s.runId === runId);
    assert.deepEqual(lost, [{ tenantId: acme.id, runId, stepId: 'call', attempt: 1 }]);
    // Two reapers racing over the same attempt record it once.
    const outcomes = await Promise.all(lost.concat(lost).map((s) => db.withTenant(acme.id, (em) => engine.loseStep(em, s))));
    assert.deepEqual(outcomes.sort(), ['retrying', 'stale']);
    const attempts = await owner.query(`select attempt, status from workflow.step_attempts where run_id = $1 order by attempt`, [runId]);
    assert.deepEqual(attempts.rows, [{ attempt: 1, status: 'ABANDONED' }]);
    // The dead worker's late completion does not count.
    assert.deepEqual(await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'call', attempt: 1, output: 'late' }])), [
      'stale',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const retry = (await claim(10)).steps.find((s) => s.runId === runId)!;
    assert.equal(retry.attempt, 2);
    assert.equal(retry.idempotencyKey, first.idempotencyKey);
    await db.withTenant(acme.id, (em) => engine.recordOutcomes(em, [{ runId: runId!, stepId: 'call', attempt: 2, output: 'ok' }]));
    assert.equal(await runStatus(runId!), 'SUCCEEDED');
  });
});
