import type { Json, MappingScope } from '../definitions/mapping.ts';
import type { StepDefinition } from '../definitions/workflow-definition.ts';
import { FINAL_RUN_STATUSES, type RunStatus } from '../rows.ts';
import { emitRun, emitStep, logEvent, type EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import {
  evaluateInline,
  finalFailure,
  INLINE_TYPES,
  isRunnable,
  readinessOf,
  runOutput,
  scopeOf,
  type LoadedRun,
  type LoadedStep,
  type LogLevel,
  type StepFailure,
} from './state-machine.ts';

/**
 * The state machine's decisions applied to a run: each transition writes its rows through the
 * store and buffers its events in the operation's transaction, in the order things happen.
 */

export async function setRunStatus(tx: EngineTx, run: LoadedRun, status: RunStatus, fields: { output?: Json; error?: string | null } = {}): Promise<void> {
  await store.updateRunStatus(tx.em, run.id, status, fields);
  run.status = status;
  emitRun(tx, run, status, fields.error);
}

export async function appendRunLog(
  tx: EngineTx,
  run: Pick<LoadedRun, 'id' | 'tenant_id'>,
  entry: { stepId?: string | null; level: LogLevel; message: string; data?: Json },
): Promise<void> {
  const logId = await store.insertRunLog(tx.em, run, entry);
  tx.events.push(logEvent(run, logId, { stepId: entry.stepId ?? null, level: entry.level, message: entry.message }));
}

/** Puts a step whose dependencies are done on its way: ready now, ready later (delay), or waiting. */
async function makeReady(tx: EngineTx, run: LoadedRun, def: StepDefinition, scope: MappingScope): Promise<void> {
  const next = readinessOf(def, scope);
  if (next.kind === 'failed') {
    await finishStepAsFailed(tx, run, def.id, 0, next.failure);
  } else if (next.kind === 'delayed') {
    await store.markStepDelayed(tx.em, run.id, def.id, next.ms);
    emitStep(tx, run, def.id, 'READY', 0);
    // Ready later still tells: the workers then wait for its time, not for their next poll.
    tx.wakesWorkers = true;
  } else if (next.kind === 'waiting') {
    await store.markStepWaiting(tx.em, run.id, def.id, next.wait, next.timeoutMs);
    emitStep(tx, run, def.id, 'WAITING', 0);
    // A run waiting for an event is under way, not waiting for a worker.
    if (run.status === 'QUEUED') await setRunStatus(tx, run, 'RUNNING');
  } else {
    if (tx.deferredReady !== undefined) tx.deferredReady.push({ runId: run.id, stepId: def.id });
    else await store.markStepReady(tx.em, run.id, def.id);
    emitStep(tx, run, def.id, 'READY', 0);
    tx.wakesWorkers = true;
  }
}

/** After any step change: start what became runnable (pure steps at once), or finish the run. */
export async function advance(tx: EngineTx, run: LoadedRun, loaded?: Map<string, LoadedStep>): Promise<void> {
  if (FINAL_RUN_STATUSES.includes(run.status)) return;
  const steps = loaded ?? (await store.loadSteps(tx.em, run.id));
  for (let progressed = true; progressed;) {
    progressed = false;
    for (const def of run.spec.steps) {
      if (!isRunnable(def, steps)) continue;
      if (INLINE_TYPES.has(def.type)) {
        const { output, log } = evaluateInline(def, scopeOf(run, steps));
        if (log !== undefined) await appendRunLog(tx, run, { stepId: def.id, level: log.level, message: log.message });
        await store.recordInlineSuccess(tx.em, run, def.id, output);
        if (run.status === 'QUEUED') await setRunStatus(tx, run, 'RUNNING');
        emitStep(tx, run, def.id, 'SUCCEEDED', 1);
        steps.set(def.id, { step_id: def.id, status: 'SUCCEEDED', attempt: 1, output });
        progressed = true;
      } else {
        await makeReady(tx, run, def, scopeOf(run, steps));
        if (FINAL_RUN_STATUSES.includes(run.status)) return;
        steps.set(def.id, { ...steps.get(def.id)!, status: 'READY' });
      }
    }
  }
  if ([...steps.values()].every((s) => s.status === 'SUCCEEDED')) {
    await setRunStatus(tx, run, 'SUCCEEDED', { output: runOutput(run.spec, (stepId) => steps.get(stepId)!.output) });
  }
}

/** Records a step's failure as final and fails the run (it shows up in the dead-letter view). */
export async function finishStepAsFailed(tx: EngineTx, run: LoadedRun, stepId: string, attempt: number, failure: StepFailure): Promise<void> {
  const outcome = finalFailure(stepId, failure);
  await store.markStepFailed(tx.em, run.id, stepId, outcome.stepStatus, failure);
  emitStep(tx, run, stepId, outcome.stepStatus, attempt, failure.message);
  // Siblings still running are cancelled too: their workers will find the run ended.
  await store.cancelSiblings(tx.em, run.id);
  await store.abandonRunningAttempts(tx.em, run.id);
  // The step, or a sibling, may have held one of the tenant's slots.
  tx.wakesWorkers = true;
  await setRunStatus(tx, run, outcome.runStatus, { error: outcome.runError });
  await appendRunLog(tx, run, { stepId, level: 'error', message: `step failed: ${failure.message}`, data: { code: failure.code, attempt } });
}
