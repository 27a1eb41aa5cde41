import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { Redis } from 'ioredis';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { createWorkflowSubgraph } from './create-workflow-subgraph.ts';
import { workflowEntities } from './entities.ts';

// Runs are executed by the workers deployable; this process serves the GraphQL side,
// subscriptions included (read from the tenants' event streams through one hub).
try {
  const config = loadConfig();
  if (config.redisUrl === undefined) throw new Error('REDIS_URL is required');
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'workflow' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity, ...workflowEntities] });
  const reader = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const control = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const hub = createStreamHub({ reader, control, logger });
  hub.start();
  const { server } = await createWorkflowSubgraph({ db, codec: createContextTokenCodec(secrets.contextKey), logger, config, hub });
  await serveUntilSignalled({
    name: 'workflow subgraph',
    server,
    port: config.workflowPort,
    host: config.host,
    logger,
    alsoClose: [() => hub.stop(), async () => reader.disconnect(), async () => control.disconnect(), () => db.close()],
  });
} catch (error) {
  failStartup(error);
}
