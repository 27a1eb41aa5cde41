import type { TansuConfig } from '@tansu/platform/config';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { createDefinitionCache } from '@tansu/subgraph-workflow/engine/definitions';
import { createRunEngine } from '@tansu/subgraph-workflow/engine/run-engine';
import { createStepRunners } from '@tansu/subgraph-workflow/engine/step-runners';
import { createStepFetcher } from './step-fetcher.ts';

export interface WorkflowEngine {
  /**
   * Something became runnable or a slot came free: claim now instead of at the next poll.
   * The deployable calls it for each `tansu_steps` notice, the one way work announces itself.
   */
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * The workflow engine of one process: a step fetcher claiming ready steps from Postgres
 * (fair across tenants, within each plan) and running them. Any number of processes may run it.
 */
export async function startWorkflowEngine(deps: {
  db: Database;
  systemDb: Database;
  logger: Logger;
  config: Pick<TansuConfig, 'workflowTenantConcurrency' | 'egressAllowPrivate'>;
  concurrency?: number;
}): Promise<WorkflowEngine> {
  const runners = createStepRunners({ allowPrivateEgress: deps.config.egressAllowPrivate });
  const fetcher = createStepFetcher({
    db: deps.db,
    systemDb: deps.systemDb,
    engine: createRunEngine({ definitions: createDefinitionCache() }),
    runners,
    logger: deps.logger,
    concurrency: deps.concurrency,
    tenantConcurrency: deps.config.workflowTenantConcurrency,
  });
  fetcher.start();
  return {
    nudge: () => fetcher.nudge(),
    async stop() {
      await fetcher.stop();
      await runners.close();
    },
  };
}
