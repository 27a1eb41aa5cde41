import type { EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import { CHANNELS } from '@tansu/platform/db/notifications';
import { appendEvents } from '@tansu/platform/events/outbox';
import { referencesIn, resolveMapping, type Json, type MappingScope } from '../definitions/mapping.ts';
import { LIMITS, backoffDelay, type StepDefinition, type WorkflowSpec } from '../definitions/workflow-definition.ts';
import { FINAL_RUN_STATUSES, type RunRow, type RunStatus, type StepRow, type StepStatus } from '../rows.ts';

/**
 * The run state machine. Every function runs inside the caller's tenant transaction and
 * writes its outbox events in that same transaction, so state and events never disagree.
 * Postgres rows are the truth; a queued job only says "look at this step now".
 */

export const TOPICS = {
  runUpdated: 'workflow.run.updated',
  stepUpdated: 'workflow.step.updated',
  runLog: 'workflow.run.log',
} as const;

/** A run as the engine works on it: the columns it reads, with its definition's spec and name. */
type LoadedRun = Pick<RunRow, 'id' | 'tenant_id' | 'status' | 'input' | 'idempotency_key'> & { spec: WorkflowSpec; definition_name: string };

type LoadedStep = Pick<StepRow, 'step_id' | 'status' | 'attempt' | 'output'>;

export interface StepFailure {
  message: string;
  /** A stable code: TIMEOUT, HTTP_4XX, HTTP_5XX, NETWORK, EGRESS_DENIED, BAD_MAPPING, … */
  code: string;
  retryable: boolean;
}

/** Definitions never change once written: a process reads each one once. */
const definitionCache = new Map<string, { spec: WorkflowSpec; name: string }>();

async function loadRun(em: EntityManager, runId: string, lock = false): Promise<LoadedRun | undefined> {
  const rows = await em.execute<Pick<RunRow, 'id' | 'tenant_id' | 'status' | 'input' | 'idempotency_key' | 'definition_id'>[]>(
    `select id, tenant_id, status, input, idempotency_key, definition_id from workflow.runs where id = ?${lock ? ' for update' : ''}`,
    [runId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const definition = await definitionOf(em, row.definition_id);
  if (definition === undefined) return undefined;
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    status: row.status,
    input: row.input,
    idempotency_key: row.idempotency_key,
    spec: definition.spec,
    definition_name: definition.name,
  };
}

async function loadSteps(em: EntityManager, runId: string): Promise<Map<string, LoadedStep>> {
  const rows = await em.execute<LoadedStep[]>(`select step_id, status, attempt, output from workflow.steps where run_id = ?`, [runId]);
  return new Map(rows.map((row) => [row.step_id, row]));
}

export function scopeOf(run: Pick<LoadedRun, 'id' | 'input' | 'idempotency_key'>, steps: Map<string, LoadedStep>): MappingScope {
  const outputs: Record<string, { output: Json }> = {};
  for (const [id, step] of steps) if (step.status === 'SUCCEEDED') outputs[id] = { output: step.output };
  return { input: run.input, steps: outputs, run: { id: run.id, idempotencyKey: run.idempotency_key } };
}

type OutboxItem = { tenantId: string; topic: string; payload: Record<string, unknown> };

/** Events of the operation under way in a transaction, written together when it ends. */
const pendingEvents = new WeakMap<EntityManager, OutboxItem[]>();

function emit(em: EntityManager, event: OutboxItem): void {
  const list = pendingEvents.get(em);
  if (list === undefined) pendingEvents.set(em, [event]);
  else list.push(event);
}

/** Runs one engine operation and writes its events, in order, in one statement at its end. */
async function withEvents<T>(em: EntityManager, operation: () => Promise<T>): Promise<T> {
  const result = await operation();
  const list = pendingEvents.get(em);
  if (list !== undefined && list.length > 0) {
    pendingEvents.delete(em);
    await appendEvents(em, list);
  }
  return result;
}

function emitRun(em: EntityManager, run: Pick<LoadedRun, 'id' | 'tenant_id' | 'definition_name'>, status: RunStatus, error?: string | null): void {
  emit(em, { tenantId: run.tenant_id, topic: TOPICS.runUpdated, payload: { runId: run.id, status, workflow: run.definition_name, error: error ?? null } });
}

function emitStep(
  em: EntityManager,
  run: Pick<LoadedRun, 'id' | 'tenant_id'>,
  stepId: string,
  status: StepStatus,
  attempt: number,
  error?: string | null,
): void {
  emit(em, { tenantId: run.tenant_id, topic: TOPICS.stepUpdated, payload: { runId: run.id, stepId, status, attempt, error: error ?? null } });
}

export async function appendRunLog(
  em: EntityManager,
  run: Pick<LoadedRun, 'id' | 'tenant_id'>,
  entry: { stepId?: string | null; level: 'debug' | 'info' | 'warn' | 'error'; message: string; data?: Json },
): Promise<void> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into workflow.run_logs (tenant_id, run_id, step_id, level, message, data) values (?, ?, ?, ?, ?, ?::jsonb) returning id::text as id`,
    [run.tenant_id, run.id, entry.stepId ?? null, entry.level, entry.message, entry.data === undefined ? null : JSON.stringify(entry.data)],
  );
  emit(em, {
    tenantId: run.tenant_id,
    topic: TOPICS.runLog,
    payload: { runId: run.id, logId: rows[0]!.id, stepId: entry.stepId ?? null, level: entry.level, message: entry.message },
  });
}

async function setRunStatus(em: EntityManager, run: LoadedRun, status: RunStatus, fields: { output?: Json; error?: string | null } = {}): Promise<void> {
  const final = FINAL_RUN_STATUSES.includes(status);
  await em.execute(
    `update workflow.runs set status = ?, output = coalesce(?::jsonb, output), error = ?, updated_at = now(),
       finished_at = ${final ? 'now()' : 'null'} where id = ?`,
    [status, fields.output === undefined ? null : JSON.stringify(fields.output), fields.error ?? null, run.id],
  );
  run.status = status;
  emitRun(em, run, status, fields.error);
}

/** Puts a step whose dependencies are done on its way: ready now, ready later (delay), or waiting. */
async function makeReady(em: EntityManager, run: LoadedRun, def: StepDefinition, scope: MappingScope): Promise<void> {
  if (def.type === 'delay') {
    const ms = resolveMapping(def.with.ms, scope);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > LIMITS.maxDelayMs) {
      await finishStepAsFailed(em, run, def.id, 0, {
        message: `delay "ms" resolved to ${JSON.stringify(ms)}, not a duration`,
        code: 'BAD_MAPPING',
        retryable: false,
      });
      return;
    }
    await em.execute(`update workflow.steps set status = 'READY', ready_at = now() + (? * interval '1 millisecond') where run_id = ? and step_id = ?`, [
      ms,
      run.id,
      def.id,
    ]);
    emitStep(em, run, def.id, 'READY', 0);
    return;
  }
  if (def.type === 'waitForEvent') {
    const timeoutMs = typeof def.with.timeoutMs === 'number' ? def.with.timeoutMs : null;
    // The event name may be a reference or a template, like any other option.
    const event = resolveMapping(def.with.event, scope);
    if (typeof event !== 'string' || event.length === 0 || event.length > LIMITS.maxEventLength) {
      await finishStepAsFailed(em, run, def.id, 0, {
        message: `event resolved to ${JSON.stringify(event)}, not an event name of 1-${LIMITS.maxEventLength} characters`,
        code: 'BAD_MAPPING',
        retryable: false,
      });
      return;
    }
    const wait = { event, match: resolveMapping(def.with.match ?? {}, scope) };
    await em.execute(
      `update workflow.steps set status = 'WAITING', wait = ?::jsonb, started_at = now(),
         ready_at = ${timeoutMs === null ? 'null' : "now() + (? * interval '1 millisecond')"} where run_id = ? and step_id = ?`,
      timeoutMs === null ? [JSON.stringify(wait), run.id, def.id] : [JSON.stringify(wait), timeoutMs, run.id, def.id],
    );
    emitStep(em, run, def.id, 'WAITING', 0);
    // A run waiting for an event is under way, not waiting for a worker.
    if (run.status === 'QUEUED') await setRunStatus(em, run, 'RUNNING');
    return;
  }
  await em.execute(`update workflow.steps set status = 'READY', ready_at = now() where run_id = ? and step_id = ?`, [run.id, def.id]);
  // Dispatchers in other processes hear of it at commit (Postgres sends one notice per transaction).
  await em.execute(`select pg_notify(?, '')`, [CHANNELS.steps]);
  emitStep(em, run, def.id, 'READY', 0);
}

/** After any step change: start what became runnable, or finish the run. */
/** Steps without side effects: run where they become ready, in the same transaction. */
const INLINE_TYPES: ReadonlySet<StepDefinition['type']> = new Set(['transform', 'log']);

/**
 * Runs a pure step on the spot: its output is only a function of the run's data, so doing it
 * inside the transaction that made it ready is as durable as queueing it, and much cheaper.
 */
async function runInline(em: EntityManager, run: LoadedRun, def: StepDefinition, scope: MappingScope): Promise<Json> {
  if (def.type === 'log') {
    const message = String(resolveMapping(def.with.message, scope));
    const level = (def.with.level as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'info';
    await appendRunLog(em, run, { stepId: def.id, level, message });
    return { message };
  }
  return resolveMapping(def.with.output, scope);
}

/** After any step change: start what became runnable (pure steps at once), or finish the run. */
async function advance(em: EntityManager, run: LoadedRun): Promise<void> {
  if (FINAL_RUN_STATUSES.includes(run.status)) return;
  const steps = await loadSteps(em, run.id);
  for (let progressed = true; progressed;) {
    progressed = false;
    for (const def of run.spec.steps) {
      const step = steps.get(def.id);
      if (step?.status !== 'PENDING' || !def.needs.every((need) => steps.get(need)?.status === 'SUCCEEDED')) continue;
      if (INLINE_TYPES.has(def.type)) {
        const output = await runInline(em, run, def, scopeOf(run, steps));
        await em.execute(
          `update workflow.steps set status = 'SUCCEEDED', attempt = 1, output = ?::jsonb, started_at = now(), finished_at = now() where run_id = ? and step_id = ?`,
          [JSON.stringify(output ?? null), run.id, def.id],
        );
        await em.execute(
          `insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status, finished_at) values (?, ?, ?, 1, 'SUCCEEDED', now())`,
          [run.tenant_id, run.id, def.id],
        );
        if (run.status === 'QUEUED') await setRunStatus(em, run, 'RUNNING');
        emitStep(em, run, def.id, 'SUCCEEDED', 1);
        steps.set(def.id, { step_id: def.id, status: 'SUCCEEDED', attempt: 1, output: output ?? null });
        progressed = true;
      } else {
        await makeReady(em, run, def, scopeOf(run, steps));
        if (FINAL_RUN_STATUSES.includes(run.status)) return;
        steps.set(def.id, { ...step, status: 'READY' });
      }
    }
  }
  if ([...steps.values()].every((s) => s.status === 'SUCCEEDED')) {
    // The run's output: the outputs of the steps nothing else waits for.
    const needed = new Set(run.spec.steps.flatMap((s) => s.needs));
    const output: Record<string, Json> = {};
    for (const def of run.spec.steps) if (!needed.has(def.id)) output[def.id] = steps.get(def.id)!.output;
    await setRunStatus(em, run, 'SUCCEEDED', { output });
  }
}

/** Records a step's failure as final and fails the run (it shows up in the dead-letter view). */
async function finishStepAsFailed(em: EntityManager, run: LoadedRun, stepId: string, attempt: number, failure: StepFailure): Promise<void> {
  const stepStatus: StepStatus = failure.code === 'TIMEOUT' ? 'TIMED_OUT' : 'FAILED';
  await em.execute(
    `update workflow.steps set status = ?, error = ?, error_code = ?, finished_at = now(), lease_until = null where run_id = ? and step_id = ?`,
    [stepStatus, failure.message, failure.code, run.id, stepId],
  );
  emitStep(em, run, stepId, stepStatus, attempt, failure.message);
  // Siblings still running are cancelled too: their workers will find the run ended.
  await em.execute(
    `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
     where run_id = ? and status in ('PENDING', 'READY', 'WAITING', 'DISPATCHED', 'RUNNING')`,
    [run.id],
  );
  await em.execute(`update workflow.step_attempts set status = 'ABANDONED', finished_at = now() where run_id = ? and status = 'RUNNING'`, [run.id]);
  await setRunStatus(em, run, failure.code === 'TIMEOUT' ? 'TIMED_OUT' : 'FAILED', { error: `step "${stepId}": ${failure.message}` });
  await appendRunLog(em, run, { stepId, level: 'error', message: `step failed: ${failure.message}`, data: { code: failure.code, attempt } });
}

/** The definition of a run; read once per process (definitions never change). */
async function definitionOf(em: EntityManager, definitionId: string): Promise<{ spec: WorkflowSpec; name: string } | undefined> {
  let definition = definitionCache.get(definitionId);
  if (definition === undefined) {
    const found = await em.execute<{ spec: WorkflowSpec; name: string }[]>(`select spec, name from workflow.definitions where id = ?`, [definitionId]);
    if (found[0] === undefined) return undefined;
    definition = found[0];
    if (definitionCache.size >= 10_000) definitionCache.clear();
    definitionCache.set(definitionId, definition);
  }
  return definition;
}

export interface NewRun {
  tenantId: string;
  definitionId: string;
  input: Json;
  idempotencyKey: string | null;
  startedBy: string | null;
}

interface PlannedRun {
  run: LoadedRun;
  outputs: Map<string, Json>;
  logs: { stepId: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string }[];
  finished: boolean;
  output: Json;
}

/** The pure steps a new run can finish at once (transform and log, from the start of its graph), worked out in memory. */
function planRun(id: string, input: NewRun, definition: { spec: WorkflowSpec; name: string }): PlannedRun {
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
      if (def.type === 'log') {
        const message = String(resolveMapping(def.with.message, scope));
        logs.push({ stepId: def.id, level: (def.with.level as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'info', message });
        outputs.set(def.id, { message });
      } else {
        outputs.set(def.id, resolveMapping(def.with.output, scope) ?? null);
      }
      progressed = true;
    }
  }
  const finished = outputs.size === run.spec.steps.length;
  const needed = new Set(run.spec.steps.flatMap((s) => s.needs));
  const output = finished ? Object.fromEntries(run.spec.steps.filter((s) => !needed.has(s.id)).map((s) => [s.id, outputs.get(s.id)!])) : null;
  run.status = finished ? 'SUCCEEDED' : outputs.size > 0 ? 'RUNNING' : 'QUEUED';
  return { run, outputs, logs, finished, output };
}

/**
 * Creates runs, all in the caller's transaction, with one statement per table for the whole
 * batch: what their pure steps compute is written with them, so a run made only of such
 * steps is created finished. Every other step then starts through `advance`, as after any
 * change. Returns the run ids in order.
 */
export async function createRuns(em: EntityManager, inputs: NewRun[]): Promise<string[]> {
  const planned: PlannedRun[] = [];
  for (const input of inputs) {
    const definition = await definitionOf(em, input.definitionId);
    if (definition === undefined) throw errors.notFound('Workflow');
    planned.push(planRun(crypto.randomUUID(), input, definition));
  }
  const json = (value: unknown) => JSON.stringify(value);
  await em.execute(
    `insert into workflow.runs (id, tenant_id, definition_id, status, input, output, idempotency_key, started_by, finished_at)
     select x.id, x.tenant_id, x.definition_id, x.status, x.input, x.output, x.idempotency_key, x.started_by, case when x.finished then now() end
     from jsonb_to_recordset(?::jsonb) as x(id uuid, tenant_id uuid, definition_id uuid, status text, input jsonb, output jsonb, idempotency_key text, started_by uuid, finished boolean)`,
    [
      json(
        planned.map((p, i) => ({
          id: p.run.id,
          tenant_id: p.run.tenant_id,
          definition_id: inputs[i]!.definitionId,
          status: p.run.status,
          input: p.run.input,
          output: p.output,
          idempotency_key: p.run.idempotency_key,
          started_by: inputs[i]!.startedBy,
          finished: p.finished,
        })),
      ),
    ],
  );
  await em.execute(
    `insert into workflow.steps (tenant_id, run_id, step_id, status, attempt, output, started_at, finished_at)
     select x.tenant_id, x.run_id, x.step_id, case when x.done then 'SUCCEEDED' else 'PENDING' end, case when x.done then 1 else 0 end,
            case when x.done then x.output end, case when x.done then now() end, case when x.done then now() end
     from jsonb_to_recordset(?::jsonb) as x(tenant_id uuid, run_id uuid, step_id text, done boolean, output jsonb)`,
    [
      json(
        planned.flatMap((p) =>
          p.run.spec.steps.map((def) => ({
            tenant_id: p.run.tenant_id,
            run_id: p.run.id,
            step_id: def.id,
            done: p.outputs.has(def.id),
            output: p.outputs.get(def.id) ?? null,
          })),
        ),
      ),
    ],
  );
  const attempts = planned.flatMap((p) => [...p.outputs.keys()].map((stepId) => ({ tenant_id: p.run.tenant_id, run_id: p.run.id, step_id: stepId })));
  if (attempts.length > 0) {
    await em.execute(
      `insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status, finished_at)
       select x.tenant_id, x.run_id, x.step_id, 1, 'SUCCEEDED', now() from jsonb_to_recordset(?::jsonb) as x(tenant_id uuid, run_id uuid, step_id text)`,
      [json(attempts)],
    );
  }
  const logs = planned.flatMap((p) =>
    p.logs.map((log) => ({ tenant_id: p.run.tenant_id, run_id: p.run.id, step_id: log.stepId, level: log.level, message: log.message })),
  );
  const logIds =
    logs.length === 0
      ? []
      : await em.execute<{ id: string }[]>(
          `insert into workflow.run_logs (tenant_id, run_id, step_id, level, message)
           select x.tenant_id, x.run_id, x.step_id, x.level, x.message
           from rows from (jsonb_to_recordset(?::jsonb) as (tenant_id uuid, run_id uuid, step_id text, level text, message text)) with ordinality as x(tenant_id, run_id, step_id, level, message, n)
           order by x.n returning id::text as id`,
          [json(logs)],
        );
  // Events in the order things happened; a run created finished reports only its outcome.
  let logIndex = 0;
  const events = planned.flatMap((p) => {
    const { run } = p;
    const runEvent = (status: RunStatus) => ({
      tenantId: run.tenant_id,
      topic: TOPICS.runUpdated,
      payload: { runId: run.id, status, workflow: run.definition_name, error: null },
    });
    return [
      ...(p.finished ? [] : [runEvent('QUEUED')]),
      ...(run.status === 'RUNNING' ? [runEvent('RUNNING')] : []),
      ...[...p.outputs.keys()].map((stepId) => ({
        tenantId: run.tenant_id,
        topic: TOPICS.stepUpdated,
        payload: { runId: run.id, stepId, status: 'SUCCEEDED', attempt: 1, error: null },
      })),
      ...p.logs.map((log) => ({
        tenantId: run.tenant_id,
        topic: TOPICS.runLog,
        payload: { runId: run.id, logId: logIds[logIndex++]?.id, stepId: log.stepId, level: log.level, message: log.message },
      })),
      ...(p.finished ? [runEvent('SUCCEEDED')] : []),
    ];
  });
  await appendEvents(em, events);
  await withEvents(em, async () => {
    for (const p of planned) if (!p.finished) await advance(em, p.run);
  });
  return planned.map((p) => p.run.id);
}

const stepReads = new WeakMap<StepDefinition, boolean>();

/** Whether a step's configuration reads earlier outputs (else its scope needs no step rows). */
function readsStepOutputs(def: StepDefinition): boolean {
  let reads = stepReads.get(def);
  if (reads === undefined) {
    reads = referencesIn(def.with).some((ref) => ref.startsWith('$.steps'));
    stepReads.set(def, reads);
  }
  return reads;
}

export interface StepStart {
  run: LoadedRun;
  def: StepDefinition;
  scope: MappingScope;
  attempt: number;
}

/**
 * A worker claims attempt `attempt` of a step. Returns undefined when the job is stale (the
 * run ended, the step moved on, or another attempt replaced it): the job then does nothing.
 */
export async function beginStep(em: EntityManager, runId: string, stepId: string, attempt: number, leaseGraceMs: number): Promise<StepStart | undefined> {
  return withEvents(em, () => beginStepNow(em, runId, stepId, attempt, leaseGraceMs));
}

async function beginStepNow(em: EntityManager, runId: string, stepId: string, attempt: number, leaseGraceMs: number): Promise<StepStart | undefined> {
  const run = await loadRun(em, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return undefined;
  const def = run.spec.steps.find((s) => s.id === stepId);
  if (def === undefined) return undefined;
  const leaseMs = def.timeoutMs + leaseGraceMs;
  const claimed = await em.execute<{ step_id: string }[]>(
    `update workflow.steps set status = 'RUNNING', started_at = coalesce(started_at, now()), lease_until = now() + (? * interval '1 millisecond')
     where run_id = ? and step_id = ? and attempt = ? and status in ('DISPATCHED', 'RUNNING') returning step_id`,
    [leaseMs, runId, stepId, attempt],
  );
  if (claimed.length === 0) return undefined;
  const inserted = await em.execute<{ attempt: number }[]>(
    `insert into workflow.step_attempts (tenant_id, run_id, step_id, attempt, status) values (?, ?, ?, ?, 'RUNNING')
     on conflict do nothing returning attempt`,
    [run.tenant_id, runId, stepId, attempt],
  );
  if (run.status === 'QUEUED') await setRunStatus(em, run, 'RUNNING');
  if (inserted.length > 0) emitStep(em, run, stepId, 'RUNNING', attempt);
  return { run, def, scope: scopeOf(run, readsStepOutputs(def) ? await loadSteps(em, runId) : new Map()), attempt };
}

/** Records a step's success exactly once: a second completion of the same attempt changes nothing. */
export async function completeStep(em: EntityManager, runId: string, stepId: string, attempt: number, output: Json): Promise<boolean> {
  return withEvents(em, () => completeStepNow(em, runId, stepId, attempt, output));
}

async function completeStepNow(em: EntityManager, runId: string, stepId: string, attempt: number, output: Json): Promise<boolean> {
  const run = await loadRun(em, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return false;
  const done = await em.execute<{ step_id: string }[]>(
    `update workflow.steps set status = 'SUCCEEDED', output = ?::jsonb, error = null, error_code = null, finished_at = now(), lease_until = null
     where run_id = ? and step_id = ? and attempt = ? and status in ('RUNNING', 'DISPATCHED', 'WAITING') returning step_id`,
    [JSON.stringify(output ?? null), runId, stepId, attempt],
  );
  if (done.length === 0) return false;
  await em.execute(`update workflow.step_attempts set status = 'SUCCEEDED', finished_at = now() where run_id = ? and step_id = ? and attempt = ?`, [
    runId,
    stepId,
    attempt,
  ]);
  emitStep(em, run, stepId, 'SUCCEEDED', attempt);
  await advance(em, run);
  return true;
}

/** A failed attempt: retried with backoff while the policy allows, else final. */
export async function failStep(
  em: EntityManager,
  runId: string,
  stepId: string,
  attempt: number,
  failure: StepFailure,
): Promise<'retrying' | 'failed' | 'stale'> {
  return withEvents(em, () => failStepNow(em, runId, stepId, attempt, failure));
}

async function failStepNow(em: EntityManager, runId: string, stepId: string, attempt: number, failure: StepFailure): Promise<'retrying' | 'failed' | 'stale'> {
  const run = await loadRun(em, runId, true);
  if (run === undefined) return 'stale';
  if (FINAL_RUN_STATUSES.includes(run.status)) {
    // The run ended meanwhile: a step still open must not hold its tenant's slots.
    await em.execute(
      `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
       where run_id = ? and step_id = ? and status in ('DISPATCHED', 'RUNNING', 'READY', 'WAITING')`,
      [runId, stepId],
    );
    await em.execute(`update workflow.step_attempts set status = 'ABANDONED', finished_at = now() where run_id = ? and step_id = ? and status = 'RUNNING'`, [
      runId,
      stepId,
    ]);
    return 'stale';
  }
  const current = await em.execute<{ status: StepStatus; attempt_base: number }[]>(
    `select status, attempt_base from workflow.steps where run_id = ? and step_id = ? and attempt = ? for update`,
    [runId, stepId, attempt],
  );
  if (current.length === 0 || !['RUNNING', 'DISPATCHED', 'WAITING'].includes(current[0]!.status)) return 'stale';
  const tries = attempt - current[0]!.attempt_base;
  await em.execute(`update workflow.step_attempts set status = ?, error = ?, finished_at = now() where run_id = ? and step_id = ? and attempt = ?`, [
    failure.code === 'WORKER_LOST' ? 'ABANDONED' : 'FAILED',
    failure.message,
    runId,
    stepId,
    attempt,
  ]);
  const def = run.spec.steps.find((s) => s.id === stepId)!;
  const retryable = failure.retryable && !def.retry.nonRetryable.includes(failure.code) && tries < def.retry.maxAttempts;
  if (retryable) {
    const delay = backoffDelay(def.retry, tries + 1);
    await em.execute(
      `update workflow.steps set status = 'READY', ready_at = now() + (? * interval '1 millisecond'), lease_until = null, error = ?, error_code = ?
       where run_id = ? and step_id = ?`,
      [delay, failure.message, failure.code, runId, stepId],
    );
    emitStep(em, run, stepId, 'READY', attempt, failure.message);
    await appendRunLog(em, run, {
      stepId,
      level: 'warn',
      message: `attempt ${attempt} failed, retrying in ${delay} ms: ${failure.message}`,
      data: { code: failure.code },
    });
    return 'retrying';
  }
  await finishStepAsFailed(em, run, stepId, attempt, failure);
  return 'failed';
}

export async function cancelRun(em: EntityManager, runId: string): Promise<RunStatus> {
  return withEvents(em, () => cancelRunNow(em, runId));
}

async function cancelRunNow(em: EntityManager, runId: string): Promise<RunStatus> {
  const run = await loadRun(em, runId, true);
  if (run === undefined) throw errors.notFound('Run');
  if (FINAL_RUN_STATUSES.includes(run.status)) throw errors.conflict(`Run is already ${run.status}`);
  await em.execute(
    `update workflow.steps set status = 'CANCELLED', finished_at = now(), lease_until = null
     where run_id = ? and status in ('PENDING', 'READY', 'DISPATCHED', 'RUNNING', 'WAITING')`,
    [runId],
  );
  await em.execute(`update workflow.step_attempts set status = 'ABANDONED', finished_at = now() where run_id = ? and status = 'RUNNING'`, [runId]);
  await setRunStatus(em, run, 'CANCELLED', { error: 'cancelled' });
  return 'CANCELLED';
}

/** Replays a failed, timed-out or cancelled run: what did not succeed runs again, from attempt 1. */
export async function retryRun(em: EntityManager, runId: string): Promise<RunStatus> {
  return withEvents(em, () => retryRunNow(em, runId));
}

async function retryRunNow(em: EntityManager, runId: string): Promise<RunStatus> {
  const run = await loadRun(em, runId, true);
  if (run === undefined) throw errors.notFound('Run');
  if (!['FAILED', 'TIMED_OUT', 'CANCELLED'].includes(run.status))
    throw errors.conflict(`Only failed, timed-out or cancelled runs can be retried (this one is ${run.status})`);
  await em.execute(
    `update workflow.steps set status = 'PENDING', attempt_base = attempt, error = null, error_code = null, ready_at = null, lease_until = null, wait = null,
       started_at = null, finished_at = null where run_id = ? and status <> 'SUCCEEDED'`,
    [runId],
  );
  await em.execute(`update workflow.runs set finished_at = null where id = ?`, [runId]);
  await setRunStatus(em, run, 'RUNNING');
  await appendRunLog(em, run, { level: 'info', message: 'run retried' });
  await advance(em, run);
  return run.status;
}

function matches(match: Json, payload: Json): boolean {
  if (match === null || typeof match !== 'object' || Array.isArray(match)) return true;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return Object.keys(match).length === 0;
  return Object.entries(match).every(([key, expected]) => {
    const actual = Object.prototype.hasOwnProperty.call(payload, key) ? (payload as Record<string, Json>)[key] : undefined;
    return expected !== null && typeof expected === 'object' ? matches(expected, actual ?? null) : actual === expected;
  });
}

/** Wakes the tenant's steps waiting for this event whose match fits the payload. */
export async function deliverEvent(em: EntityManager, event: string, payload: Json): Promise<number> {
  return withEvents(em, () => deliverEventNow(em, event, payload));
}

async function deliverEventNow(em: EntityManager, event: string, payload: Json): Promise<number> {
  const waiting = await em.execute<{ run_id: string; step_id: string; attempt: number; wait: { event: string; match: Json } }[]>(
    `select run_id, step_id, attempt, wait from workflow.steps where status = 'WAITING' and wait->>'event' = ? order by run_id, step_id`,
    [event],
  );
  // No row lock here: completeStep locks the run first, as every operation does, and only
  // completes a step that is still waiting.
  let woken = 0;
  for (const step of waiting) {
    if (!matches(step.wait.match, payload)) continue;
    if (await completeStep(em, step.run_id, step.step_id, step.attempt, payload)) woken += 1;
  }
  return woken;
}

/** A waitForEvent step whose time ran out. */
export async function expireWait(em: EntityManager, runId: string, stepId: string): Promise<boolean> {
  return withEvents(em, () => expireWaitNow(em, runId, stepId));
}

async function expireWaitNow(em: EntityManager, runId: string, stepId: string): Promise<boolean> {
  // The run first, then the step: the same lock order as every other operation.
  const run = await loadRun(em, runId, true);
  if (run === undefined || FINAL_RUN_STATUSES.includes(run.status)) return false;
  const rows = await em.execute<{ attempt: number }[]>(
    `select attempt from workflow.steps where run_id = ? and step_id = ? and status = 'WAITING' and ready_at <= now() for update`,
    [runId, stepId],
  );
  if (rows.length === 0) return false;
  await finishStepAsFailed(em, run, stepId, rows[0]!.attempt, { message: 'no matching event arrived in time', code: 'TIMEOUT', retryable: false });
  return true;
}
