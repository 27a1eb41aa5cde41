import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
import { Redis } from 'ioredis';
import { createLogger } from '@tansu/platform/logger';
import { createRateLimiter } from '@tansu/platform/rate-limit';
import { createMailer } from '@tansu/platform/mail/mailer';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { bootstrapPlatformAdmin } from './bootstrap-admin.ts';
import { createIdentitySubgraph } from './create-identity-subgraph.ts';
import { identityEntities } from './entities.ts';

try {
  const config = loadConfig();
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'identity' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities] });
  if (config.redisUrl === undefined) throw new Error('REDIS_URL is required (rate limits and lockout)');
  const redis: Redis | undefined = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  if (config.smtpUrl === undefined && config.mode === 'production') logger.warn('TANSU_SMTP_URL is unset: account emails are written to the log, not sent');
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger });
  const { server, auth } = await createIdentitySubgraph({
    db,
    codec: createContextTokenCodec(secrets.contextKey),
    logger,
    kek: secrets.keyEncryptionKey,
    cookieKey: secrets.cookieKey,
    mailer,
    revokeSessions: (tenantId, userId) => publishSessionRevocation(redis, tenantId, userId),
    limiter: redis === undefined ? undefined : createRateLimiter(redis, config.redisNamespace),
    config,
  });
  await bootstrapPlatformAdmin({ db, auth, logger, email: config.adminEmail, password: config.adminPassword, allowGeneratedPassword: false });
  await serveUntilSignalled({ name: 'identity subgraph', server, port: config.identityPort, host: config.host, logger, alsoClose: [async () => redis.disconnect(), async () => mailer.close(), () => db.close()] });
} catch (error) {
  failStartup(error);
}
