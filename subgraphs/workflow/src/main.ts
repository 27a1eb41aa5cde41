import { loadConfig, deriveSecrets } from '@tansu/platform/config';
import { createContextTokenCodec } from '@tansu/platform/context-token';
import { openDatabase } from '@tansu/platform/db/database';
import { resolveAppDatabaseUrl } from '@tansu/platform/db/app-database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { failStartup, serveUntilSignalled } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { platformEntities } from '@tansu/platform/tenants/entities';
import { createWorkflowSubgraph } from './create-workflow-subgraph.ts';
import { workflowEntities } from './entities.ts';

// Runs are executed by the workers deployable; this process serves the GraphQL side.
try {
  const config = loadConfig();
  const secrets = deriveSecrets(config);
  const logger = createLogger({ level: config.logLevel, service: 'workflow' });
  const db = await openDatabase({ url: resolveAppDatabaseUrl(config, secrets), entities: [...platformEntities, OutboxEventEntity, ...workflowEntities] });
  const { server } = await createWorkflowSubgraph({ db, codec: createContextTokenCodec(secrets.contextKey), logger, config });
  await serveUntilSignalled({ name: 'workflow subgraph', server, port: config.workflowPort, host: config.host, logger, alsoClose: [() => db.close()] });
} catch (error) {
  failStartup(error);
}
