/**
 * The job a queue carries for one step attempt. It names the tenant (workers act inside
 * that tenant's RLS context) and the request that caused it, so log lines join up.
 */
export interface StepJob {
  tenantId: string;
  runId: string;
  stepId: string;
  attempt: number;
  /** The request that started the run. */
  requestId?: string;
  /** W3C trace context of that request, so the step's lines and calls join its trace. */
  traceparent?: string;
}

/** One queue for all tenants; fairness is decided before jobs enter it (the dispatcher). */
export const STEP_QUEUE = 'workflow-steps';
/**
 * Queue keys live under `{<namespace>}`: the hash tag keeps every key of the queue on one
 * Redis Cluster slot, and the namespace lets several installations share one Redis.
 */
export function queuePrefix(namespace: string): string {
  return `{${namespace}}`;
}

/** Same attempt, same id: enqueuing twice yields one job. */
export function stepJobId(job: Pick<StepJob, 'runId' | 'stepId' | 'attempt'>): string {
  return `${job.runId}.${job.stepId}.${job.attempt}`;
}
