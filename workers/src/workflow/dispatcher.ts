import type { Queue } from 'bullmq';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { createPollLoop } from '@tansu/platform/poll-loop';
import type { RunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import { stepJobId, type StepJob } from '@tansu/subgraph-workflow/engine/step-jobs';

export interface DispatcherOptions {
  /** Owner connection: the dispatcher looks across tenants, the one place it must. */
  systemDb: Database;
  engine: RunEngine;
  queue: Queue<StepJob>;
  logger: Logger;
  /** Steps one tenant may have dispatched or running at once. */
  tenantConcurrency: number;
  batchSize?: number;
  /**
   * The safety poll. Steps that become ready now announce themselves (NOTIFY on
   * `tansu_steps`, which the workers deployable turns into `nudge`), and a step ready later
   * is waited for until its time: the poll only covers a notice lost with its connection.
   */
  idleDelayMs?: number;
}

interface Picked {
  tenant_id: string;
  run_id: string;
  step_id: string;
  attempt: number;
  request_id: string | null;
  traceparent: string | null;
}

type Lost = Pick<Picked, 'tenant_id' | 'run_id' | 'step_id' | 'attempt'>;

interface Dispatched {
  count: number;
  /** How soon the next step that is ready later becomes due. */
  nextInMs?: number;
}

/** Only one dispatcher acts at a time, so per-tenant limits hold across processes. */
const DISPATCH_LOCK = 72_616_001;

/**
 * Moves runnable steps into the queue fairly: each tenant gets at most its free concurrency,
 * and tenants are interleaved by rank (every tenant's oldest step before anyone's second),
 * so one tenant with ten thousand queued runs cannot delay another's. It also recovers work:
 * a dispatched job that never started is queued again, a step whose worker died is failed
 * and retried, and a wait whose time ran out is closed.
 */
export function createDispatcher(options: DispatcherOptions) {
  const { systemDb, engine, queue, logger } = options;
  const batchSize = options.batchSize ?? 200;
  const idleDelayMs = options.idleDelayMs ?? 1_000;

  async function recover(): Promise<void> {
    const lost = await systemDb.global((em) =>
      em.execute<Lost[]>(`select tenant_id, run_id, step_id, attempt from workflow.steps where status = 'RUNNING' and lease_until < now() limit 100`),
    );
    for (const step of lost) {
      await systemDb.withTenant(step.tenant_id, (em) =>
        engine.failStep(em, step.run_id, step.step_id, step.attempt, {
          message: 'the worker running this attempt stopped answering',
          code: 'WORKER_LOST',
          retryable: true,
        }),
      );
    }
    const expired = await systemDb.global((em) =>
      em.execute<Lost[]>(`select tenant_id, run_id, step_id, attempt from workflow.steps where status = 'WAITING' and ready_at <= now() limit 100`),
    );
    for (const step of expired) await systemDb.withTenant(step.tenant_id, (em) => engine.expireWait(em, step.run_id, step.step_id));
  }

  async function dispatchOnce(): Promise<Dispatched> {
    let resendCount = 0;
    let nextInMs: number | undefined;
    const picked = await systemDb.global(async (em) => {
      // With the lock, how soon the next step that is ready later becomes due: nothing
      // announces that moment (a delay, a retry's backoff), so the loop waits for it.
      const [lock] = await em.execute<{ locked: boolean; next_ms: number | null }[]>(
        `select pg_try_advisory_xact_lock(?) as locked,
                (select (extract(epoch from min(ready_at) - clock_timestamp()) * 1000)::float8 from workflow.steps where status = 'READY' and ready_at > now()) as next_ms`,
        [DISPATCH_LOCK],
      );
      if (lock?.locked !== true) return [];
      if (lock.next_ms !== null) nextInMs = Math.max(0, Math.ceil(lock.next_ms));
      // Dispatched jobs whose lease passed without a worker starting them are sent again as they are.
      const resend = await em.execute<Picked[]>(
        `update workflow.steps s set lease_until = now() + interval '60 seconds' from workflow.runs r
         where s.status = 'DISPATCHED' and s.lease_until < now() and r.id = s.run_id
         returning s.tenant_id, s.run_id, s.step_id, s.attempt, r.request_id, r.traceparent`,
      );
      const fresh = await em.execute<Picked[]>(
        `with inflight as (
           select tenant_id, count(*)::int as n from workflow.steps where status in ('DISPATCHED', 'RUNNING') group by tenant_id
         ), ranked as (
           select s.tenant_id, s.run_id, s.step_id,
                  row_number() over (partition by s.tenant_id order by s.ready_at, s.run_id, s.step_id) as rank
           from workflow.steps s where s.status = 'READY' and s.ready_at <= now()
         ), chosen as (
           -- The tenant's plan may allow fewer in flight than the engine's own cap, never more.
           select r.tenant_id, r.run_id, r.step_id, r.rank from ranked r left join inflight i using (tenant_id)
           join platform.tenants t on t.id = r.tenant_id join platform.plans p on p.id = t.plan
           where r.rank <= least(coalesce(p.concurrent_runs, ?::int), ?::int) - coalesce(i.n, 0)
           order by r.rank, r.tenant_id limit ?
         )
         update workflow.steps s set status = 'DISPATCHED', attempt = s.attempt + 1, lease_until = now() + interval '60 seconds'
         from chosen c join workflow.runs r on r.id = c.run_id
         where s.run_id = c.run_id and s.step_id = c.step_id and s.status = 'READY'
         returning s.tenant_id, s.run_id, s.step_id, s.attempt, r.request_id, r.traceparent`,
        [options.tenantConcurrency, options.tenantConcurrency, batchSize],
      );
      resendCount = resend.length;
      return [...resend, ...fresh];
    });
    if (picked.length > 0) {
      const resent = new Set(picked.slice(0, resendCount).map((step) => `${step.run_id}.${step.step_id}`));
      await queue.addBulk(
        picked.map((step) => {
          const data: StepJob = { tenantId: step.tenant_id, runId: step.run_id, stepId: step.step_id, attempt: step.attempt };
          if (step.request_id !== null) data.requestId = step.request_id;
          if (step.traceparent !== null) data.traceparent = step.traceparent;
          // A resent job gets a new id: BullMQ ignores an id it still holds (say, a job that failed).
          const jobId = resent.has(`${step.run_id}.${step.step_id}`) ? `${stepJobId(data)}.${Date.now()}` : stepJobId(data);
          return { name: 'step', data, opts: { jobId, removeOnComplete: true, removeOnFail: true } };
        }),
      );
    }
    return { count: picked.length, nextInMs };
  }

  let lastRecovery = 0;
  const loop = createPollLoop({
    name: 'workflow dispatcher',
    round: async () => {
      if (Date.now() - lastRecovery > 1_000) {
        lastRecovery = Date.now();
        await recover();
      }
      const { count, nextInMs } = await dispatchOnce();
      return { full: count >= batchSize, nextInMs };
    },
    idleMs: idleDelayMs,
    failureMs: 1_000,
    logger,
  });

  return {
    dispatchOnce,
    recover,
    start: loop.start,
    /** Skip the idle wait: something became runnable, or a tenant's slot came free. */
    nudge: loop.nudge,
    stop: loop.stop,
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
