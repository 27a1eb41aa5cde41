import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { migrations } from './migrations/index.ts';

export const APP_ROLE = 'tansu_app';

const TENANT_SCHEMAS = ['platform', 'identity', 'workflow'];

/** The non-owner role's connection string: same server and database, its own credentials. */
export function appDatabaseUrl(ownerUrl: string, password: string, role = APP_ROLE): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/**
 * Applies pending migrations as the owner, then (re)creates the application role: it can
 * read and write rows, owns nothing, and so stays under Row Level Security.
 */
export async function migrate(options: { ownerUrl: string; appPassword: string; role?: string }): Promise<{ applied: string[] }> {
  const role = options.role ?? APP_ROLE;
  const orm = await MikroORM.init({
    clientUrl: options.ownerUrl,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: { migrationsList: migrations, tableName: 'tansu_migrations', snapshot: false, silent: true },
  });
  try {
    const applied = await orm.migrator.up();
    const conn = orm.em.getConnection();
    const exists = await conn.execute<{ n: number }[]>(`select count(*)::int as n from pg_roles where rolname = ?`, [role]);
    const quotedRole = `"${role.replaceAll('"', '""')}"`;
    const quotedPassword = `'${options.appPassword.replaceAll("'", "''")}'`;
    if (exists[0]?.n === 0) {
      await conn.execute(`create role ${quotedRole} login password ${quotedPassword} nosuperuser nobypassrls`).catch((error: unknown) => {
        // Two processes migrating at once may both try: the second one finds the role made.
        if (!String(error).includes('already exists')) throw error;
      });
    } else {
      // Roles live in the whole cluster: processes migrating other databases of it at the same
      // moment may update the role too, which Postgres refuses until the other one commits.
      for (let attempt = 1; ; attempt++) {
        try {
          await conn.execute(`alter role ${quotedRole} login password ${quotedPassword} nosuperuser nobypassrls`);
          break;
        } catch (error) {
          if (attempt >= 10 || !String(error).includes('tuple concurrently updated')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    }
    for (const schema of TENANT_SCHEMAS) {
      await conn.execute(`grant usage on schema ${schema} to ${quotedRole}`);
      await conn.execute(`grant select, insert, update, delete on all tables in schema ${schema} to ${quotedRole}`);
      await conn.execute(`grant usage, select on all sequences in schema ${schema} to ${quotedRole}`);
    }
    // The tenant registry has no row security: the application may add tenants, never rename
    // or remove one (a delete would cascade through every tenant's rows, RLS or not).
    await conn.execute(`revoke update, delete, truncate on platform.tenants from ${quotedRole}`);
    // Its status (suspend, resume, mark deleted), settings and plan alone may change; the purge is the owner's.
    await conn.execute(`grant update (status, status_changed_at, settings, plan) on platform.tenants to ${quotedRole}`);
    // Plans are the operator's: the application reads them.
    await conn.execute(`revoke insert, update, delete, truncate on platform.plans from ${quotedRole}`);
    return { applied: applied.map((m) => m.name) };
  } finally {
    await orm.close(true);
  }
}
