import type { EntityManager } from '@tansu/platform/db/database';
import type { Json, MappingScope } from '../definitions/mapping.ts';
import type { StepDefinition } from '../definitions/workflow-definition.ts';
import type { DefinitionCache } from './definitions.ts';
import { FINAL_RUN_STATUSES } from '../rows.ts';
import { emitStep, TOPICS, type EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import { completeStep, failStep } from './step-attempts.ts';
import type { StepFailure } from './state-machine.ts';
import { advance } from './transitions.ts';

/**
 * Postgres as the step queue: workers claim ready steps straight from the rows (fairly across
 * tenants, within each tenant's plan), hold them under a lease they renew, and record their
 * outcomes in batches. The rows are the only schedule: nothing else delivers, retries or
 * recovers a step.
 */

/** Only one claim at a time, so per-tenant limits hold across processes. */
const CLAIM_LOCK = 72_616_002;

/** A claimed step attempt, with all its runner needs. */
export interface ClaimedStep {
  tenantId: string;
  runId: string;
  stepId: string;
  attempt: number;
  def: StepDefinition;
  scope: MappingScope;
  /** Stable across attempts: the same step of the same run always sends the same key. */
  idempotencyKey: string;
  requestId?: string;
  traceparent?: string;
}

export interface Claim {
  steps: ClaimedStep[];
  /** How soon the next step that is ready later becomes due. */
  nextInMs?: number;
}

interface ClaimedRow {
  tenant_id: string;
  run_id: string;
  step_id: string;
  attempt: number;
  definition_id: string;
  input: Json;
  idempotency_key: string | null;
  request_id: string | null;
  traceparent: string | null;
  outputs: Record<string, Json>;
}

/**
 * Claims up to `slots` ready steps for `leaseMs`, in the owner's transaction (it looks across
 * tenants): each tenant gets at most its free concurrency, and tenants are interleaved by rank
 * (every tenant's oldest step before anyone's second). One statement moves the steps to
 * RUNNING, records their attempts, starts their runs and writes the events, in order.
 */
export async function claimSteps(
  em: EntityManager,
  definitions: DefinitionCache,
  options: { slots: number; leaseMs: number; tenantConcurrency: number },
): Promise<Claim> {
  // The lock first, in its own statement: the claim's snapshot must see the previous claim's commit.
  const [lock] = await em.execute<{ next_ms: number | null }[]>(
    `select pg_advisory_xact_lock(?)::text as locked,
            (select (extract(epoch from min(ready_at) - clock_timestamp()) * 1000)::float8 from workflow.steps where status = 'READY' and ready_at > now()) as next_ms`,
    [CLAIM_LOCK],
  );
  const nextInMs = lock?.next_ms === null || lock?.next_ms === undefined ? undefined : Math.max(0, Math.ceil(lock.next_ms));
  if (options.slots <= 0) return { steps: [], nextInMs };
  const rows = await em.execute<ClaimedRow[]>(
    `with inflight as (
       select tenant_id, count(*)::int as n from workflow.steps where status in ('DISPATCHED', 'RUNNING') group by tenant_id
     ), ranked as (
       select s.tenant_id, s.run_id, s.step_id,
              row_number() over (partition by s.tenant_id order by s.ready_at, s.run_id, s.step_id) as rank
       from workflow.steps s where s.status = 'READY' and s.ready_at <= now()
     ), chosen as (
       -- The tenant's plan may allow fewer in flight than the engine's own cap, never more.
       select r.tenant_id, r.run_id, r.step_id, r.rank from ranked r left join inflight i using (tenant_id)
       join platform.tenants t on t.id = r.tenant_id join platform.plans p on p.id = t.plan
       where r.rank <= least(coalesce(p.concurrent_runs, ?::int), ?::int) - coalesce(i.n, 0)
       order by r.rank, r.tenant_id limit ?
     ), locked_runs as (
       -- A run another transaction holds (a cancel, a completion) waits for the next claim.
       select r.id, r.status, r.definition_id, r.input, r.idempotency_key, r.request_id, r.traceparent
       from workflow.runs r where r.id = any(array(select run_id from chosen)) and r.status in ('QUEUED', 'RUNNING')
       for no key update skip locked
     ), claimed as (
       update workflow.steps s set status = 'RUNNING', attempt = s.attempt + 1, started_at = coalesce(s.started_at, now()),
              lease_until = now() + (?::int * interval '1 millisecond')
       from chosen c join locked_runs r on r.id = c.run_id
       where s.run_id = c.run_id and s.step_id = c.step_id and s.status = 'READY'
       returning s.tenant_id, s.run_id, s.step_id, s.attempt, c.rank, r.status as run_status, r.definition_id, r.input, r.idempotency_key,
                 r.request_id, r.traceparent
     ), ordered as (
       select c.*, row_number() over (order by c.rank, c.tenant_id, c.run_id, c.step_id) as ord,
              row_number() over (partition by c.run_id order by c.rank, c.step_id) as nth
       from claimed c
     ), attempts as (
       insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status)
       select tenant_id, run_id, step_id, attempt, 'RUNNING' from claimed on conflict do nothing
     ), started as (
       update workflow.runs r set status = 'RUNNING', error = null, finished_at = null, updated_at = now()
       from (select distinct run_id from claimed where run_status = 'QUEUED') c where r.id = c.run_id
     ), events as (
       insert into platform.outbox (tenant_id, topic, payload)
       select e.tenant_id, e.topic, e.payload from (
         select o.tenant_id, ?::text as topic, o.ord, 0 as k,
                jsonb_build_object('runId', o.run_id, 'status', 'RUNNING', 'workflow', d.name, 'error', null) as payload
         from ordered o join workflow.definitions d on d.id = o.definition_id where o.run_status = 'QUEUED' and o.nth = 1
         union all
         select o.tenant_id, ?::text, o.ord, 1,
                jsonb_build_object('runId', o.run_id, 'stepId', o.step_id, 'status', 'RUNNING', 'attempt', o.attempt, 'error', null)
         from ordered o
       ) e order by e.ord, e.k
     )
     select o.tenant_id, o.run_id, o.step_id, o.attempt, o.definition_id, o.input, o.idempotency_key, o.request_id, o.traceparent,
            (select coalesce(jsonb_object_agg(x.step_id, x.output), '{}'::jsonb) from workflow.steps x where x.run_id = o.run_id and x.status = 'SUCCEEDED') as outputs
     from ordered o order by o.ord`,
    [options.tenantConcurrency, options.tenantConcurrency, options.slots, options.leaseMs, TOPICS.runUpdated, TOPICS.stepUpdated],
  );
  const steps: ClaimedStep[] = [];
  for (const row of rows) {
    const definition = await definitions.get(em, row.definition_id);
    const def = definition?.spec.steps.find((s) => s.id === row.step_id);
    // Definitions never change once written: a step the claim found is in its definition.
    if (def === undefined) throw new Error(`step ${row.step_id} of run ${row.run_id} is not in its definition`);
    const step: ClaimedStep = {
      tenantId: row.tenant_id,
      runId: row.run_id,
      stepId: row.step_id,
      attempt: row.attempt,
      def,
      scope: {
        input: row.input,
        steps: Object.fromEntries(Object.entries(row.outputs).map(([id, output]) => [id, { output }])),
        run: { id: row.run_id, idempotencyKey: row.idempotency_key },
      },
      idempotencyKey: `${row.run_id}:${row.step_id}`,
    };
    if (row.request_id !== null) step.requestId = row.request_id;
    if (row.traceparent !== null) step.traceparent = row.traceparent;
    steps.push(step);
  }
  return { steps, nextInMs };
}

export type StepOutcome = { runId: string; stepId: string; attempt: number } & ({ output: Json } | { failure: StepFailure });
export type RecordedOutcome = 'completed' | 'retrying' | 'failed' | 'stale';

/**
 * Records one tenant's finished attempts in its transaction, through the state machine, each
 * fenced on its attempt (a step recorded twice counts once). Successes take a few statements
 * for the whole batch: the runs locked at once (in one order, so batches cannot deadlock),
 * the steps marked at once, then each run advanced from the steps read at once. A run with a
 * failure in the batch goes the way of a single failure.
 */
export async function recordOutcomes(tx: EngineTx, definitions: DefinitionCache, outcomes: StepOutcome[]): Promise<RecordedOutcome[]> {
  const recorded: RecordedOutcome[] = new Array(outcomes.length).fill('stale');
  const runIds = [...new Set(outcomes.map((o) => o.runId))].sort();
  const runs = await store.lockRuns(tx.em, definitions, runIds);
  const failing = new Set(outcomes.filter((o) => 'failure' in o).map((o) => o.runId));
  const successes = outcomes.flatMap((o, i) => {
    const run = runs.get(o.runId);
    return 'output' in o && !failing.has(o.runId) && run !== undefined && !FINAL_RUN_STATUSES.includes(run.status) ? [{ ...o, i }] : [];
  });
  const current = successes.length === 0 ? new Set<string>() : await store.markStepsSucceeded(tx.em, successes);
  const advancing = new Set<string>();
  for (const success of successes) {
    if (!current.has(`${success.runId}:${success.stepId}`)) continue;
    recorded[success.i] = 'completed';
    emitStep(tx, runs.get(success.runId)!, success.stepId, 'SUCCEEDED', success.attempt);
    advancing.add(success.runId);
  }
  if (advancing.size > 0) {
    // A finished step frees its tenant's slot.
    tx.wakesWorkers = true;
    const steps = await store.loadStepsOfRuns(tx.em, [...advancing]);
    tx.deferredReady = [];
    try {
      for (const runId of advancing) await advance(tx, runs.get(runId)!, steps.get(runId));
      await store.markStepsReady(tx.em, tx.deferredReady);
    } finally {
      tx.deferredReady = undefined;
    }
  }
  for (const runId of runIds.filter((id) => failing.has(id))) {
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.runId !== runId) continue;
      if ('failure' in outcome) recorded[i] = await failStep(tx, definitions, outcome.runId, outcome.stepId, outcome.attempt, outcome.failure);
      else recorded[i] = (await completeStep(tx, definitions, outcome.runId, outcome.stepId, outcome.attempt, outcome.output)) ? 'completed' : 'stale';
    }
  }
  return recorded;
}

