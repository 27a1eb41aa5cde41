import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase } from '@tansu/platform/db/database';
import { createStopList, localUrl, subgraphAddress, type StartOptions, type StartedService } from '@tansu/platform/service';
import { createRegistrySubgraph } from './create-registry-subgraph.ts';

/** The supergraph committed beside the list of subgraphs: what routers serve until a variant is published. */
const COMMITTED_SUPERGRAPH = new URL('../../../supergraph/supergraph.graphql', import.meta.url);

/** The registry subgraph: the schema registry's variants, versions, checks and field usage, for platform administrators. */
export async function startRegistrySubgraph({ config, logger }: StartOptions): Promise<StartedService> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const secrets = deriveSecrets(config);
    const address = subgraphAddress(config, 'registry');
    if (config.redisUrl === undefined) throw new Error('REDIS_URL is required');
    const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [], poolMax: 4 });
    stops.add(() => db.close());
    // A request that cannot reach Redis fails at once rather than waiting for it to come back.
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }).on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
    stops.add(() => redis.disconnect());
    const { server } = await createRegistrySubgraph({
      db,
      redis,
      codec: createContextTokenCodec(secrets.contextKey),
      logger,
      config,
      committedSupergraph: await readFile(COMMITTED_SUPERGRAPH, 'utf8'),
    });
    const port = await server.listen(address.port, config.host);
    stops.add(() => server.close());
    return { url: localUrl(config.host, port), stop: stops.stopAll };
  });
}
