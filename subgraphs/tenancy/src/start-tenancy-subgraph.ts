import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createStreamHub } from '@tansu/platform/events/stream-hub';
import { createMailer } from '@tansu/platform/mail/mailer';
import { createStopList, localUrl, subgraphAddress, type StartOptions, type StartedService } from '@tansu/platform/service';
import { AUDIT_FEED } from '@tansu/tenant-core/audit-log';
import { publishRequestLimit, requestsThisMinute, syncRequestLimits } from '@tansu/tenant-core/contracts/request-quota';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { publishTenantStatus, syncBlockedTenants } from '@tansu/tenant-core/contracts/tenant-status';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { createTenancySubgraph } from './create-tenancy-subgraph.ts';

/**
 * The tenancy subgraph: tenants, members, plans, the audit log and its live feed (read from the
 * tenants' event streams through one hub); it announces status and limits to the routers through Redis.
 */
export async function startTenancySubgraph({ config, logger }: StartOptions): Promise<StartedService> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const secrets = deriveSecrets(config);
    const address = subgraphAddress(config, 'tenancy');
    const redisUrl = config.redisUrl;
    if (redisUrl === undefined) throw new Error('REDIS_URL is required');
    const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity] });
    stops.add(() => db.close());
    const redisConnection = (name: string) =>
      new Redis(redisUrl, { maxRetriesPerRequest: null }).on('error', (error: Error) =>
        logger.warn({ err: error, connection: name }, 'Redis connection error'),
      );
    const redis = redisConnection('commands');
    stops.add(() => redis.disconnect());
    // The audit log's live feed: one blocking reader for every tenant followed by this process.
    const reader = redisConnection('stream-hub');
    stops.add(() => reader.disconnect());
    const hub = createStreamHub({
      reader,
      control: redis,
      namespace: config.redisNamespace,
      logger: logger.child({ service: 'stream-hub' }),
      feed: AUDIT_FEED,
    });
    hub.start();
    stops.add(() => hub.stop());
    // Routers read these sets; a status or limit change whose publish failed is repaired here.
    const namespace = config.redisNamespace;
    await syncBlockedTenants(db, redis, namespace);
    await syncRequestLimits(db, redis, namespace);
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger: logger.child({ service: 'mail' }) });
    stops.add(() => mailer.close());
    const { server } = await createTenancySubgraph({
      db,
      codec: createContextTokenCodec(secrets.contextKey),
      logger,
      config,
      mailer,
      publishStatus: (tenantId, status) => publishTenantStatus(redis, namespace, tenantId, status),
      quotaStore: {
        publishRequestLimit: (tenantId, limit) => publishRequestLimit(redis, namespace, tenantId, limit),
        requestsThisMinute: (tenantId) => requestsThisMinute(redis, namespace, tenantId),
      },
      revokeSessions: (tenantId, userId, reason) => publishSessionRevocation(redis, namespace, tenantId, userId, { reason }),
      hub,
    });
    const port = await server.listen(address.port, config.host);
    stops.add(() => server.close());
    return { url: localUrl(config.host, port), stop: stops.stopAll };
  });
}
