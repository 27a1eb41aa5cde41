import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { createStopList, localUrl, subgraphAddress, type StartOptions, type StartedService } from '@tansu/platform/service';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { createWorkflowSubgraph } from './create-workflow-subgraph.ts';

/**
 * The workflow subgraph: definitions, runs and their subscriptions (read from the tenants'
 * event streams through one hub). Runs are executed by the workers, which hear of runnable
 * steps from Postgres notifications.
 */
export async function startWorkflowSubgraph({ config, logger }: StartOptions): Promise<StartedService> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const secrets = deriveSecrets(config);
    const address = subgraphAddress(config, 'workflow');
    if (config.redisUrl === undefined) throw new Error('REDIS_URL is required');
    const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity] });
    stops.add(() => db.close());
    const redisConnection = (name: string) =>
      new Redis(config.redisUrl!, { maxRetriesPerRequest: null }).on('error', (error: Error) =>
        logger.warn({ err: error, connection: name }, 'Redis connection error'),
      );
    const reader = redisConnection('stream-hub');
    stops.add(() => reader.disconnect());
    const control = redisConnection('commands');
    stops.add(() => control.disconnect());
    const hub = createStreamHub({ reader, control, namespace: config.redisNamespace, logger: logger.child({ service: 'stream-hub' }) });
    hub.start();
    stops.add(() => hub.stop());
    const { server } = await createWorkflowSubgraph({ db, codec: createContextTokenCodec(secrets.contextKey), logger, config, hub });
    const port = await server.listen(address.port, config.host);
    stops.add(() => server.close());
    return { url: localUrl(config.host, port), stop: stops.stopAll };
  });
}
