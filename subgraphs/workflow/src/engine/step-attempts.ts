import type { Json, MappingScope } from '../definitions/mapping.ts';
import type { StepDefinition } from '../definitions/workflow-definition.ts';
import { FINAL_RUN_STATUSES } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import { emitStep, type EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import { failedAttemptStatus, readsStepOutputs, retryDecision, scopeOf, type LoadedRun, type StepFailure } from './state-machine.ts';
import { advance, appendRunLog, finishStepAsFailed, setRunStatus } from './transitions.ts';

/** A step attempt's life as a worker sees it: claimed, then completed or failed, each recorded once. */

export interface StepStart {
  run: LoadedRun;
  def: StepDefinition;
  scope: MappingScope;
  attempt: number;
}

/**
 * A worker claims attempt `attempt` of a step. Returns undefined when the job is stale (the
 * run ended, the step moved on, or another attempt replaced it): the job then does nothing.
 */
export async function beginStep(
  tx: EngineTx,
  definitions: DefinitionCache,
  runId: string,
  stepId: string,
  attempt: number,
  leaseGraceMs: number,
): Promise<StepStart | undefined> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return undefined;
  const def = run.spec.steps.find((s) => s.id === stepId);
  if (def === undefined) return undefined;
  if (!(await store.claimStep(tx.em, runId, stepId, attempt, def.timeoutMs + leaseGraceMs))) return undefined;
  const inserted = await store.insertRunningAttempt(tx.em, run, stepId, attempt);
  if (run.status === 'QUEUED') await setRunStatus(tx, run, 'RUNNING');
  if (inserted) emitStep(tx, run, stepId, 'RUNNING', attempt);
  return { run, def, scope: scopeOf(run, readsStepOutputs(def) ? await store.loadSteps(tx.em, runId) : new Map()), attempt };
}

/** Records a step's success exactly once: a second completion of the same attempt changes nothing. */
export async function completeStep(tx: EngineTx, definitions: DefinitionCache, runId: string, stepId: string, attempt: number, output: Json): Promise<boolean> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return false;
  if (!(await store.markStepSucceeded(tx.em, runId, stepId, attempt, output))) return false;
  emitStep(tx, run, stepId, 'SUCCEEDED', attempt);
  // A worker's step frees its tenant's slot (a waiting one held none, but telling costs little).
  tx.wakesDispatchers = true;
  await advance(tx, run);
  return true;
}

/** A failed attempt: retried with backoff while the policy allows, else final. */
export async function failStep(
  tx: EngineTx,
  definitions: DefinitionCache,
  runId: string,
  stepId: string,
  attempt: number,
  failure: StepFailure,
): Promise<'retrying' | 'failed' | 'stale'> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined) return 'stale';
  if (FINAL_RUN_STATUSES.includes(run.status)) {
    // The run ended meanwhile: a step still open must not hold its tenant's slots.
    await store.closeStaleStep(tx.em, runId, stepId);
    tx.wakesDispatchers = true;
    return 'stale';
  }
  const current = await store.lockStepAttempt(tx.em, runId, stepId, attempt);
  if (current === undefined || !['RUNNING', 'DISPATCHED', 'WAITING'].includes(current.status)) return 'stale';
  const tries = attempt - current.attempt_base;
  await store.recordFailedAttempt(tx.em, runId, stepId, attempt, failedAttemptStatus(failure), failure.message);
  const def = run.spec.steps.find((s) => s.id === stepId)!;
  const decision = retryDecision(def, failure, tries);
  if (!decision.retry) {
    await finishStepAsFailed(tx, run, stepId, attempt, failure);
    return 'failed';
  }
  await store.scheduleRetry(tx.em, runId, stepId, decision.delayMs, failure);
  emitStep(tx, run, stepId, 'READY', attempt, failure.message);
  // The failed attempt held a slot, and the dispatchers wait for the retry's time.
  tx.wakesDispatchers = true;
  await appendRunLog(tx, run, {
    stepId,
    level: 'warn',
    message: `attempt ${attempt} failed, retrying in ${decision.delayMs} ms: ${failure.message}`,
    data: { code: failure.code },
  });
  return 'retrying';
}
