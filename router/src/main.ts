import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { deriveSecrets, loadConfig } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { failStartup, stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { createTenantStatusWatcher } from '@tansu/tenant-core/contracts/tenant-status';
import { createRequestQuota } from '@tansu/tenant-core/contracts/request-quota';
import { documentsChannel, documentsKey, publishedSupergraph, watchSupergraph } from '@tansu/schema/registry/supergraph-feed';
import { createHashMirror } from '@tansu/platform/redis/hash-mirror';
import { createRateLimiter } from '@tansu/platform/rate-limit';
import { createPersistedDocuments } from './http/persisted-documents.ts';
import { createSessionRevocations } from '@tansu/tenant-core/contracts/session-revocations';
import { createAuthenticator } from './auth/authenticator.ts';
import { createRouter } from './create-router.ts';
import { createUsageRecorder } from './usage/usage-recorder.ts';
import { platformSubgraphUrls, httpReadyCheck } from './platform-wiring.ts';

const USAGE = `Usage: node router/src/main.ts [--supergraph PATH] [--port N] [--host H] [--no-auth]

Without --supergraph the router serves the Tansu platform (supergraph/supergraph.graphql).
With --supergraph it fronts any Federation 2 supergraph, using the subgraph URLs in the file.
Authentication stays on unless --no-auth is given.`;

try {
  const { values } = parseArgs({
    options: {
      supergraph: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'no-auth': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, service: 'router' });
  const standalone = values.supergraph !== undefined;
  const supergraphPath = values.supergraph ?? new URL('../../supergraph/supergraph.graphql', import.meta.url);
  const supergraphSdl = await readFile(supergraphPath, 'utf8').catch(() => {
    throw new Error(`Cannot read the supergraph file ${String(supergraphPath)}`);
  });
  const hasSecret = config.secret !== undefined || config.contextSecret !== undefined;
  if (!standalone && !hasSecret) throw new Error('TANSU_SECRET is required (32+ random characters)');
  const codec = hasSecret ? createContextTokenCodec(deriveSecrets(config).contextKey) : undefined;
  const authenticator = values['no-auth']
    ? undefined
    : createAuthenticator({
        publicUrl: config.publicUrl,
        audience: config.jwtAudience,
        jwksUrlTemplate: config.jwksUrlTemplate ?? `${config.identityUrl}/identity/{tenant}/.well-known/jwks.json`,
      });
  if (authenticator === undefined) logger.warn('authentication is OFF: every caller is anonymous and unrestricted');

  const redis = !standalone && config.redisUrl !== undefined ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  // Suspended tenants' tokens are refused; the platform's tenancy service announces changes.
  const statusSubscriber = redis === undefined || config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const tenantStatus = redis === undefined || statusSubscriber === undefined ? undefined : createTenantStatusWatcher({ subscriber: statusSubscriber, reader: redis, logger });
  await tenantStatus?.start();
  const requestQuota = redis === undefined || statusSubscriber === undefined ? undefined : createRequestQuota({ subscriber: statusSubscriber, redis, logger });
  await requestQuota?.start();
  const sessionRevocations =
    redis === undefined || statusSubscriber === undefined ? undefined : createSessionRevocations({ subscriber: statusSubscriber, redis, logger, maxTokenAgeSeconds: config.accessTokenTtlSeconds });
  await sessionRevocations?.start();
  const registered =
    redis === undefined || statusSubscriber === undefined
      ? undefined
      : createHashMirror({ subscriber: statusSubscriber, redis, key: documentsKey(config.redisNamespace, config.schemaVariant), channel: documentsChannel(config.redisNamespace, config.schemaVariant), logger });
  await registered?.start();
  if (config.persistedDocumentsOnly && registered === undefined) throw new Error('TANSU_PERSISTED_DOCUMENTS_ONLY needs REDIS_URL (registered operations come from the registry)');
  const usage = redis === undefined ? undefined : createUsageRecorder({ redis, namespace: config.redisNamespace, variant: config.schemaVariant, logger });
  usage?.start();
  // In production the registry's variant is the truth: the last published supergraph, if any.
  const published = redis === undefined ? null : await publishedSupergraph(redis, config.redisNamespace, config.schemaVariant);
  if (published !== null) logger.info({ variant: config.schemaVariant }, 'serving the published supergraph');
  const router = await createRouter({
    supergraphSdl: published?.sdl ?? supergraphSdl,
    subgraphUrls: standalone ? undefined : platformSubgraphUrls(config),
    authenticator,
    codec,
    limits: config.limits,
    playground: config.playground,
    corsOrigins: config.corsOrigins,
    publicUrl: config.publicUrl,
    identityUrl: standalone ? undefined : config.identityUrl,
    tenantStatus,
    requestQuota,
    sessionRevocations,
    anonymousLimit: redis === undefined ? undefined : { limiter: createRateLimiter(redis, config.redisNamespace), perMinute: config.anonymousRatePerMinute },
    usage,
    persistedDocuments: registered === undefined ? undefined : createPersistedDocuments({ lookup: registered.get, only: config.persistedDocumentsOnly }),
    trustedProxyHops: config.trustedProxyHops,
    readinessChecks: standalone
      ? {}
      : {
          identity: httpReadyCheck(`${config.identityUrl}/ready`),
          tenancy: httpReadyCheck(`${config.tenancyUrl}/ready`),
          workflow: httpReadyCheck(`${config.workflowUrl}/ready`),
          ...(redis === undefined ? {} : { redis: async () => (await redis.ping()) === 'PONG' }),
        },
    logger,
  });
  const unwatch =
    redis === undefined || statusSubscriber === undefined
      ? undefined
      : await watchSupergraph({
          subscriber: statusSubscriber,
          reader: redis,
          namespace: config.redisNamespace,
          variant: config.schemaVariant,
          since: published?.id ?? null,
          onChange: (sdl) => {
            logger.info({ variant: config.schemaVariant }, 'switching to a newly published supergraph');
            router.updateSupergraph(sdl);
          },
          onError: (error) => logger.error({ err: error }, 'a published supergraph could not be loaded; the current one stays'),
        });
  const port = await router.listen(config.port, config.host);
  logger.info({ port }, `GraphQL endpoint: http://${config.host}:${port}/graphql`);
  stopOnSignals(async () => {
    await unwatch?.();
    await router.close();
    await usage?.stop();
    await registered?.stop();
    await tenantStatus?.stop();
    await requestQuota?.stop();
    await sessionRevocations?.stop();
    statusSubscriber?.disconnect();
    redis?.disconnect();
  }, logger);
} catch (error) {
  failStartup(error);
}
