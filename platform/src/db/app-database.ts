import type { DerivedSecrets, TansuConfig } from '../config.ts';
import { appDatabaseUrl } from './migrate.ts';

/** The application role's URL: explicit, or derived from the owner URL and the master secret. */
export function resolveAppDatabaseUrl(config: Pick<TansuConfig, 'databaseUrl' | 'databaseAppUrl'>, secrets: DerivedSecrets): string {
  if (config.databaseAppUrl !== undefined) return config.databaseAppUrl;
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL (or DATABASE_APP_URL) is required');
  return appDatabaseUrl(config.databaseUrl, secrets.appDbPassword);
}
