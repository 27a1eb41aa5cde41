import { errors } from '@tansu/platform/errors';
import { referencesIn, resolveMapping, type Json, type MappingScope } from '../definitions/mapping.ts';
import { LIMITS, backoffDelay, type LOG_LEVELS, type StepDefinition, type WorkflowSpec } from '../definitions/workflow-definition.ts';
import { FINAL_RUN_STATUSES, type RunRow, type RunStatus, type StepRow, type StepStatus } from '../rows.ts';
import type { RunDefinition } from './definitions.ts';

/**
 * The run state machine's decisions, without I/O: which steps a run takes up, how each goes
 * on its way, what a failure leads to. The engine's operations apply them to the rows.
 * Postgres rows are the truth; a queued job only says "look at this step now".
 */

/** A run as the engine works on it: the columns it reads, with its definition's spec and name. */
export type LoadedRun = Pick<RunRow, 'id' | 'tenant_id' | 'status' | 'input' | 'idempotency_key'> & { spec: WorkflowSpec; definition_name: string };

export type LoadedStep = Pick<StepRow, 'step_id' | 'status' | 'attempt' | 'output'>;

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface StepFailure {
  message: string;
  /** A stable code: TIMEOUT, HTTP_4XX, HTTP_5XX, NETWORK, EGRESS_DENIED, BAD_MAPPING, … */
  code: string;
  retryable: boolean;
}

/** Steps without side effects: run where they become ready, in the same transaction. */
export const INLINE_TYPES: ReadonlySet<StepDefinition['type']> = new Set(['transform', 'log']);

export function scopeOf(run: Pick<LoadedRun, 'id' | 'input' | 'idempotency_key'>, steps: Map<string, LoadedStep>): MappingScope {
  const outputs: Record<string, { output: Json }> = {};
  for (const [id, step] of steps) if (step.status === 'SUCCEEDED') outputs[id] = { output: step.output };
  return { input: run.input, steps: outputs, run: { id: run.id, idempotencyKey: run.idempotency_key } };
}

/** Whether a step can be taken up: still pending, with every step it needs succeeded. */
export function isRunnable(def: StepDefinition, steps: Map<string, LoadedStep>): boolean {
  return steps.get(def.id)?.status === 'PENDING' && def.needs.every((need) => steps.get(need)?.status === 'SUCCEEDED');
}

/**
 * What a pure step yields. Its output is only a function of the run's data, so running it
 * inside the transaction that made it ready is as durable as queueing it, and much cheaper.
 */
export function evaluateInline(def: StepDefinition, scope: MappingScope): { output: Json; log?: { level: LogLevel; message: string } } {
  if (def.type === 'log') {
    const message = String(resolveMapping(def.with.message, scope));
    const level = (def.with.level as LogLevel | undefined) ?? 'info';
    return { output: { message }, log: { level, message } };
  }
  return { output: resolveMapping(def.with.output, scope) ?? null };
}

/** A finished run's output: the outputs of the steps nothing else waits for. */
export function runOutput(spec: WorkflowSpec, outputOf: (stepId: string) => Json): Record<string, Json> {
  const needed = new Set(spec.steps.flatMap((s) => s.needs));
  const output: Record<string, Json> = {};
  for (const def of spec.steps) if (!needed.has(def.id)) output[def.id] = outputOf(def.id);
  return output;
}

export type Readiness =
  | { kind: 'failed'; failure: StepFailure }
  | { kind: 'delayed'; ms: number }
  | { kind: 'waiting'; wait: { event: string; match: Json }; timeoutMs: number | null }
  | { kind: 'ready' };

/** How a step whose dependencies are done goes on its way: ready now, ready later (delay), or waiting. */
export function readinessOf(def: StepDefinition, scope: MappingScope): Readiness {
  if (def.type === 'delay') {
    const ms = resolveMapping(def.with.ms, scope);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > LIMITS.maxDelayMs) {
      return { kind: 'failed', failure: { message: `delay "ms" resolved to ${JSON.stringify(ms)}, not a duration`, code: 'BAD_MAPPING', retryable: false } };
    }
    return { kind: 'delayed', ms };
  }
  if (def.type === 'waitForEvent') {
    const timeoutMs = typeof def.with.timeoutMs === 'number' ? def.with.timeoutMs : null;
    // The event name may be a reference or a template, like any other option.
    const event = resolveMapping(def.with.event, scope);
    if (typeof event !== 'string' || event.length === 0 || event.length > LIMITS.maxEventLength) {
      return {
        kind: 'failed',
        failure: {
          message: `event resolved to ${JSON.stringify(event)}, not an event name of 1-${LIMITS.maxEventLength} characters`,
          code: 'BAD_MAPPING',
          retryable: false,
        },
      };
    }
    return { kind: 'waiting', wait: { event, match: resolveMapping(def.with.match ?? {}, scope) }, timeoutMs };
  }
  return { kind: 'ready' };
}

