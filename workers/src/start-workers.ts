import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase } from '@tansu/platform/db/database';
import { CHANNELS, listenForNotifications } from '@tansu/platform/db/notifications';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createOutboxRelay, type OutboxRelay } from '@tansu/platform/events/outbox-relay';
import { closeServer, listen } from '@tansu/platform/http/listen';
import { sendJson } from '@tansu/platform/http/respond';
import { createStopList, localUrl, type StartOptions, type StartedService } from '@tansu/platform/service';
import { feedOfTopic } from '@tansu/tenant-core/audit-log';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { startTenantHousekeeping } from '@tansu/tenant-core/tenant-purge';
import { startWorkflowEngine, type WorkflowEngine } from './workflow/workflow-engine.ts';

export interface StartedWorkers extends StartedService {
  engine: WorkflowEngine;
  relay: OutboxRelay;
}

/**
 * The workers deployable: the outbox relay, the workflow engine and tenant housekeeping, and a
 * `/health` endpoint on `port` (its own, beside the router's and the subgraphs').
 */
export async function startWorkers({ config, logger }: StartOptions, options: { port?: number } = {}): Promise<StartedWorkers> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    if (config.databaseUrl === undefined || config.redisUrl === undefined) throw new Error('DATABASE_URL and REDIS_URL are required');
    const db = await openDatabase({ url: resolveAppDatabaseUrl(config, deriveSecrets(config)), entities: [...tenantCoreEntities, OutboxEventEntity] });
    stops.add(() => db.close());
    // The owner's connection: the relay reads every tenant's outbox and the purge deletes tenants.
    const systemDb = await openDatabase({ url: config.databaseUrl, entities: [OutboxEventEntity], poolMax: 4 });
    stops.add(() => systemDb.close());
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null }).on('error', (error: Error) =>
      logger.warn({ err: error }, 'Redis connection error'),
    );
    stops.add(() => redis.disconnect());
    const relay = createOutboxRelay({
      systemDb,
      redis,
      namespace: config.redisNamespace,
      logger: logger.child({ service: 'outbox-relay' }),
      feedOf: feedOfTopic,
    });
    relay.start();
    stops.add(() => relay.stop());
    const engine = await startWorkflowEngine({ db, systemDb, logger: logger.child({ service: 'workflow-engine' }), config });
    stops.add(() => engine.stop());
    const notifications = listenForNotifications({
      url: config.databaseUrl,
      handlers: { [CHANNELS.outbox]: relay.nudge, [CHANNELS.steps]: engine.nudge },
      logger: logger.child({ service: 'notifications' }),
    });
    stops.add(() => notifications.stop());
    // A due purge is noticed within a tenth of the delay, between one and ten seconds.
    const idleMs = Math.min(10_000, Math.max(1_000, config.tenantPurgeDelaySeconds * 100));
    const purge = startTenantHousekeeping({
      db,
      systemDb,
      redis,
      namespace: config.redisNamespace,
      logger: logger.child({ service: 'tenant-purge' }),
      delayMs: config.tenantPurgeDelaySeconds * 1000,
      idleMs,
    });
    stops.add(() => purge.stop());
    const health = createServer((_req, res) => sendJson(res, 200, { status: 'ok', service: 'workers' }));
    const port = await listen(health, options.port ?? config.port, config.host);
    stops.add(() => closeServer(health));
    return { url: localUrl(config.host, port), engine, relay, stop: stops.stopAll };
  });
}
