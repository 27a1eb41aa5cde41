import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deriveSecrets, type TansuConfig } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { migrate } from '@tansu/platform/db/migrate';
import { CHANNELS, listenForNotifications } from '@tansu/platform/db/notifications';
import { startEmbeddedPostgres } from '@tansu/platform/embedded/postgres';
import { REDIS_MISSING_MESSAGE, redisServerAvailable, startEmbeddedRedis } from '@tansu/platform/embedded/redis';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createOutboxRelay, type OutboxRelay } from '@tansu/platform/events/outbox-relay';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import type { Logger } from '@tansu/platform/logger';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { createTenantStatusWatcher, publishTenantStatus, syncBlockedTenants } from '@tansu/tenant-core/contracts/tenant-status';
import { startTenantHousekeeping } from '@tansu/tenant-core/tenant-purge';
import { createRequestQuota, publishRequestLimit, requestsThisMinute, syncRequestLimits } from '@tansu/tenant-core/contracts/request-quota';
import { createRateLimiter } from '@tansu/platform/rate-limit';
import { createMailer } from '@tansu/platform/mail/mailer';
import { createSessionRevocations, publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { bootstrapPlatformAdmin } from '@tansu/subgraph-identity/bootstrap-admin';
import { createIdentitySubgraph } from '@tansu/subgraph-identity/create-identity-subgraph';
import { identityEntities } from '@tansu/subgraph-identity/entities';
import { createTenancySubgraph } from '@tansu/subgraph-tenancy/create-tenancy-subgraph';
import { createWorkflowSubgraph } from '@tansu/subgraph-workflow/create-workflow-subgraph';
import { workflowEntities } from '@tansu/subgraph-workflow/entities';
import { startWorkflowEngine, type WorkflowEngine } from '@tansu/workers/workflow-engine';
import { createAuthenticator } from '@tansu/router/auth/authenticator';
import { createRouter } from '@tansu/router/create-router';
import { documentsChannel, documentsKey, publishedSupergraph, watchSupergraph } from '@tansu/schema/registry/supergraph-feed';
import { createHashMirror } from '@tansu/platform/redis/hash-mirror';
import { createPersistedDocuments } from '@tansu/router/http/persisted-documents';
import { createUsageRecorder, type UsageRecorder } from '@tansu/router/usage/usage-recorder';
import { platformSubgraphUrls, httpReadyCheck } from '@tansu/router/platform-wiring';
import { readFile } from 'node:fs/promises';

export interface Stack {
  graphqlUrl: string;
  routerUrl: string;
  subgraphUrls: Record<'identity' | 'tenancy' | 'workflow', string>;
  engine: WorkflowEngine;
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of this installation's Redis keys. */
  redisNamespace: string;
  /** The router's record of which schema coordinates operations use. */
  usage: UsageRecorder;
  db: Database;
  systemDb: Database;
  redis: Redis;
  relay: OutboxRelay;
  admin: { created: boolean; email?: string; generatedPassword?: string };
  stop(): Promise<void>;
}

const SUPERGRAPH = new URL('../../supergraph/supergraph.graphql', import.meta.url);

/**
 * The whole platform in one process: Postgres and Redis (embedded unless URLs are given),
 * migrations, both subgraphs, the outbox relay and the router. `npm run dev` and the
 * end-to-end tests start exactly this; production runs each part as its own deployable.
 */
export async function startStack(config: Readonly<TansuConfig>, logger: Logger): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  // Last started, first stopped: the router and loops before the pools, the embedded servers last.
  // splice empties the list, so a second call (a failed start, then a signal) has nothing to redo.
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn().catch((error: unknown) => logger.warn({ err: error }, 'stop step failed'));
  };
  try {
    const secrets = deriveSecrets(config);
    // Fail before anything starts when the one thing we cannot install is missing.
    if (config.redisUrl === undefined && !redisServerAvailable()) throw new Error(REDIS_MISSING_MESSAGE);
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined) {
      const pgLog = logger.child({ service: 'postgres' });
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), onLog: (line) => pgLog.debug(line) });
      stops.push(pg.stop);
      databaseUrl = pg.url;
      logger.debug({ port: pg.port }, 'embedded Postgres started');
    }
    let redisUrl = config.redisUrl;
    if (redisUrl === undefined) {
      const redisLog = logger.child({ service: 'redis-server' });
      const redisServer = await startEmbeddedRedis({ dataDir: join(config.dataDir, 'redis'), onLog: (line) => redisLog.debug(line) });
      stops.push(redisServer.stop);
      redisUrl = redisServer.url;
      logger.debug({ port: redisServer.port }, 'redis-server started');
    }
    await migrate({ ownerUrl: databaseUrl, appPassword: secrets.appDbPassword });

    const db = await openDatabase({
      url: resolveAppDatabaseUrl({ databaseUrl, databaseAppUrl: config.databaseAppUrl }, secrets),
      entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities, ...workflowEntities],
    });
    stops.push(() => db.close());
    const systemDb = await openDatabase({ url: databaseUrl, entities: [OutboxEventEntity], poolMax: 4 });
    stops.push(() => systemDb.close());
    // ioredis reconnects by itself; without a listener it would print every failed attempt raw.
    const redisConnection = (name: string) => new Redis(redisUrl, { maxRetriesPerRequest: null }).on('error', (error: Error) => logger.warn({ err: error, connection: name }, 'Redis connection error'));
    const redis = redisConnection('commands');
    stops.push(async () => redis.disconnect());

    const codec = createContextTokenCodec(secrets.contextKey);
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger: logger.child({ service: 'mail' }) });
    stops.push(async () => mailer.close());
    const identity = await createIdentitySubgraph({
      db,
      codec,
      logger: logger.child({ service: 'identity' }),
      kek: secrets.keyEncryptionKey,
      cookieKey: secrets.cookieKey,
      mailer,
      limiter: createRateLimiter(redis, config.redisNamespace),
      revokeSessions: (tenantId, userId) => publishSessionRevocation(redis, tenantId, userId),
      config,
    });
    const identityPort = await identity.server.listen(config.identityPort, config.host);
    stops.push(() => identity.server.close());
    await syncBlockedTenants(db, redis);
    const tenancy = await createTenancySubgraph({
      db,
      codec,
      logger: logger.child({ service: 'tenancy' }),
      config,
      mailer,
      publishStatus: (tenantId, status) => publishTenantStatus(redis, tenantId, status),
      quotaStore: { publishRequestLimit: (tenantId, limit) => publishRequestLimit(redis, tenantId, limit), requestsThisMinute: (tenantId) => requestsThisMinute(redis, tenantId) },
      revokeSessions: (tenantId, userId, reason) => publishSessionRevocation(redis, tenantId, userId, { reason }),
    });
    const tenancyPort = await tenancy.server.listen(config.tenancyPort, config.host);
    stops.push(() => tenancy.server.close());

    const engine = await startWorkflowEngine({ db, systemDb, redisUrl, logger: logger.child({ service: 'workflow-engine' }), config });
    stops.push(() => engine.stop());
    const hubReader = redisConnection('stream-hub');
    stops.push(async () => hubReader.disconnect());
    const hub = createStreamHub({ reader: hubReader, control: redis, logger: logger.child({ service: 'stream-hub' }) });
    hub.start();
    stops.push(() => hub.stop());
    const workflow = await createWorkflowSubgraph({ db, codec, logger: logger.child({ service: 'workflow' }), config, onRunnable: engine.nudge, hub });
    const workflowPort = await workflow.server.listen(config.workflowPort, config.host);
    stops.push(() => workflow.server.close());

    const admin = await bootstrapPlatformAdmin({
      db,
      auth: identity.auth,
      logger,
      email: config.adminEmail,
      password: config.adminPassword,
      allowGeneratedPassword: config.mode !== 'production',
    });

    const relay = createOutboxRelay({ systemDb, redis, logger: logger.child({ service: 'outbox-relay' }) });
    relay.start();
    stops.push(() => relay.stop());
    const notifications = listenForNotifications({
      url: databaseUrl,
      handlers: { [CHANNELS.outbox]: relay.nudge, [CHANNELS.steps]: engine.nudge },
      logger: logger.child({ service: 'notifications' }),
    });
    stops.push(() => notifications.stop());

    const statusSubscriber = redisConnection('subscriber');
    stops.push(async () => statusSubscriber.disconnect());
    const tenantStatus = createTenantStatusWatcher({ subscriber: statusSubscriber, reader: redis, logger });
    await tenantStatus.start();
    stops.push(() => tenantStatus.stop());
    await syncRequestLimits(db, redis);
    const requestQuota = createRequestQuota({ subscriber: statusSubscriber, redis, logger });
    await requestQuota.start();
    stops.push(() => requestQuota.stop());
    const registered = createHashMirror({ subscriber: statusSubscriber, redis, key: documentsKey(config.redisNamespace, config.schemaVariant), channel: documentsChannel(config.redisNamespace, config.schemaVariant), logger });
    await registered.start();
    stops.push(() => registered.stop());
    const usage = createUsageRecorder({ redis, namespace: config.redisNamespace, variant: config.schemaVariant, logger });
    usage.start();
    stops.push(() => usage.stop());
    const sessionRevocations = createSessionRevocations({ subscriber: statusSubscriber, redis, logger, maxTokenAgeSeconds: config.accessTokenTtlSeconds });
    await sessionRevocations.start();
    stops.push(() => sessionRevocations.stop());
    const purge = startTenantHousekeeping({ db, systemDb, redis, logger, delayMs: config.tenantPurgeDelaySeconds * 1000, idleMs: 1_000 });
    stops.push(() => purge.stop());

    const urls = {
      identityUrl: `http://127.0.0.1:${identityPort}`,
      tenancyUrl: `http://127.0.0.1:${tenancyPort}`,
      workflowUrl: `http://127.0.0.1:${workflowPort}`,
    };
    const router = await createRouter({
      supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
      subgraphUrls: platformSubgraphUrls(urls),
      authenticator: createAuthenticator({
        publicUrl: config.publicUrl,
        audience: config.jwtAudience,
        jwksUrlTemplate: config.jwksUrlTemplate ?? `${urls.identityUrl}/identity/{tenant}/.well-known/jwks.json`,
      }),
      codec,
      limits: config.limits,
      playground: config.playground,
      corsOrigins: config.corsOrigins,
      publicUrl: config.publicUrl,
      identityUrl: urls.identityUrl,
      tenantStatus,
      requestQuota,
      sessionRevocations,
      anonymousLimit: { limiter: createRateLimiter(redis, config.redisNamespace), perMinute: config.anonymousRatePerMinute },
      usage,
      persistedDocuments: createPersistedDocuments({ lookup: registered.get, only: config.persistedDocumentsOnly }),
      trustedProxyHops: config.trustedProxyHops,
      readinessChecks: {
        postgres: async () => (await db.global((em) => em.execute('select 1'))).length === 1,
        redis: async () => (await redis.ping()) === 'PONG',
        identity: httpReadyCheck(`${urls.identityUrl}/ready`),
        tenancy: httpReadyCheck(`${urls.tenancyUrl}/ready`),
        workflow: httpReadyCheck(`${urls.workflowUrl}/ready`),
      },
      logger: logger.child({ service: 'router' }),
    });
    const routerPort = await router.listen(config.port, config.host);
    stops.push(() => router.close());
    // The committed supergraph starts the stack (it matches the code being run); a schema
    // published to this variant afterwards replaces it live.
    const alreadyPublished = await publishedSupergraph(redis, config.redisNamespace, config.schemaVariant);
    const unwatch = await watchSupergraph({
      subscriber: statusSubscriber,
      reader: redis,
      namespace: config.redisNamespace,
      variant: config.schemaVariant,
      since: alreadyPublished?.id ?? null,
      onChange: (sdl) => router.updateSupergraph(sdl),
      onError: (error) => logger.error({ err: error }, 'a published supergraph could not be loaded; the current one stays'),
    });
    stops.push(unwatch);
    const routerUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${routerPort}`;
    return { graphqlUrl: `${routerUrl}/graphql`, routerUrl, subgraphUrls: platformSubgraphUrls(urls) as Stack['subgraphUrls'],
      engine, databaseUrl, redisUrl, redisNamespace: config.redisNamespace, usage, db, systemDb, redis, relay, admin, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
