import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { failStartup, stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { platformEntities } from '@tansu/platform/tenants/entities';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { bootstrapPlatformAdmin } from './bootstrap-admin.ts';
import { createIdentitySubgraph } from './create-identity-subgraph.ts';
import { identityEntities } from './entities.ts';

try {
  const config = loadConfig();
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'identity' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...platformEntities, OutboxEventEntity, ...identityEntities] });
  const { server, auth } = await createIdentitySubgraph({
    db,
    codec: createContextTokenCodec(secrets.contextKey),
    logger,
    kek: secrets.keyEncryptionKey,
    publicUrl: config.publicUrl,
    audience: config.jwtAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    maxBodyBytes: config.limits.maxBodyBytes,
  });
  await bootstrapPlatformAdmin({ db, kek: secrets.keyEncryptionKey, auth, logger, email: config.adminEmail, password: config.adminPassword, allowGeneratedPassword: false });
  const port = await server.listen(config.identityPort, config.host);
  logger.info({ port }, 'identity subgraph listening');
  stopOnSignals(async () => {
    await server.close();
    await db.close();
  }, logger);
} catch (error) {
  failStartup(error);
}
