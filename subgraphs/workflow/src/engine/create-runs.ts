import { errors } from '@tansu/platform/errors';
import type { Json } from '../definitions/mapping.ts';
import type { RunStatus } from '../rows.ts';
import type { DefinitionCache } from './definitions.ts';
import { flushEvents, logEvent, runEvent, stepEvent, type EngineTx } from './event-buffer.ts';
import { planRun, type PlannedRun } from './state-machine.ts';
import { advance } from './transitions.ts';

export interface NewRun {
  tenantId: string;
  definitionId: string;
  input: Json;
  idempotencyKey: string | null;
  startedBy: string | null;
  /** The request that starts the run and its trace context: its steps' jobs carry them. */
  requestId: string | null;
  traceparent: string | null;
}

/**
 * Creates runs, all in the caller's transaction, with one statement per table for the whole
 * batch: what their pure steps compute is written with them, so a run made only of such
 * steps is created finished. Every other step then starts through `advance`, as after any
 * change. Returns the run ids in order.
 */
export async function createRuns(tx: EngineTx, definitions: DefinitionCache, inputs: NewRun[]): Promise<string[]> {
  const { em } = tx;
  const planned: PlannedRun[] = [];
  for (const input of inputs) {
    const definition = await definitions.get(em, input.definitionId);
    if (definition === undefined) throw errors.notFound('Workflow');
    planned.push(planRun(crypto.randomUUID(), input, definition));
  }
  const json = (value: unknown) => JSON.stringify(value);
  await em.execute(
    `insert into workflow.runs (id, tenant_id, definition_id, status, input, output, idempotency_key, started_by, request_id, traceparent, finished_at)
     select x.id, x.tenant_id, x.definition_id, x.status, x.input, x.output, x.idempotency_key, x.started_by, x.request_id, x.traceparent, case when x.finished then now() end
     from jsonb_to_recordset(?::jsonb) as x(id uuid, tenant_id uuid, definition_id uuid, status text, input jsonb, output jsonb, idempotency_key text, started_by uuid,
                                           request_id text, traceparent text, finished boolean)`,
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
          request_id: inputs[i]!.requestId,
          traceparent: inputs[i]!.traceparent,
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
  for (const { run, outputs, logs: runLogs, finished } of planned) {
    const runStatus = (status: RunStatus) => tx.events.push(runEvent(run, status));
    if (!finished) runStatus('QUEUED');
    if (run.status === 'RUNNING') runStatus('RUNNING');
    for (const stepId of outputs.keys()) tx.events.push(stepEvent(run, stepId, 'SUCCEEDED', 1));
    for (const log of runLogs) tx.events.push(logEvent(run, logIds[logIndex++]?.id, log));
    if (finished) runStatus('SUCCEEDED');
  }
  // The creation's events go out before those of the steps its runs then start.
  await flushEvents(tx);
  for (const p of planned) if (!p.finished) await advance(tx, p.run);
  return planned.map((p) => p.run.id);
}
