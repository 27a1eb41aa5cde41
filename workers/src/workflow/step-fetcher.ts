import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import type { Logger } from '@tansu/platform/logger';
import { createPollLoop } from '@tansu/platform/poll-loop';
import { traceFrom } from '@tansu/platform/trace-context';
import type { Json } from '@tansu/subgraph-workflow/definitions/mapping';
import type { RunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import type { ClaimedStep, RecordedOutcome, StepOutcome } from '@tansu/subgraph-workflow/engine/step-queue';
import { StepError, type StepRunners } from '@tansu/subgraph-workflow/engine/step-runners';

export interface StepFetcherOptions {
  /** The tenant role: outcomes are recorded in each tenant's transaction. */
  db: Database;
  /** Owner connection: claims, leases and reaping look across tenants, the one place they must. */
  systemDb: Database;
  engine: RunEngine;
  runners: StepRunners;
  logger: Logger;
  /** Steps this process runs at once. */
  concurrency?: number;
  /** Steps one tenant may have running at once, across processes (a plan may allow fewer). */
  tenantConcurrency: number;
  /** How long a claim holds without a heartbeat; heartbeats renew it every third of that. */
  leaseMs?: number;
  /**
   * The safety poll. Steps that become ready announce themselves (NOTIFY on `tansu_steps`,
   * turned into `nudge`), a step ready later is waited for until its time, and a finished
   * step makes this process claim again at once: the poll only covers a lost notice.
   */
  idleMs?: number;
}

/** Every line about a step names it, its tenant, and the request (and trace) that started its run. */
export function stepLogger(logger: Logger, step: Pick<ClaimedStep, 'tenantId' | 'runId' | 'stepId' | 'attempt' | 'requestId' | 'traceparent'>): Logger {
  return logger.child({
    tenantId: step.tenantId,
    runId: step.runId,
    stepId: step.stepId,
    attempt: step.attempt,
    requestId: step.requestId,
    traceId: step.traceparent === undefined ? undefined : traceFrom(step.traceparent).traceId,
  });
}

interface Held {
  step: ClaimedStep;
  /** Aborted when the lease could not be renewed: the run was cancelled, or the attempt was given up. */
  lost: AbortController;
  /** Settles once the outcome is recorded (or dropped). */
  done: Promise<void>;
}

type Pending = { outcome: StepOutcome; step: ClaimedStep; startedAt: number; settle: () => void };

/**
 * Runs workflow steps straight from Postgres: one loop claims up to the free slots, each
 * claimed step runs outside any transaction, and finished steps are recorded in batches (one
 * transaction per tenant) before the next claim. Leases are renewed while steps run; a step
 * whose lease is gone is aborted. Any number of processes may run it.
 */
export function createStepFetcher(options: StepFetcherOptions) {
  const { db, systemDb, engine, runners, logger } = options;
  const concurrency = options.concurrency ?? 20;
  const leaseMs = options.leaseMs ?? 15_000;
  const held = new Map<string, Held>();
  let pending: Pending[] = [];
  let lastReap = 0;

  const keyOf = (step: Pick<ClaimedStep, 'runId' | 'stepId'>) => `${step.runId}:${step.stepId}`;

  function run(step: ClaimedStep): void {
    const lost = new AbortController();
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    held.set(keyOf(step), { step, lost, done });
    const startedAt = performance.now();
    void execute(step, lost.signal).then((result) => {
      if (result === undefined || lost.signal.aborted) {
        // The attempt is no longer ours: whoever ended it recorded it.
        held.delete(keyOf(step));
        settle();
      } else {
        pending.push({ outcome: result, step, startedAt, settle });
      }
      loop.nudge();
    });
  }

  async function execute(step: ClaimedStep, lost: AbortSignal): Promise<StepOutcome | undefined> {
    const log = () => stepLogger(logger, step);
    const base = { runId: step.runId, stepId: step.stepId, attempt: step.attempt };
    try {
      const output: Json = await runners.run({
        def: step.def,
        scope: step.scope,
        idempotencyKey: step.idempotencyKey,
        signal: AbortSignal.any([AbortSignal.timeout(step.def.timeoutMs), lost]),
      });
      return { ...base, output };
    } catch (error) {
      if (lost.aborted) {
        log().info('step attempt stopped: its run ended or its lease was lost');
        return undefined;
      }
      if (!(error instanceof StepError)) log().error({ err: error }, 'step failed unexpectedly');
      return { ...base, failure: error instanceof StepError ? error.failure : { message: 'the step failed unexpectedly', code: 'INTERNAL', retryable: true } };
    }
  }

  /** Records what finished so far, one transaction per tenant. */
  async function flush(): Promise<void> {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const byTenant = new Map<string, Pending[]>();
    for (const item of batch) byTenant.set(item.step.tenantId, [...(byTenant.get(item.step.tenantId) ?? []), item]);
    const results = await Promise.allSettled([...byTenant].map(([tenantId, items]) => recordTenant(tenantId, items)));
    const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [...byTenant.values()][i]! : []));
    if (failed.length > 0) {
      // Kept for the next round (their leases are still renewed): the database may be away.
      pending.push(...failed);
      throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    }
  }

  async function recordTenant(tenantId: string, items: Pending[]): Promise<void> {
    let recorded: RecordedOutcome[];
    try {
      recorded = await db.withTenant(tenantId, (em) =>
        engine.recordOutcomes(
          em,
          items.map((item) => item.outcome),
        ),
      );
    } catch (error) {
      // An output Postgres cannot store fails the whole batch: record them one by one.
      if (!(error instanceof TansuError) || error.code !== 'BAD_USER_INPUT') throw error;
      recorded = [];
      for (const item of items) recorded.push(await recordOne(item));
    }
    const debug = logger.isLevelEnabled('debug');
    for (const [i, item] of items.entries()) {
      if (debug)
        stepLogger(logger, item.step).debug({ outcome: recorded[i], ms: Math.round((performance.now() - item.startedAt) * 10) / 10 }, 'step attempt processed');
      held.delete(keyOf(item.step));
      item.settle();
    }
  }

  async function recordOne(item: Pending): Promise<RecordedOutcome> {
    const { outcome, step } = item;
    try {
      return (await db.withTenant(step.tenantId, (em) => engine.recordOutcomes(em, [outcome])))[0]!;
    } catch (error) {
      // Such an output fails the step for good: running it again would repeat its side effect for the same result.
      if (!(error instanceof TansuError) || error.code !== 'BAD_USER_INPUT') throw error;
      const failure = { message: `the step's output cannot be stored: ${error.message}`, code: 'BAD_OUTPUT', retryable: false };
      const [failed] = await db.withTenant(step.tenantId, (em) =>
        engine.recordOutcomes(em, [{ runId: outcome.runId, stepId: outcome.stepId, attempt: outcome.attempt, failure }]),
      );
      return failed!;
    }
  }

  async function reap(): Promise<void> {
    const expired = await systemDb.global((em) => engine.findExpired(em));
    if (expired === null) return;
    for (const step of expired.lost) {
      const outcome = await systemDb.withTenant(step.tenantId, (em) => engine.loseStep(em, step));
      if (outcome !== 'stale')
        logger.warn({ tenantId: step.tenantId, runId: step.runId, stepId: step.stepId, attempt: step.attempt, outcome }, 'step attempt lost');
    }
    for (const wait of expired.waits) await systemDb.withTenant(wait.tenantId, (em) => engine.expireWait(em, wait.runId, wait.stepId));
  }

  let stopping = false;
  const loop = createPollLoop({
    name: 'workflow step fetcher',
    round: async () => {
      await flush();
      if (Date.now() - lastReap > 1_000) {
        lastReap = Date.now();
        await reap();
      }
      const free = stopping ? 0 : concurrency - held.size;
      if (free <= 0) return { full: false };
      const claim = await systemDb.global((em) => engine.claimSteps(em, { slots: free, leaseMs, tenantConcurrency: options.tenantConcurrency }));
      for (const step of claim.steps) run(step);
      // Every slot taken: a finishing step nudges the next round.
      return { full: false, nextInMs: claim.nextInMs };
    },
    idleMs: options.idleMs ?? 1_000,
    failureMs: 1_000,
    logger,
  });

  async function heartbeat(): Promise<void> {
    if (held.size === 0) return;
    const sent = [...held.values()];
    const kept = await systemDb.global((em) =>
      engine.extendLeases(
        em,
        sent.map((h) => h.step),
        leaseMs,
      ),
    );
    for (const h of sent) {
      // Not renewed: the run was cancelled or ended, or the attempt was given up as lost.
      if (!kept.has(keyOf(h.step)) && held.get(keyOf(h.step)) === h) h.lost.abort();
    }
  }

  const beat = setInterval(
    () => void heartbeat().catch((error: unknown) => logger.warn({ err: error }, 'renewing step leases failed; retrying')),
    Math.max(10, Math.floor(leaseMs / 3)),
  );
  beat.unref();

  return {
    start: loop.start,
    /** Claim now instead of at the next poll: steps became ready, or a tenant's slot came free. */
    nudge: loop.nudge,
    /** Stops claiming, lets the steps in hand finish (for at most a lease) and records them. */
    async stop(): Promise<void> {
      stopping = true;
      // Bounded: a step whose outcome cannot be recorded is left to its lease, then to a reaper.
      const drained = Promise.all([...held.values()].map((h) => h.done));
      await Promise.race([drained, sleep(leaseMs, undefined, { ref: false })]);
      await loop.stop();
      clearInterval(beat);
      await flush().catch((error: unknown) => logger.warn({ err: error }, 'recording the last step outcomes failed; their leases will lapse'));
    },
  };
}
export type StepFetcher = ReturnType<typeof createStepFetcher>;
