import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { createRateLimiter } from '@tansu/platform/rate-limit';
import { createHashMirror } from '@tansu/platform/redis/hash-mirror';
import { createStopList, localUrl, subgraphAddress, type StartOptions, type StartedService } from '@tansu/platform/service';
import { documentsChannel, documentsKey, publishedSupergraph, watchSupergraph } from '@tansu/schema/registry/supergraph-feed';
import { SUPERGRAPH_PATH } from '@tansu/supergraph/subgraphs';
import { createRequestQuota } from '@tansu/tenant-core/contracts/request-quota';
import { createSessionRevocations } from '@tansu/tenant-core/contracts/session-revocations';
import { createTenantStatusWatcher } from '@tansu/tenant-core/contracts/tenant-status';
import { createAuthenticator } from './auth/authenticator.ts';
import { createRouter } from './create-router.ts';
import { createPersistedDocuments } from './http/persisted-documents.ts';
import { createUsageRecorder, type UsageRecorder } from './usage/usage-recorder.ts';

// Built by `npm run build:console` (npm ci runs it).
const CONSOLE_DIR = fileURLToPath(new URL('../../clients/console/dist/', import.meta.url));

export interface RouterOptions {
  /** Front this Federation 2 supergraph, at the subgraph URLs written in it, instead of the platform's. */
  supergraphPath?: string | URL;
  /** Every caller anonymous and unrestricted. */
  noAuth?: boolean;
}

export interface StartedRouter extends StartedService {
  /** The record of which schema coordinates operations use (absent without Redis). */
  usage: UsageRecorder | undefined;
}

/**
 * The router: the one endpoint. For the platform it serves the registry's last published
 * supergraph for this variant (the committed file until one is published) and follows
 * later publications; with `supergraphPath` it fronts any supergraph on its own.
 */
