import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { TansuConfig } from '@tansu/platform/config';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { createDispatcher } from './dispatcher.ts';
import { createDefinitionCache } from '@tansu/subgraph-workflow/engine/definitions';
import { createRunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import { STEP_QUEUE, queuePrefix, type StepJob } from '@tansu/subgraph-workflow/engine/step-jobs';
import { createStepRunners } from '@tansu/subgraph-workflow/engine/step-runners';
import { createStepWorker } from './step-worker.ts';

export interface WorkflowEngine {
  /**
   * Something became runnable or a slot came free: dispatch now instead of at the next poll.
   * The deployable calls it for each `tansu_steps` notice, the one way work announces itself.
   */
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * The workflow engine of one process: the dispatcher (fair, cross-tenant) feeding the step
 * queue, and a BullMQ worker running steps. Any number of processes may run it.
 */
export async function startWorkflowEngine(deps: {
  db: Database;
  systemDb: Database;
  redisUrl: string;
  logger: Logger;
  config: Pick<TansuConfig, 'workflowTenantConcurrency' | 'egressAllowPrivate' | 'redisNamespace'>;
  concurrency?: number;
}): Promise<WorkflowEngine> {
  const queueConnection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(deps.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<StepJob>(STEP_QUEUE, { connection: queueConnection, prefix: queuePrefix(deps.config.redisNamespace) });
  const runEngine = createRunEngine({ definitions: createDefinitionCache() });
  const dispatcher = createDispatcher({
    systemDb: deps.systemDb,
    engine: runEngine,
    queue,
    logger: deps.logger,
    tenantConcurrency: deps.config.workflowTenantConcurrency,
  });
  const runners = createStepRunners({ allowPrivateEgress: deps.config.egressAllowPrivate });
  const worker = createStepWorker({
    db: deps.db,
    engine: runEngine,
    runners,
    logger: deps.logger,
    connection: workerConnection,
    namespace: deps.config.redisNamespace,
    concurrency: deps.concurrency,
  });
  dispatcher.start();
  return {
    nudge: () => dispatcher.nudge(),
    async stop() {
      await dispatcher.stop();
      await worker.close();
      await queue.close();
      await runners.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
