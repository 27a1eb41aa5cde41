import { errors } from '@tansu/platform/errors';
import type { RunStatus } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import type { EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import { assertCancellable, assertReplayable } from './state-machine.ts';
import { advance, appendRunLog, setRunStatus } from './transitions.ts';

/** What a caller asks of a whole run: cancel it, or replay it after it failed. */

export async function cancelRun(tx: EngineTx, definitions: DefinitionCache, runId: string): Promise<RunStatus> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined) throw errors.notFound('Run');
  assertCancellable(run.status);
  await store.cancelOpenSteps(tx.em, runId);
  await store.abandonRunningAttempts(tx.em, runId);
  // Its steps under way held the tenant's slots.
  tx.wakesWorkers = true;
  await setRunStatus(tx, run, 'CANCELLED', { error: 'cancelled' });
  return 'CANCELLED';
}

/** Replays a failed, timed-out or cancelled run: what did not succeed runs again, from attempt 1. */
export async function retryRun(tx: EngineTx, definitions: DefinitionCache, runId: string): Promise<RunStatus> {
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined) throw errors.notFound('Run');
  assertReplayable(run.status);
  await store.resetUnsucceededSteps(tx.em, runId);
  await store.clearRunFinish(tx.em, runId);
  await setRunStatus(tx, run, 'RUNNING');
  await appendRunLog(tx, run, { level: 'info', message: 'run retried' });
  await advance(tx, run);
  return run.status;
}
