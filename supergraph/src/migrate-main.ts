import { deriveSecrets, loadConfig } from '@tansu/platform/config';
import { migrate } from '@tansu/platform/db/migrate';
import { failStartup } from '@tansu/platform/lifecycle';
import { tableOwners } from './tables.ts';

// One-shot deployable: applies every owner's migrations and provisions the application role.
try {
  const config = loadConfig();
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL is required to migrate');
  const { applied } = await migrate({ ownerUrl: config.databaseUrl, appPassword: deriveSecrets(config).appDbPassword, owners: await tableOwners() });
  console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
} catch (error) {
  failStartup(error);
}
