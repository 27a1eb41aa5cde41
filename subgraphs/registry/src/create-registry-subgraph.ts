import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { TansuConfig } from '@tansu/platform/config';
import type { ContextTokenCodec } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { createSubgraphServer, type SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import type { Logger } from '@tansu/platform/logger';
import { createRegistryService } from './registry-service.ts';
import { createRegistryResolvers } from './resolvers.ts';

export const REGISTRY_SCHEMA_PATH = new URL('../schema.graphql', import.meta.url);

export async function createRegistrySubgraph(deps: {
  /** The application role: it may only read the registry's tables. */
  db: Database;
  /** Where the routers record field usage. */
  redis: Redis;
  codec: ContextTokenCodec;
  logger: Logger;
  config: Pick<TansuConfig, 'limits' | 'redisNamespace' | 'schemaVariant'>;
  /** What routers serve before a variant's first publish. */
  committedSupergraph: string;
  now?: () => number;
}) {
  const service = createRegistryService({
    db: deps.db,
    redis: deps.redis,
    namespace: deps.config.redisNamespace,
    servedVariant: deps.config.schemaVariant,
    committedSupergraph: deps.committedSupergraph,
    now: deps.now,
  });
  const server = await createSubgraphServer<SubgraphContext>({
    name: 'registry',
    typeDefs: await readFile(REGISTRY_SCHEMA_PATH, 'utf8'),
    resolvers: createRegistryResolvers(service),
    codec: deps.codec,
    logger: deps.logger,
    maxBodyBytes: deps.config.limits.maxBodyBytes,
    makeContext: (base) => base,
    ready: async () => (await deps.db.global(async (em) => (await em.execute('select 1')).length === 1)) && (await deps.redis.ping()) === 'PONG',
  });
  return { server, service };
}
