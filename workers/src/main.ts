import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig } from '@tansu/platform/config';
import { openDatabase } from '@tansu/platform/db/database';
import { createOutboxRelay } from '@tansu/platform/events/outbox-relay';
import { sendJson } from '@tansu/platform/http/respond';
import { failStartup, stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';

// The workers deployable: today the outbox relay; /health on PORT for orchestrators.
try {
  const config = loadConfig();
  if (config.databaseUrl === undefined || config.redisUrl === undefined) throw new Error('DATABASE_URL and REDIS_URL are required');
  const logger = createLogger({ level: config.logLevel, service: 'workers' });
  const systemDb = await openDatabase({ url: config.databaseUrl, entities: [], poolMax: 2 });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const relay = createOutboxRelay({ systemDb, redis, logger });
  relay.start();
  const health = createServer((_req, res) => sendJson(res, 200, { status: 'ok', service: 'workers' }));
  health.listen(config.port, config.host);
  logger.info({ port: config.port }, 'workers running: outbox relay');
  stopOnSignals(async () => {
    health.close();
    await relay.stop();
    redis.disconnect();
    await systemDb.close();
  }, logger);
} catch (error) {
  failStartup(error);
}