/** What a step's final failure makes of the step and of its run (which then shows in the dead-letter view). */
export function finalFailure(stepId: string, failure: StepFailure): { stepStatus: StepStatus; runStatus: RunStatus; runError: string } {
  const timedOut = failure.code === 'TIMEOUT';
  return { stepStatus: timedOut ? 'TIMED_OUT' : 'FAILED', runStatus: timedOut ? 'TIMED_OUT' : 'FAILED', runError: `step "${stepId}": ${failure.message}` };
}

/** How a failed attempt is recorded: a worker that stopped answering abandoned it. */
export function failedAttemptStatus(failure: StepFailure): 'ABANDONED' | 'FAILED' {
  return failure.code === 'WORKER_LOST' ? 'ABANDONED' : 'FAILED';
}

/** A failed attempt is retried with backoff while the policy allows; `tries` counts the attempts since the run last started. */
export function retryDecision(def: StepDefinition, failure: StepFailure, tries: number): { retry: true; delayMs: number } | { retry: false } {
  const retryable = failure.retryable && !def.retry.nonRetryable.includes(failure.code) && tries < def.retry.maxAttempts;
  return retryable ? { retry: true, delayMs: backoffDelay(def.retry, tries + 1) } : { retry: false };
}

export function assertCancellable(status: RunStatus): void {
  if (FINAL_RUN_STATUSES.includes(status)) throw errors.conflict(`Run is already ${status}`);
}

/** Only a run that ended without succeeding can be replayed. */
export function assertReplayable(status: RunStatus): void {
  if (!['FAILED', 'TIMED_OUT', 'CANCELLED'].includes(status))
    throw errors.conflict(`Only failed, timed-out or cancelled runs can be retried (this one is ${status})`);
}

const stepReads = new WeakMap<StepDefinition, boolean>();

/** Whether a step's configuration reads earlier outputs (else its scope needs no step rows). */
export function readsStepOutputs(def: StepDefinition): boolean {
  let reads = stepReads.get(def);
  if (reads === undefined) {
    reads = referencesIn(def.with).some((ref) => ref.startsWith('$.steps'));
    stepReads.set(def, reads);
  }
  return reads;
}

export interface PlannedRun {
  run: LoadedRun;
  outputs: Map<string, Json>;
  logs: { stepId: string; level: LogLevel; message: string }[];
  finished: boolean;
  output: Json;
}

/** The pure steps a new run can finish at once (transform and log, from the start of its graph), worked out in memory. */
export function planRun(id: string, input: { tenantId: string; input: Json; idempotencyKey: string | null }, definition: RunDefinition): PlannedRun {
  const run: LoadedRun = {
    id,
    tenant_id: input.tenantId,
    status: 'QUEUED',
    input: input.input,
    idempotency_key: input.idempotencyKey,
    spec: definition.spec,
    definition_name: definition.name,
  };
  const outputs = new Map<string, Json>();
  const logs: PlannedRun['logs'] = [];
  for (let progressed = true; progressed;) {
    progressed = false;
    for (const def of run.spec.steps) {
      if (outputs.has(def.id) || !INLINE_TYPES.has(def.type) || !def.needs.every((need) => outputs.has(need))) continue;
      const scope: MappingScope = {
        input: run.input,
        steps: Object.fromEntries([...outputs].map(([k, v]) => [k, { output: v }])),
        run: { id, idempotencyKey: run.idempotency_key },
      };
      const result = evaluateInline(def, scope);
      if (result.log !== undefined) logs.push({ stepId: def.id, ...result.log });
      outputs.set(def.id, result.output);
      progressed = true;
    }
  }
  const finished = outputs.size === run.spec.steps.length;
  const output = finished ? runOutput(run.spec, (stepId) => outputs.get(stepId)!) : null;
  run.status = finished ? 'SUCCEEDED' : outputs.size > 0 ? 'RUNNING' : 'QUEUED';
  return { run, outputs, logs, finished, output };
}
