import { readFile } from 'node:fs/promises';
import type { TansuConfig } from '@tansu/platform/config';
import type { ContextTokenCodec } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { createSubgraphServer } from '@tansu/platform/graphql/subgraph-server';
import type { StreamHub } from '@tansu/platform/events/stream-hub';
import { createDefinitionCache } from './engine/definitions.ts';
import { createRunEngine } from './engine/run-engine.ts';
import { createWorkflowService } from './workflow-service.ts';
import { createSubscriptionResolvers } from './subscriptions.ts';
import { createDefinitionLoader, createWorkflowResolvers, type WorkflowContext } from './resolvers.ts';

export const WORKFLOW_SCHEMA_PATH = new URL('../schema.graphql', import.meta.url);

export async function createWorkflowSubgraph(deps: {
  db: Database;
  codec: ContextTokenCodec;
  logger: Logger;
  config: Pick<TansuConfig, 'limits'>;
  /** The process's event hub; subscriptions are served when it is given. */
  hub?: StreamHub;
}) {
  const service = createWorkflowService({ db: deps.db, engine: createRunEngine({ definitions: createDefinitionCache() }) });
  const server = await createSubgraphServer<WorkflowContext>({
    name: 'workflow',
    typeDefs: await readFile(WORKFLOW_SCHEMA_PATH, 'utf8'),
    resolvers:
      deps.hub === undefined
        ? createWorkflowResolvers(service)
        : { ...createWorkflowResolvers(service, deps.hub), ...createSubscriptionResolvers(service, deps.hub) },
    subscriptions: deps.hub !== undefined,
    codec: deps.codec,
    logger: deps.logger,
    maxBodyBytes: deps.config.limits.maxBodyBytes,
    makeContext: (base) => ({ ...base, definitions: createDefinitionLoader(service, base) }),
    ready: async () => deps.db.global(async (em) => (await em.execute('select 1')).length === 1),
  });
  return { server, service };
}
