import type { EntityManager } from '@tansu/platform/db/database';
import type { Json } from '../definitions/mapping.ts';
import { FINAL_RUN_STATUSES } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import { flushEvents, type EngineTx } from './event-buffer.ts';
import * as store from './run-store.ts';
import { completeStep } from './step-attempts.ts';
import { finishStepAsFailed } from './transitions.ts';

/** Whether an event's payload fits a wait's match: every field the match names, at any depth, is equal. */
export function matches(match: Json, payload: Json): boolean {
  if (match === null || typeof match !== 'object' || Array.isArray(match)) return true;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return Object.keys(match).length === 0;
  return Object.entries(match).every(([key, expected]) => {
    const actual = Object.prototype.hasOwnProperty.call(payload, key) ? (payload as Record<string, Json>)[key] : undefined;
    return expected !== null && typeof expected === 'object' ? matches(expected, actual ?? null) : actual === expected;
  });
}

async function waitingSteps(em: EntityManager, event: string) {
  return em.execute<{ run_id: string; step_id: string; attempt: number; wait: { event: string; match: Json } }[]>(
    `select run_id, step_id, attempt, wait from workflow.steps where status = 'WAITING' and wait->>'event' = ? order by run_id, step_id`,
    [event],
  );
}

/** Wakes the tenant's steps waiting for this event whose match fits the payload. */
export async function deliverEvent(tx: EngineTx, definitions: DefinitionCache, event: string, payload: Json): Promise<number> {
  const waiting = await waitingSteps(tx.em, event);
  // No row lock here: completeStep locks the run first, as every operation does, and only
  // completes a step that is still waiting.
  let woken = 0;
  for (const step of waiting) {
    if (!matches(step.wait.match, payload)) continue;
    if (await completeStep(tx, definitions, step.run_id, step.step_id, step.attempt, payload)) woken += 1;
    await flushEvents(tx);
  }
  return woken;
}

/** A waitForEvent step whose time ran out. */
export async function expireWait(tx: EngineTx, definitions: DefinitionCache, runId: string, stepId: string): Promise<boolean> {
  // The run first, then the step: the same lock order as every other operation.
  const run = await store.loadRun(tx.em, definitions, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return false;
  const rows = await tx.em.execute<{ attempt: number }[]>(
    `select attempt from workflow.steps where run_id = ? and step_id = ? and status = 'WAITING' and ready_at <= now() for update`,
    [runId, stepId],
  );
  if (rows.length === 0) return false;
  await finishStepAsFailed(tx, run, stepId, rows[0]!.attempt, { message: 'no matching event arrived in time', code: 'TIMEOUT', retryable: false });
  return true;
}