export async function startRouter({ config, logger }: StartOptions, options: RouterOptions = {}): Promise<StartedRouter> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const standalone = options.supergraphPath !== undefined;
    const supergraphPath = options.supergraphPath ?? SUPERGRAPH_PATH;
    const supergraphSdl = await readFile(supergraphPath, 'utf8').catch(() => {
      throw new Error(`Cannot read the supergraph file ${String(supergraphPath)}`);
    });
    const hasSecret = config.secret !== undefined || config.contextSecret !== undefined;
    if (!standalone && !hasSecret) throw new Error('TANSU_SECRET is required (32+ random characters)');
    // The platform's router forwards the issuers' pages to identity and reads its keys there.
    const identityUrl = standalone ? undefined : subgraphAddress(config, 'identity').url;
    const codec = hasSecret ? createContextTokenCodec(deriveSecrets(config).contextKey) : undefined;
    const authenticator = options.noAuth
      ? undefined
      : createAuthenticator({
          publicUrl: config.publicUrl,
          audience: config.jwtAudience,
          jwksUrlTemplate: config.jwksUrlTemplate ?? `${identityUrl ?? ''}/identity/{tenant}/.well-known/jwks.json`,
        });
    if (authenticator === undefined) logger.warn('authentication is OFF: every caller is anonymous and unrestricted');

    const redisUrl = standalone ? undefined : config.redisUrl;
    if (config.persistedDocumentsOnly && redisUrl === undefined)
      throw new Error('TANSU_PERSISTED_DOCUMENTS_ONLY needs REDIS_URL (registered operations come from the registry)');
    const connection = (url: string, name: string, maxRetriesPerRequest: number | null) =>
      new Redis(url, { maxRetriesPerRequest }).on('error', (error: Error) => logger.warn({ err: error, connection: name }, 'Redis connection error'));
    const redis = redisUrl === undefined ? undefined : connection(redisUrl, 'commands', 1);
    if (redis !== undefined) stops.add(() => redis.disconnect());
    // Tenant status, limits, revocations and registered documents change on other processes' word.
    const subscriber = redisUrl === undefined ? undefined : connection(redisUrl, 'subscriber', null);
    if (subscriber !== undefined) stops.add(() => subscriber.disconnect());
    const shared = redis !== undefined && subscriber !== undefined ? { redis, subscriber } : undefined;

    const tenantStatus = shared && createTenantStatusWatcher({ subscriber: shared.subscriber, reader: shared.redis, namespace: config.redisNamespace, logger });
    const requestQuota = shared && createRequestQuota({ subscriber: shared.subscriber, redis: shared.redis, namespace: config.redisNamespace, logger });
    const sessionRevocations =
      shared &&
      createSessionRevocations({
        subscriber: shared.subscriber,
        redis: shared.redis,
        namespace: config.redisNamespace,
        logger,
        maxTokenAgeSeconds: config.accessTokenTtlSeconds,
      });
    const registered =
      shared &&
      createHashMirror({
        subscriber: shared.subscriber,
        redis: shared.redis,
        key: documentsKey(config.redisNamespace, config.schemaVariant),
        channel: documentsChannel(config.redisNamespace, config.schemaVariant),
        logger,
      });
    for (const mirror of [tenantStatus, requestQuota, sessionRevocations, registered]) {
      if (mirror === undefined) continue;
      await mirror.start();
      stops.add(() => mirror.stop());
    }
    const usage = redis && createUsageRecorder({ redis, namespace: config.redisNamespace, variant: config.schemaVariant, logger });
    if (usage !== undefined) {
      usage.start();
      stops.add(() => usage.stop());
    }
    const published = redis === undefined ? null : await publishedSupergraph(redis, config.redisNamespace, config.schemaVariant);
    if (published !== null) logger.info({ variant: config.schemaVariant }, 'serving the published supergraph');

    const subgraphs = standalone ? {} : config.subgraphs;
    const router = await createRouter({
      supergraphSdl: published?.sdl ?? supergraphSdl,
      subgraphUrls: standalone ? undefined : Object.fromEntries(Object.entries(subgraphs).map(([name, { url }]) => [name, `${url}/graphql`])),
      authenticator,
      codec,
      limits: config.limits,
      playground: config.playground,
      corsOrigins: config.corsOrigins,
      publicUrl: config.publicUrl,
      identityUrl,
      tenantStatus,
      requestQuota,
      sessionRevocations,
      anonymousLimit: redis && { limiter: createRateLimiter(redis, config.redisNamespace), perMinute: config.anonymousRatePerMinute },
      usage,
      persistedDocuments: registered && createPersistedDocuments({ lookup: registered.get, only: config.persistedDocumentsOnly }),
      trustedProxyHops: config.trustedProxyHops,
      consoleDir: standalone ? undefined : CONSOLE_DIR,
      readinessChecks: {
        ...(redis === undefined ? {} : { redis: async () => (await redis.ping()) === 'PONG' }),
        ...Object.fromEntries(Object.entries(subgraphs).map(([name, { url }]) => [name, httpReadyCheck(`${url}/ready`)])),
      },
      logger,
    });
    // Closed after the supergraph watch stops, so no update reaches a stopped gateway.
    stops.add(() => router.close());
    if (shared !== undefined) {
      const unwatch = await watchSupergraph({
        subscriber: shared.subscriber,
        reader: shared.redis,
        namespace: config.redisNamespace,
        variant: config.schemaVariant,
        since: published?.id ?? null,
        onChange: (sdl) => {
          logger.info({ variant: config.schemaVariant }, 'switching to a newly published supergraph');
          router.updateSupergraph(sdl);
        },
        onError: (error) => logger.error({ err: error }, 'a published supergraph could not be loaded; the current one stays'),
      });
      stops.add(unwatch);
    }
    const port = await router.listen(config.port, config.host);
    const url = localUrl(config.host, port);
    logger.info({ port }, `GraphQL endpoint: ${url}/graphql`);
    return { url, usage, stop: stops.stopAll };
  });
}

/** A readiness probe: the dependency answers 2xx within two seconds. */
function httpReadyCheck(url: string): () => Promise<boolean> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  };
}
