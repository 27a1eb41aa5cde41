import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { platformEntities } from '@tansu/platform/tenants/entities';
import { createTenancySubgraph } from './create-tenancy-subgraph.ts';

try {
  const config = loadConfig();
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'tenancy' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...platformEntities, OutboxEventEntity] });
  const { server } = await createTenancySubgraph({ db, codec: createContextTokenCodec(secrets.contextKey), logger, kek: secrets.keyEncryptionKey, config });
  await serveUntilSignalled({ name: 'tenancy subgraph', server, port: config.tenancyPort, host: config.host, logger, alsoClose: [() => db.close()] });
} catch (error) {
  failStartup(error);
}
