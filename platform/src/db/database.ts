import { MikroORM, type EntityManager, type EntitySchema } from '@mikro-orm/postgresql';
import { mapDatabaseError } from './database-errors.ts';

export type { EntityManager };

/**
 * Access to Postgres through MikroORM. Tenant work runs in a transaction whose first
 * statement sets `app.tenant_id`, so Row Level Security sees the caller's tenant and
 * nothing else. `global` runs without a tenant: only global tables answer there.
 */
export interface Database {
  readonly orm: MikroORM;
  withTenant<T>(tenantId: string, work: (em: EntityManager) => Promise<T>): Promise<T>;
  global<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(options: {
  url: string;
  // biome-ignore lint: entity schemas are heterogeneous by nature
  entities: EntitySchema<any, any>[];
  poolMax?: number;
  debug?: boolean;
}): Promise<Database> {
  const orm = await MikroORM.init({
    clientUrl: options.url,
    entities: options.entities,
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: options.poolMax ?? 10 },
    allowGlobalContext: false,
    debug: options.debug ?? false,
    ensureDatabase: false,
  });

  async function run<T>(tenantId: string | undefined, work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await orm.em.fork().transactional(async (em) => {
        if (tenantId !== undefined) await em.execute(`select set_config('app.tenant_id', ?, true)`, [tenantId]);
        return work(em);
      });
    } catch (error) {
      throw mapDatabaseError(error);
    }
  }

  return {
    orm,
    withTenant: (tenantId, work) => run(tenantId, work),
    global: (work) => run(undefined, work),
    close: () => orm.close(true),
  };
}
