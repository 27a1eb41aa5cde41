import type { EntityManager } from '@tansu/platform/db/database';
import type { Json } from '../definitions/mapping.ts';
import { FINAL_RUN_STATUSES, type RunRow, type RunStatus, type StepStatus } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import type { LoadedRun, LoadedStep, LogLevel } from './state-machine.ts';

/**
 * The engine's SQL on runs, steps, attempts and logs. Every function runs in the caller's
 * tenant transaction; an operation locks its run first, so operations on one run take turns.
 */

export async function loadRun(em: EntityManager, definitions: DefinitionCache, runId: string, lock = false): Promise<LoadedRun | undefined> {
  const rows = await em.execute<Pick<RunRow, 'id' | 'tenant_id' | 'status' | 'input' | 'idempotency_key' | 'definition_id'>[]>(
    `select id, tenant_id, status, input, idempotency_key, definition_id from workflow.runs where id = ?${lock ? ' for update' : ''}`,
    [runId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const definition = await definitions.get(em, row.definition_id);
  if (definition === undefined) return undefined;
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    status: row.status,
    input: row.input,
    idempotency_key: row.idempotency_key,
    spec: definition.spec,
    definition_name: definition.name,
  };
}

/** A Postgres array literal of ids (the driver's own array binding would expand into a list). */
export function uuidArray(ids: string[]): string {
  for (const id of ids) if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  return `{${[...new Set(ids)].join(',')}}`;
}

/** Locks several runs, in one order (so two batches cannot deadlock), and reads them. */
export async function lockRuns(em: EntityManager, definitions: DefinitionCache, runIds: string[]): Promise<Map<string, LoadedRun>> {
  const rows = await em.execute<Pick<RunRow, 'id' | 'tenant_id' | 'status' | 'input' | 'idempotency_key' | 'definition_id'>[]>(
    `select id, tenant_id, status, input, idempotency_key, definition_id from workflow.runs where id = any(?::uuid[])
     order by id for update`,
    [uuidArray(runIds)],
  );
  const runs = new Map<string, LoadedRun>();
  for (const row of rows) {
    const definition = await definitions.get(em, row.definition_id);
    if (definition === undefined) continue;
    runs.set(row.id, {
      id: row.id,
      tenant_id: row.tenant_id,
      status: row.status,
      input: row.input,
      idempotency_key: row.idempotency_key,
      spec: definition.spec,
      definition_name: definition.name,
    });
  }
  return runs;
}

/** The steps of several runs, by run. */
export async function loadStepsOfRuns(em: EntityManager, runIds: string[]): Promise<Map<string, Map<string, LoadedStep>>> {
  const rows = await em.execute<(LoadedStep & { run_id: string })[]>(
    `select run_id, step_id, status, attempt, output from workflow.steps where run_id = any(?::uuid[])`,
    [uuidArray(runIds)],
  );
  const byRun = new Map<string, Map<string, LoadedStep>>(runIds.map((id) => [id, new Map()]));
  for (const { run_id, ...step } of rows) byRun.get(run_id)?.set(step.step_id, step);
  return byRun;
}

/** Records several successes at once; returns the `runId:stepId` of those still current (each recorded once). */
export async function markStepsSucceeded(em: EntityManager, done: { runId: string; stepId: string; attempt: number; output: Json }[]): Promise<Set<string>> {
  const rows = await em.execute<{ run_id: string; step_id: string }[]>(
    `with done as (
       update workflow.steps s set status = 'SUCCEEDED', output = d.output, error = null, error_code = null, finished_at = now(), lease_until = null
       from jsonb_to_recordset(?::jsonb) as d(run_id uuid, step_id text, attempt int, output jsonb)
       where s.run_id = any(?::uuid[]) and s.run_id = d.run_id and s.step_id = d.step_id and s.attempt = d.attempt
         and s.status in ('RUNNING', 'DISPATCHED', 'WAITING')
       returning s.run_id, s.step_id, s.attempt
     ), attempts as (
       update workflow.step_attempts a set status = 'SUCCEEDED', finished_at = now() from done
       where a.run_id = any(?::uuid[]) and a.run_id = done.run_id and a.step_id = done.step_id and a.attempt = done.attempt
     )
     select run_id, step_id from done`,
    [
      JSON.stringify(done.map((d) => ({ run_id: d.runId, step_id: d.stepId, attempt: d.attempt, output: d.output ?? null }))),
      uuidArray(done.map((d) => d.runId)),
      uuidArray(done.map((d) => d.runId)),
    ],
  );
  return new Set(rows.map((row) => `${row.run_id}:${row.step_id}`));
}

export async function loadSteps(em: EntityManager, runId: string): Promise<Map<string, LoadedStep>> {
  const rows = await em.execute<LoadedStep[]>(`select step_id, status, attempt, output from workflow.steps where run_id = ?`, [runId]);
  return new Map(rows.map((row) => [row.step_id, row]));
}

export async function updateRunStatus(em: EntityManager, runId: string, status: RunStatus, fields: { output?: Json; error?: string | null }): Promise<void> {
  const final = FINAL_RUN_STATUSES.includes(status);
  await em.execute(
    `update workflow.runs set status = ?, output = coalesce(?::jsonb, output), error = ?, updated_at = now(),
       finished_at = ${final ? 'now()' : 'null'} where id = ?`,
    [status, fields.output === undefined ? null : JSON.stringify(fields.output), fields.error ?? null, runId],
  );
}

export async function clearRunFinish(em: EntityManager, runId: string): Promise<void> {
  await em.execute(`update workflow.runs set finished_at = null where id = ?`, [runId]);
}

/** Returns the log entry's id. */
export async function insertRunLog(
  em: EntityManager,
  run: Pick<LoadedRun, 'id' | 'tenant_id'>,
  entry: { stepId?: string | null; level: LogLevel; message: string; data?: Json },
): Promise<string> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into workflow.run_logs (tenant_id, run_id, step_id, level, message, data) values (?, ?, ?, ?, ?, ?::jsonb) returning id::text as id`,
    [run.tenant_id, run.id, entry.stepId ?? null, entry.level, entry.message, entry.data === undefined ? null : JSON.stringify(entry.data)],
  );
  return rows[0]!.id;
}

export async function markStepDelayed(em: EntityManager, runId: string, stepId: string, ms: number): Promise<void> {
  await em.execute(`update workflow.steps set status = 'READY', ready_at = now() + (? * interval '1 millisecond') where run_id = ? and step_id = ?`, [
    ms,
    runId,
    stepId,
  ]);
}

export async function markStepWaiting(
  em: EntityManager,
  runId: string,
  stepId: string,
  wait: { event: string; match: Json },
  timeoutMs: number | null,
): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'WAITING', wait = ?::jsonb, started_at = now(),
         ready_at = ${timeoutMs === null ? 'null' : "now() + (? * interval '1 millisecond')"} where run_id = ? and step_id = ?`,
    timeoutMs === null ? [JSON.stringify(wait), runId, stepId] : [JSON.stringify(wait), timeoutMs, runId, stepId],
  );
}

