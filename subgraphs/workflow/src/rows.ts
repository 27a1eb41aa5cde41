import type { Json } from './definitions/mapping.ts';
import type { WorkflowSpec } from './definitions/workflow-definition.ts';

// The workflow's rows as its SQL returns them (column names as in the migrations): one type
// per table; a query that reads some columns uses a Pick of it.

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export type StepStatus = 'PENDING' | 'READY' | 'DISPATCHED' | 'RUNNING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';
export const OPEN_STEP_STATUSES: readonly StepStatus[] = ['PENDING', 'READY', 'DISPATCHED', 'RUNNING', 'WAITING'];

/** `workflow.definitions`: immutable once written. */
export interface DefinitionRow {
  id: string;
  tenant_id: string;
  name: string;
  version: number;
  spec: WorkflowSpec;
  created_by: string | null;
  created_at: Date;
}

/** `workflow.runs` */
export interface RunRow {
  id: string;
  tenant_id: string;
  definition_id: string;
  status: RunStatus;
  input: Json;
  output: Json;
  error: string | null;
  idempotency_key: string | null;
  started_by: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  /** The request that started the run, and its W3C trace context. */
  request_id: string | null;
  traceparent: string | null;
}

/** `workflow.steps` */
export interface StepRow {
  tenant_id: string;
  run_id: string;
  step_id: string;
  status: StepStatus;
  attempt: number;
  ready_at: Date | null;
  lease_until: Date | null;
  wait: Json;
  output: Json;
  error: string | null;
  error_code: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}
