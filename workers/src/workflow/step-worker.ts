import { Worker, type ConnectionOptions } from 'bullmq';
import type { Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import type { Logger } from '@tansu/platform/logger';
import { traceFrom } from '@tansu/platform/trace-context';
import type { Json } from '@tansu/subgraph-workflow/definitions/mapping';
import type { RunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import { STEP_QUEUE, queuePrefix, type StepJob } from '@tansu/subgraph-workflow/engine/step-jobs';
import { StepError, type StepRunners } from '@tansu/subgraph-workflow/engine/step-runners';

/** Beyond a step's own timeout, how long its lease lasts before the dispatcher calls the worker lost. */
export const LEASE_GRACE_MS = 15_000;

/** Every line about a step names it, its tenant, and the request (and trace) that started its run. */
export function stepLogger(logger: Logger, job: StepJob): Logger {
  return logger.child({
    tenantId: job.tenantId,
    runId: job.runId,
    stepId: job.stepId,
    attempt: job.attempt,
    requestId: job.requestId,
    traceId: job.traceparent === undefined ? undefined : traceFrom(job.traceparent).traceId,
  });
}

type Outcome = 'completed' | 'retrying' | 'failed' | 'stale';

/**
 * Runs one step attempt: claim it (a stale job does nothing), run it outside any
 * transaction, then record the outcome. Completion is conditional on the attempt still
 * being current, so a step that runs twice is recorded once.
 */
export async function processStepJob(deps: { db: Database; engine: RunEngine; runners: StepRunners; logger: Logger }, job: StepJob): Promise<Outcome> {
  const logger = stepLogger(deps.logger, job);
  const startedAt = performance.now();
  let outcome: Outcome;
  try {
    outcome = await runStepAttempt(deps, job, logger);
  } catch (error) {
    logger.warn({ err: error }, 'step attempt interrupted; it runs again once its lease ends');
    throw error;
  }
  logger.debug({ outcome, ms: Math.round((performance.now() - startedAt) * 10) / 10 }, 'step attempt processed');
  return outcome;
}

async function runStepAttempt(deps: { db: Database; engine: RunEngine; runners: StepRunners }, job: StepJob, logger: Logger): Promise<Outcome> {
  const { db, engine, runners } = deps;
  const start = await db.withTenant(job.tenantId, (em) => engine.beginStep(em, job.runId, job.stepId, job.attempt, LEASE_GRACE_MS));
  if (start === undefined) return 'stale';
  let output: Json;
  try {
    output = await runners.run({
      def: start.def,
      scope: start.scope,
      idempotencyKey: `${job.runId}:${job.stepId}`,
      signal: AbortSignal.timeout(start.def.timeoutMs),
    });
  } catch (error) {
    const failure = error instanceof StepError ? error.failure : { message: 'the step failed unexpectedly', code: 'INTERNAL', retryable: true };
    if (!(error instanceof StepError)) logger.error({ err: error }, 'step failed unexpectedly');
    return db.withTenant(job.tenantId, (em) => engine.failStep(em, job.runId, job.stepId, job.attempt, failure));
  }
  try {
    const recorded = await db.withTenant(job.tenantId, (em) => engine.completeStep(em, job.runId, job.stepId, job.attempt, output));
    return recorded ? 'completed' : 'stale';
  } catch (error) {
    // An output Postgres cannot store (a NUL byte, a value out of range) fails the step for
    // good: running it again would repeat its side effect for the same result.
    if (!(error instanceof TansuError) || error.code !== 'BAD_USER_INPUT') throw error;
    return db.withTenant(job.tenantId, (em) =>
      engine.failStep(em, job.runId, job.stepId, job.attempt, {
        message: `the step's output cannot be stored: ${error.message}`,
        code: 'BAD_OUTPUT',
        retryable: false,
      }),
    );
  }
}

export function createStepWorker(deps: {
  db: Database;
  engine: RunEngine;
  runners: StepRunners;
  logger: Logger;
  connection: ConnectionOptions;
  namespace: string;
  concurrency?: number;
}) {
  const worker = new Worker<StepJob>(
    STEP_QUEUE,
    // What the attempt's outcome made runnable (or the slot it freed) is announced by its own transaction.
    (job) => processStepJob(deps, job.data),
    { connection: deps.connection, prefix: queuePrefix(deps.namespace), concurrency: deps.concurrency ?? 20, stalledInterval: 5_000, maxStalledCount: 3 },
  );
  worker.on('error', (error) => deps.logger.error({ err: error }, 'step worker error'));
  return worker;
}
