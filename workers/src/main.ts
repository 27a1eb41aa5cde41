import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { deriveSecrets, loadConfig } from '@tansu/platform/config';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { CHANNELS, listenForNotifications } from '@tansu/platform/db/notifications';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createOutboxRelay } from '@tansu/platform/events/outbox-relay';
import { sendJson } from '@tansu/platform/http/respond';
import { failStartup, stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { startTenantHousekeeping } from '@tansu/tenant-core/tenant-purge';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { workflowEntities } from '@tansu/subgraph-workflow/entities';
import { startWorkflowEngine } from './workflow-engine.ts';

// The workers deployable: the outbox relay and the workflow engine; /health on PORT.
try {
  const config = loadConfig();
  if (config.databaseUrl === undefined || config.redisUrl === undefined) throw new Error('DATABASE_URL and REDIS_URL are required');
  const logger = createLogger({ level: config.logLevel, service: 'workers' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, deriveSecrets(config)), entities: [...tenantCoreEntities, OutboxEventEntity, ...workflowEntities] });
  const systemDb = await openDatabase({ url: config.databaseUrl, entities: [OutboxEventEntity], poolMax: 4 });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const relay = createOutboxRelay({ systemDb, redis, logger });
  relay.start();
  const engine = await startWorkflowEngine({ db, systemDb, redisUrl: config.redisUrl, logger, config });
  const notifications = listenForNotifications({ url: config.databaseUrl, handlers: { [CHANNELS.outbox]: relay.nudge, [CHANNELS.steps]: engine.nudge }, logger });
  const purge = startTenantHousekeeping({ db, systemDb, redis, logger, delayMs: config.tenantPurgeDelaySeconds * 1000, idleMs: 10_000 });
  const health = createServer((_req, res) => sendJson(res, 200, { status: 'ok', service: 'workers' }));
  health.listen(config.port, config.host);
  logger.info({ port: config.port }, 'workers running: outbox relay, workflow engine');
  stopOnSignals(async () => {
    health.close();
    await notifications.stop();
    await purge.stop();
    await engine.stop();
    await relay.stop();
    redis.disconnect();
    await db.close();
    await systemDb.close();
  }, logger);
} catch (error) {
  failStartup(error);
}
