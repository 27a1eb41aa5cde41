import type { EntityManager } from '@tansu/platform/db/database';
import { CHANNELS } from '@tansu/platform/db/notifications';
import { appendEvents } from '@tansu/platform/events/outbox';
import type { RunRow, RunStatus, StepStatus } from '../rows.ts';
import type { LogLevel } from './state-machine.ts';

export const TOPICS = {
  runUpdated: 'workflow.run.updated',
  stepUpdated: 'workflow.step.updated',
  runLog: 'workflow.run.log',
} as const;

export type OutboxItem = { tenantId: string; topic: string; payload: Record<string, unknown> };

/**
 * One engine operation inside the caller's tenant transaction: its entity manager, the
 * events it has produced so far (written to the outbox in that same transaction, so state
 * and events never disagree), and whether it gave the step workers work.
 */
export interface EngineTx {
  em: EntityManager;
  events: OutboxItem[];
  /** A step became ready now, or a step that held one of its tenant's slots ended. */
  wakesWorkers: boolean;
  /**
   * When set, steps made ready now are collected here and marked in one statement by whoever
   * set it, before anything reads them again (a batch of outcomes does).
   */
  deferredReady?: { runId: string; stepId: string }[];
}

/**
 * Runs one engine operation and writes its events, in order, in one statement at its end.
 * When it gave the step workers work it notifies them, once, at commit.
 */
export async function withEngineTx<T>(em: EntityManager, operation: (tx: EngineTx) => Promise<T>): Promise<T> {
  const tx: EngineTx = { em, events: [], wakesWorkers: false };
  const result = await operation(tx);
  await flushEvents(tx);
  if (tx.wakesWorkers) await em.execute(`select pg_notify(?, '')`, [CHANNELS.steps]);
  return result;
}

/** Writes the events buffered so far; with none, sends no statement. */
export async function flushEvents(tx: EngineTx): Promise<void> {
  if (tx.events.length === 0) return;
  await appendEvents(tx.em, tx.events.splice(0));
}

type RunRef = Pick<RunRow, 'id' | 'tenant_id'>;

export function runEvent(run: RunRef & { definition_name: string }, status: RunStatus, error?: string | null): OutboxItem {
  return { tenantId: run.tenant_id, topic: TOPICS.runUpdated, payload: { runId: run.id, status, workflow: run.definition_name, error: error ?? null } };
}

export function stepEvent(run: RunRef, stepId: string, status: StepStatus, attempt: number, error?: string | null): OutboxItem {
  return { tenantId: run.tenant_id, topic: TOPICS.stepUpdated, payload: { runId: run.id, stepId, status, attempt, error: error ?? null } };
}

export function logEvent(run: RunRef, logId: string | undefined, entry: { stepId: string | null; level: LogLevel; message: string }): OutboxItem {
  return {
    tenantId: run.tenant_id,
    topic: TOPICS.runLog,
    payload: { runId: run.id, logId, stepId: entry.stepId, level: entry.level, message: entry.message },
  };
}

export function emitRun(tx: EngineTx, run: RunRef & { definition_name: string }, status: RunStatus, error?: string | null): void {
  tx.events.push(runEvent(run, status, error));
}

export function emitStep(tx: EngineTx, run: RunRef, stepId: string, status: StepStatus, attempt: number, error?: string | null): void {
  tx.events.push(stepEvent(run, stepId, status, attempt, error));
}
