import { deriveSecrets, loadConfig } from '../config.ts';
import { failStartup } from '../lifecycle.ts';
import { migrate } from './migrate.ts';

// One-shot deployable: applies migrations and provisions the application role.
try {
  const config = loadConfig();
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL is required to migrate');
  const { applied } = await migrate({ ownerUrl: config.databaseUrl, appPassword: deriveSecrets(config).appDbPassword });
  console.log(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
} catch (error) {
  failStartup(error);
}
