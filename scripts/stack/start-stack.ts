import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deriveSecrets, type SubgraphAddress, type TansuConfig } from '@tansu/platform/config';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { migrate } from '@tansu/platform/db/migrate';
import { startEmbeddedPostgres } from '@tansu/platform/embedded/postgres';
import { REDIS_MISSING_MESSAGE, redisServerAvailable, startEmbeddedRedis } from '@tansu/platform/embedded/redis';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import type { OutboxRelay } from '@tansu/platform/events/outbox-relay';
import type { StartupNotes } from '@tansu/platform/lifecycle';
import type { Logger } from '@tansu/platform/logger';
import { createStopList } from '@tansu/platform/service';
import { startRouter } from '@tansu/router/start-router';
import type { UsageRecorder } from '@tansu/router/usage/usage-recorder';
import { identityEntities } from '@tansu/subgraph-identity/entities';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { tableOwners } from '@tansu/supergraph/tables';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { startWorkers } from '@tansu/workers/start-workers';
import type { WorkflowEngine } from '@tansu/workers/workflow/workflow-engine';

export interface Stack {
  graphqlUrl: string;
  routerUrl: string;
  /** A subgraph's GraphQL URL (straight to it, past the router). */
  subgraphUrl(name: string): string;
  engine: WorkflowEngine;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of this installation's Redis keys. */
  redisNamespace: string;
  /** The router's record of which schema coordinates operations use. */
  usage: UsageRecorder;
  /** For tests and tools: the application role's pool, the owner's pool and a Redis connection. */
  db: Database;
  systemDb: Database;
  redis: Redis;
  relay: OutboxRelay;
  notes: StartupNotes;
  stop(): Promise<void>;
}

/**
 * The whole platform in one process: what production runs as separate deployables, started
 * by the same start functions (every subgraph of the list, the workers, the router). The
 * stack adds only Postgres and Redis (embedded unless URLs are given), the migrations, and
 * in-process addresses: subgraphs and workers listen where the configuration says (port 0 in
 * tests) and the router is pointed at where they actually listen.
 */
export async function startStack(config: Readonly<TansuConfig>, logger: Logger): Promise<Stack> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const secrets = deriveSecrets(config);
    // Fail before anything starts when the one thing we cannot install is missing.
    if (config.redisUrl === undefined && !redisServerAvailable()) throw new Error(REDIS_MISSING_MESSAGE);
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      const pgLog = logger.child({ service: 'postgres' });
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), onLog: (line) => pgLog.debug(line) });
      stops.add(pg.stop);
      databaseUrl = pg.url;
      logger.debug({ port: pg.port }, 'embedded Postgres started');
    }
    let redisUrl = config.redisUrl;
    if (redisUrl === undefined) {
      const redisLog = logger.child({ service: 'redis-server' });
      const redisServer = await startEmbeddedRedis({ dataDir: join(config.dataDir, 'redis'), onLog: (line) => redisLog.debug(line) });
      stops.add(redisServer.stop);
      redisUrl = redisServer.url;
      logger.debug({ port: redisServer.port }, 'redis-server started');
    }
    await migrate({ ownerUrl: databaseUrl, appPassword: secrets.appDbPassword, owners: await tableOwners() });
    const running: TansuConfig = { ...config, databaseUrl, redisUrl };

    const subgraphs: Record<string, SubgraphAddress> = {};
    let notes: StartupNotes = {};
    for (const subgraph of SUBGRAPHS) {
      const start = await subgraph.start();
      const service = await start({ config: running, logger: logger.child({ service: subgraph.name }) });
      stops.add(service.stop);
      subgraphs[subgraph.name] = { port: Number(new URL(service.url).port), url: service.url };
      notes = { ...notes, ...service.notes };
    }
    const workers = await startWorkers({ config: running, logger: logger.child({ service: 'workers' }) }, { port: 0 });
    stops.add(workers.stop);
    const router = await startRouter({ config: { ...running, subgraphs }, logger: logger.child({ service: 'router' }) });
    stops.add(router.stop);

    const db = await openDatabase({
      url: resolveAppDatabaseUrl({ databaseUrl, databaseAppUrl: config.databaseAppUrl }, secrets),
      entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities],
    });
    stops.add(() => db.close());
    const systemDb = await openDatabase({ url: databaseUrl, entities: [OutboxEventEntity], poolMax: 4 });
    stops.add(() => systemDb.close());
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null }).on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
    stops.add(() => redis.disconnect());

    if (router.usage === undefined) throw new Error('the router started without Redis');
    return {
      graphqlUrl: `${router.url}/graphql`,
      routerUrl: router.url,
      subgraphUrl(name) {
        const address = subgraphs[name];
        if (address === undefined) throw new Error(`no subgraph is named ${name}`);
        return `${address.url}/graphql`;
      },
      engine: workers.engine,
      databaseUrl,
      redisUrl,
      redisNamespace: config.redisNamespace,
      usage: router.usage,
      db,
      systemDb,
      redis,
      relay: workers.relay,
      notes,
      stop: stops.stopAll,
    };
  });
}