export async function markStepReady(em: EntityManager, runId: string, stepId: string): Promise<void> {
  await em.execute(`update workflow.steps set status = 'READY', ready_at = now() where run_id = ? and step_id = ?`, [runId, stepId]);
}

/** Several steps made ready now, in one statement; a step closed meanwhile (its run failed or was cancelled) stays closed. */
export async function markStepsReady(em: EntityManager, steps: { runId: string; stepId: string }[]): Promise<void> {
  if (steps.length === 0) return;
  await em.execute(
    `update workflow.steps s set status = 'READY', ready_at = now()
     from jsonb_to_recordset(?::jsonb) as r(run_id uuid, step_id text)
     where s.run_id = any(?::uuid[]) and s.run_id = r.run_id and s.step_id = r.step_id and s.status = 'PENDING'`,
    [JSON.stringify(steps.map((step) => ({ run_id: step.runId, step_id: step.stepId }))), uuidArray(steps.map((step) => step.runId))],
  );
}

/** A pure step run on the spot: done at its first attempt. */
export async function recordInlineSuccess(em: EntityManager, run: Pick<LoadedRun, 'id' | 'tenant_id'>, stepId: string, output: Json): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'SUCCEEDED', attempt = 1, output = ?::jsonb, started_at = now(), finished_at = now() where run_id = ? and step_id = ?`,
    [JSON.stringify(output ?? null), run.id, stepId],
  );
  await em.execute(`insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status, finished_at) values (?, ?, ?, 1, 'SUCCEEDED', now())`, [
    run.tenant_id,
    run.id,
    stepId,
  ]);
}

export async function markStepFailed(
  em: EntityManager,
  runId: string,
  stepId: string,
  status: StepStatus,
  failure: { message: string; code: string },
): Promise<void> {
  await em.execute(
    `update workflow.steps set status = ?, error = ?, error_code = ?, finished_at = now(), lease_until = null where run_id = ? and step_id = ?`,
    [status, failure.message, failure.code, runId, stepId],
  );
}

/** After a step's final failure: its siblings still open are cancelled (their workers will find the run ended). */
export async function cancelSiblings(em: EntityManager, runId: string): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
     where run_id = ? and status in ('PENDING', 'READY', 'WAITING', 'DISPATCHED', 'RUNNING')`,
    [runId],
  );
}

