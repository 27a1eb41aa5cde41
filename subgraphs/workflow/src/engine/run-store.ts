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

/** Claims an attempt for `leaseMs`; false when the step is no longer at that attempt, or no longer dispatched or running. */
export async function claimStep(em: EntityManager, runId: string, stepId: string, attempt: number, leaseMs: number): Promise<boolean> {
  const claimed = await em.execute<{ step_id: string }[]>(
    `update workflow.steps set status = 'RUNNING', started_at = coalesce(started_at, now()), lease_until = now() + (? * interval '1 millisecond')
     where run_id = ? and step_id = ? and attempt = ? and status in ('DISPATCHED', 'RUNNING') returning step_id`,
    [leaseMs, runId, stepId, attempt],
  );
  return claimed.length > 0;
}

/** Records the start of an attempt; false when it was already recorded (a job run again). */
export async function insertRunningAttempt(em: EntityManager, run: Pick<LoadedRun, 'id' | 'tenant_id'>, stepId: string, attempt: number): Promise<boolean> {
  const inserted = await em.execute<{ attempt: number }[]>(
    `insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status) values (?, ?, ?, ?, 'RUNNING')
     on conflict do nothing returning attempt`,
    [run.tenant_id, run.id, stepId, attempt],
  );
  return inserted.length > 0;
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