export interface Lease {
  runId: string;
  stepId: string;
  attempt: number;
}

/** Renews the leases still held; returns the keys (`runId:stepId`) of those that were. A lease not renewed was cancelled or lost. */
export async function extendLeases(em: EntityManager, leases: Lease[], leaseMs: number): Promise<Set<string>> {
  if (leases.length === 0) return new Set();
  const rows = await em.execute<{ run_id: string; step_id: string }[]>(
    `update workflow.steps s set lease_until = now() + (?::int * interval '1 millisecond')
     from jsonb_to_recordset(?::jsonb) as l(run_id uuid, step_id text, attempt int)
     where s.run_id = any(?::uuid[]) and s.run_id = l.run_id and s.step_id = l.step_id and s.attempt = l.attempt and s.status = 'RUNNING'
     returning s.run_id, s.step_id`,
    [leaseMs, JSON.stringify(leases.map((l) => ({ run_id: l.runId, step_id: l.stepId, attempt: l.attempt }))), store.uuidArray(leases.map((l) => l.runId))],
  );
  return new Set(rows.map((row) => `${row.run_id}:${row.step_id}`));
}

export interface ExpiredWork {
  /** Attempts whose lease passed: their worker stopped answering. */
  lost: (Lease & { tenantId: string })[];
  /** waitForEvent steps whose time ran out. */
  waits: { tenantId: string; runId: string; stepId: string }[];
}

