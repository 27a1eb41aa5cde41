import type { EntityManager } from '@tansu/platform/db/database';
import type { Json } from '../definitions/mapping.ts';
import { cancelRun, retryRun } from './commands.ts';
import { createRuns, type NewRun } from './create-runs.ts';
import type { DefinitionCache } from './definitions.ts';
import { withEngineTx } from './event-buffer.ts';
import { completeStep, failStep } from './step-attempts.ts';
import { claimSteps, extendLeases, findExpired, recordOutcomes, WORKER_LOST, type Lease, type StepOutcome } from './step-queue.ts';
import type { StepFailure } from './state-machine.ts';
import { deliverEvent, expireWait } from './wait-events.ts';

/** The topics the engine's events go out on, for those who read them. */
export { TOPICS } from './event-buffer.ts';

/**
 * The workflow engine's operations. Each runs inside the caller's tenant transaction (the
 * entity manager it is given) and writes its outbox events in that same transaction, so
 * state and events never disagree.
 */
export function createRunEngine(deps: { definitions: DefinitionCache }) {
  const { definitions } = deps;
  return {
    createRuns: (em: EntityManager, inputs: NewRun[]) => withEngineTx(em, (tx) => createRuns(tx, definitions, inputs)),
    completeStep: (em: EntityManager, runId: string, stepId: string, attempt: number, output: Json) =>
      withEngineTx(em, (tx) => completeStep(tx, definitions, runId, stepId, attempt, output)),
    failStep: (em: EntityManager, runId: string, stepId: string, attempt: number, failure: StepFailure) =>
      withEngineTx(em, (tx) => failStep(tx, definitions, runId, stepId, attempt, failure)),
    cancelRun: (em: EntityManager, runId: string) => withEngineTx(em, (tx) => cancelRun(tx, definitions, runId)),
    retryRun: (em: EntityManager, runId: string) => withEngineTx(em, (tx) => retryRun(tx, definitions, runId)),
    deliverEvent: (em: EntityManager, event: string, payload: Json) => withEngineTx(em, (tx) => deliverEvent(tx, definitions, event, payload)),
    expireWait: (em: EntityManager, runId: string, stepId: string) => withEngineTx(em, (tx) => expireWait(tx, definitions, runId, stepId)),
    /** Owner transaction: claims ready steps across tenants. */
    claimSteps: (em: EntityManager, options: { slots: number; leaseMs: number; tenantConcurrency: number }) => claimSteps(em, definitions, options),
    /** One tenant's transaction: records its finished attempts, with one notice at the end. */
    recordOutcomes: (em: EntityManager, outcomes: StepOutcome[]) => withEngineTx(em, (tx) => recordOutcomes(tx, definitions, outcomes)),
    /** Owner transaction. */
    extendLeases: (em: EntityManager, leases: Lease[], leaseMs: number) => extendLeases(em, leases, leaseMs),
    /** Owner transaction. */
    findExpired: (em: EntityManager) => findExpired(em),
    /** An attempt whose lease passed, recorded once and retried like any failure. */
    loseStep: (em: EntityManager, lease: Lease) => withEngineTx(em, (tx) => failStep(tx, definitions, lease.runId, lease.stepId, lease.attempt, WORKER_LOST)),
  };
}
export type RunEngine = ReturnType<typeof createRunEngine>;