/** A cancelled run: every step still open is cancelled. */
export async function cancelOpenSteps(em: EntityManager, runId: string): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
     where run_id = ? and status in ('PENDING', 'READY', 'DISPATCHED', 'RUNNING', 'WAITING')`,
    [runId],
  );
}

export async function abandonRunningAttempts(em: EntityManager, runId: string): Promise<void> {
  await em.execute(`update workflow.step_attempts set status = 'ABANDONED', finished_at = now() where run_id = ? and status = 'RUNNING'`, [runId]);
}

/** Clears a step still open in a run that has ended, so it does not hold its tenant's slots. */
export async function closeStaleStep(em: EntityManager, runId: string, stepId: string): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
       where run_id = ? and step_id = ? and status in ('DISPATCHED', 'RUNNING', 'READY', 'WAITING')`,
    [runId, stepId],
  );
  await em.execute(`update workflow.step_attempts set status = 'ABANDONED', finished_at = now() where run_id = ? and step_id = ? and status = 'RUNNING'`, [
    runId,
    stepId,
  ]);
}

/** False when the attempt is no longer current (replaced, or already recorded). */
export async function markStepSucceeded(em: EntityManager, runId: string, stepId: string, attempt: number, output: Json): Promise<boolean> {
  const done = await em.execute<{ step_id: string }[]>(
    `update workflow.steps set status = 'SUCCEEDED', output = ?::jsonb, error = null, error_code = null, finished_at = now(), lease_until = null
     where run_id = ? and step_id = ? and attempt = ? and status in ('RUNNING', 'DISPATCHED', 'WAITING') returning step_id`,
    [JSON.stringify(output ?? null), runId, stepId, attempt],
  );
  if (done.length === 0) return false;
  await em.execute(`update workflow.step_attempts set status = 'SUCCEEDED', finished_at = now() where run_id = ? and step_id = ? and attempt = ?`, [
    runId,
    stepId,
    attempt,
  ]);
  return true;
}

export async function lockStepAttempt(
  em: EntityManager,
  runId: string,
  stepId: string,
  attempt: number,
): Promise<{ status: StepStatus; attempt_base: number } | undefined> {
  const rows = await em.execute<{ status: StepStatus; attempt_base: number }[]>(
    `select status, attempt_base from workflow.steps where run_id = ? and step_id = ? and attempt = ? for update`,
    [runId, stepId, attempt],
  );
  return rows[0];
}

export async function recordFailedAttempt(
  em: EntityManager,
  runId: string,
  stepId: string,
  attempt: number,
  status: 'ABANDONED' | 'FAILED',
  error: string,
): Promise<void> {
  await em.execute(`update workflow.step_attempts set status = ?, error = ?, finished_at = now() where run_id = ? and step_id = ? and attempt = ?`, [
    status,
    error,
    runId,
    stepId,
    attempt,
  ]);
}

export async function scheduleRetry(
  em: EntityManager,
  runId: string,
  stepId: string,
  delayMs: number,
  failure: { message: string; code: string },
): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'READY', ready_at = now() + (? * interval '1 millisecond'), lease_until = null, error = ?, error_code = ?
       where run_id = ? and step_id = ?`,
    [delayMs, failure.message, failure.code, runId, stepId],
  );
}

/** Puts back to pending every step that did not succeed, counting its attempts afresh. */
export async function resetUnsucceededSteps(em: EntityManager, runId: string): Promise<void> {
  await em.execute(
    `update workflow.steps set status = 'PENDING', attempt_base = attempt, error = null, error_code = null, ready_at = null, lease_until = null, wait = null,
       started_at = null, finished_at = null where run_id = ? and status <> 'SUCCEEDED'`,
    [runId],
  );
}
