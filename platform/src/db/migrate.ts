import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { kernelTables } from './migrations/index.ts';
import type { OwnedMigration, TableOwner } from './table-owner.ts';

export const APP_ROLE = 'tansu_app';

/** The non-owner role's connection string: same server and database, its own credentials. */
export function appDatabaseUrl(ownerUrl: string, password: string, role = APP_ROLE): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/**
 * Every owner's migrations in one sequence. Names carry a number shared across owners (a new
 * migration takes the next free one), so sorting by name replays the order they were written in.
 */
export function migrationSequence(owners: readonly TableOwner[]): OwnedMigration[] {
  const all = [kernelTables, ...owners].flatMap((owner) => owner.migrations);
  const seen = new Set<string>();
  for (const { name } of all) {
    if (seen.has(name)) throw new Error(`Two migrations are named ${name}`);
    seen.add(name);
  }
  return all.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Applies pending migrations of the kernel and of `owners` as the database owner, then
 * (re)creates the application role: it can read and write rows, owns nothing, and so stays
 * under Row Level Security.
 */
export async function migrate(options: {
  ownerUrl: string;
  appPassword: string;
  owners: readonly TableOwner[];
  role?: string;
}): Promise<{ applied: string[] }> {
  const role = options.role ?? APP_ROLE;
  const owners = [kernelTables, ...options.owners];
  const orm = await MikroORM.init({
    clientUrl: options.ownerUrl,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: { migrationsList: migrationSequence(options.owners), tableName: 'tansu_migrations', snapshot: false, silent: true },
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
    for (const schema of new Set(owners.flatMap((owner) => owner.appSchemas))) {
      await conn.execute(`grant usage on schema ${schema} to ${quotedRole}`);
      await conn.execute(`grant select, insert, update, delete on all tables in schema ${schema} to ${quotedRole}`);
      await conn.execute(`grant usage, select on all sequences in schema ${schema} to ${quotedRole}`);
    }
    for (const owner of owners) for (const statement of owner.narrowGrants?.(quotedRole) ?? []) await conn.execute(statement);
    return { applied: applied.map((m) => m.name) };
  } finally {
    await orm.close(true);
  }
}