/** What ran out of time, found under the claim lock so one process at a time reaps it; null when another holds the lock. */
export async function findExpired(em: EntityManager, limit = 100): Promise<ExpiredWork | null> {
  const [lock] = await em.execute<{ locked: boolean }[]>(`select pg_try_advisory_xact_lock(?) as locked`, [CLAIM_LOCK]);
  if (lock?.locked !== true) return null;
  const lost = await em.execute<{ tenant_id: string; run_id: string; step_id: string; attempt: number }[]>(
    `select tenant_id, run_id, step_id, attempt from workflow.steps where status in ('DISPATCHED', 'RUNNING') and lease_until < now() order by lease_until limit ?`,
    [limit],
  );
  const waits = await em.execute<{ tenant_id: string; run_id: string; step_id: string }[]>(
    `select tenant_id, run_id, step_id from workflow.steps where status = 'WAITING' and ready_at <= now() order by ready_at limit ?`,
    [limit],
  );
  return {
    lost: lost.map((s) => ({ tenantId: s.tenant_id, runId: s.run_id, stepId: s.step_id, attempt: s.attempt })),
    waits: waits.map((s) => ({ tenantId: s.tenant_id, runId: s.run_id, stepId: s.step_id })),
  };
}

/** How a lost attempt is recorded: once, fenced on its attempt, then retried like any failure. */
export const WORKER_LOST: StepFailure = { message: 'the worker running this attempt stopped answering', code: 'WORKER_LOST', retryable: true };
