import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
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
    cookieKey: secrets.cookieKey,
    config,
  });
  await bootstrapPlatformAdmin({ db, kek: secrets.keyEncryptionKey, auth, logger, email: config.adminEmail, password: config.adminPassword, allowGeneratedPassword: false });
  await serveUntilSignalled({ name: 'identity subgraph', server, port: config.identityPort, host: config.host, logger, alsoClose: [() => db.close()] });
} catch (error) {
  failStartup(error);
}
