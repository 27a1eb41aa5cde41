import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { createMailer } from '@tansu/platform/mail/mailer';
import { Redis } from 'ioredis';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { publishTenantStatus, syncBlockedTenants } from '@tansu/tenant-core/contracts/tenant-status';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { publishRequestLimit, requestsThisMinute, syncRequestLimits } from '@tansu/tenant-core/contracts/request-quota';
import { createTenancySubgraph } from './create-tenancy-subgraph.ts';

try {
  const config = loadConfig();
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'tenancy' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity] });
  if (config.redisUrl === undefined) throw new Error('REDIS_URL is required');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  await syncBlockedTenants(db, redis);
  await syncRequestLimits(db, redis);
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger });
  const { server } = await createTenancySubgraph({
    db,
    codec: createContextTokenCodec(secrets.contextKey),
    logger,
    config,
    publishStatus: (tenantId, status) => publishTenantStatus(redis, tenantId, status),
    quotaStore: { publishRequestLimit: (tenantId, limit) => publishRequestLimit(redis, tenantId, limit), requestsThisMinute: (tenantId) => requestsThisMinute(redis, tenantId) },
    mailer,
    revokeSessions: (tenantId, userId, reason) => publishSessionRevocation(redis, tenantId, userId, { reason }),
  });
  await serveUntilSignalled({ name: 'tenancy subgraph', server, port: config.tenancyPort, host: config.host, logger, alsoClose: [async () => redis.disconnect(), async () => mailer.close(), () => db.close()] });
} catch (error) {
  failStartup(error);
}
