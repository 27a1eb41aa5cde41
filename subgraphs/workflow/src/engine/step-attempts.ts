import type { Json } from '../definitions/mapping.ts';
import { FINAL_RUN_STATUSES } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import { emitStep, type EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import { failedAttemptStatus, retryDecision, type StepFailure } from './state-machine.ts';
import { advance, appendRunLog, finishStepAsFailed } from './transitions.ts';

/** A claimed step attempt's end as a worker reports it: completed or failed, each recorded once (claims are the step queue's). */

/** Records a step's success exactly once: a second completion of the same attempt changes nothing. */
export async function completeStep(tx: EngineTx, definitions: DefinitionCache, runId: string, stepId: string, attempt: number, output: Json): Promise<boolean> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return false;
  if (!(await store.markStepSucceeded(tx.em, runId, stepId, attempt, output))) return false;
  emitStep(tx, run, stepId, 'SUCCEEDED', attempt);
  // A worker's step frees its tenant's slot (a waiting one held none, but telling costs little).
  tx.wakesWorkers = true;
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
    tx.wakesWorkers = true;
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
  // The failed attempt held a slot, and the workers wait for the retry's time.
  tx.wakesWorkers = true;
  await appendRunLog(tx, run, {
    stepId,
    level: 'warn',
    message: `attempt ${attempt} failed, retrying in ${decision.delayMs} ms: ${failure.message}`,
    data: { code: failure.code },
  });
  return 'retrying';
}
