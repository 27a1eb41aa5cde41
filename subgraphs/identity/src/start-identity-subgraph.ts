import { Redis } from 'ioredis';
import { deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { openDatabase } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { createMailer } from '@tansu/platform/mail/mailer';
import { createRateLimiter } from '@tansu/platform/rate-limit';
import { createStopList, localUrl, subgraphAddress, type StartOptions, type StartedService } from '@tansu/platform/service';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { tenantCoreEntities } from '@tansu/tenant-core/entities';
import { bootstrapPlatformAdmin } from './bootstrap-admin.ts';
import { createIdentitySubgraph } from './create-identity-subgraph.ts';
import { identityEntities } from './entities.ts';

/** The identity subgraph: users, sessions, every tenant's OpenID issuer; creates the platform administrator on first start. */
export async function startIdentitySubgraph({ config, logger }: StartOptions): Promise<StartedService> {
  const stops = createStopList(logger);
  return stops.guard(async () => {
    const secrets = deriveSecrets(config);
    const address = subgraphAddress(config, 'identity');
    if (config.redisUrl === undefined) throw new Error('REDIS_URL is required (rate limits and lockout)');
    const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities] });
    stops.add(() => db.close());
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }).on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
    stops.add(() => redis.disconnect());
    if (config.smtpUrl === undefined && config.mode === 'production') logger.warn('TANSU_SMTP_URL is unset: account emails are written to the log, not sent');
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger: logger.child({ service: 'mail' }) });
    stops.add(() => mailer.close());
    const { server, auth } = await createIdentitySubgraph({
      db,
      codec: createContextTokenCodec(secrets.contextKey),
      logger,
      kek: secrets.keyEncryptionKey,
      cookieKey: secrets.cookieKey,
      mailer,
      revokeSessions: (tenantId, userId) => publishSessionRevocation(redis, config.redisNamespace, tenantId, userId),
      limiter: createRateLimiter(redis, config.redisNamespace),
      config,
    });
    const port = await server.listen(address.port, config.host);
    stops.add(() => server.close());
    const admin = await bootstrapPlatformAdmin({
      db,
      auth,
      logger,
      email: config.adminEmail,
      password: config.adminPassword,
      allowGeneratedPassword: config.mode !== 'production',
    });
    return { url: localUrl(config.host, port), notes: { admin }, stop: stops.stopAll };
  });
}
