import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { Json } from './definitions/mapping.ts';
import type { WorkflowSpec } from './definitions/workflow-definition.ts';

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export type StepStatus = 'PENDING' | 'READY' | 'DISPATCHED' | 'RUNNING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';
export const OPEN_STEP_STATUSES: readonly StepStatus[] = ['PENDING', 'READY', 'DISPATCHED', 'RUNNING', 'WAITING'];

export const DefinitionEntity = defineEntity({
  name: 'WorkflowDefinition',
  tableName: 'definitions',
  schema: 'workflow',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    name: p.string(),
    version: p.integer(),
    spec: p.json<WorkflowSpec>(),
    createdBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Definition = InferEntity<typeof DefinitionEntity>;

export const RunEntity = defineEntity({
  name: 'WorkflowRun',
  tableName: 'runs',
  schema: 'workflow',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    definitionId: p.uuid(),
    status: p.string().$type<RunStatus>(),
    input: p.json<Json>(),
    output: p.json<Json>().nullable(),
    error: p.text().nullable(),
    idempotencyKey: p.string().nullable(),
    startedBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()),
    finishedAt: p.datetime().nullable(),
  },
});
export type Run = InferEntity<typeof RunEntity>;

export const StepEntity = defineEntity({
  name: 'WorkflowStep',
  tableName: 'steps',
  schema: 'workflow',
  properties: {
    tenantId: p.uuid(),
    runId: p.uuid().primary(),
    stepId: p.string().primary(),
    status: p.string().$type<StepStatus>(),
    attempt: p.integer(),
    readyAt: p.datetime().nullable(),
    leaseUntil: p.datetime().nullable(),
    wait: p.json<Json>().nullable(),
    output: p.json<Json>().nullable(),
    error: p.text().nullable(),
    errorCode: p.string().nullable(),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
  },
});
export type Step = InferEntity<typeof StepEntity>;

export const StepAttemptEntity = defineEntity({
  name: 'WorkflowStepAttempt',
  tableName: 'step_attempts',
  schema: 'workflow',
  properties: {
    tenantId: p.uuid(),
    runId: p.uuid().primary(),
    stepId: p.string().primary(),
    attempt: p.integer().primary(),
    status: p.string().$type<'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABANDONED'>(),
    error: p.text().nullable(),
    startedAt: p.datetime().onCreate(() => new Date()),
    finishedAt: p.datetime().nullable(),
  },
});
export type StepAttempt = InferEntity<typeof StepAttemptEntity>;

export const RunLogEntity = defineEntity({
  name: 'WorkflowRunLog',
  tableName: 'run_logs',
  schema: 'workflow',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.uuid(),
    runId: p.uuid(),
    stepId: p.string().nullable(),
    level: p.string().$type<'debug' | 'info' | 'warn' | 'error'>(),
    message: p.text(),
    data: p.json<Json>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type RunLog = InferEntity<typeof RunLogEntity>;

export const workflowEntities = [DefinitionEntity, RunEntity, StepEntity, StepAttemptEntity, RunLogEntity];
