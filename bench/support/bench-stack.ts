import { loadConfig, type Env } from '@tansu/platform/config';
import { createLogger } from '@tansu/platform/logger';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { SUBGRAPHS, onFreePorts } from '@tansu/supergraph/subgraphs';
import { tableOwners } from '@tansu/supergraph/tables';
import { startStack, type Stack } from '@tansu/scripts/stack/start-stack';

export const BENCH_ADMIN = { email: 'admin@bench.test', password: 'admin-password-for-bench' };

export type BenchDatabase = Awaited<ReturnType<typeof openTestDatabase>>;

/**
 * The whole platform in this process on a private Postgres and Redis, as benchmarks use it.
 * `stop` also drops the database and stops the servers, unless the caller brought its own.
 */
export async function startBenchStack(env: Env = {}, given?: BenchDatabase): Promise<{ stack: Stack; database: BenchDatabase; stop(): Promise<void> }> {
  const database = given ?? (await openTestDatabase({ tables: tableOwners }));
  const closeDatabase = given === undefined ? () => database.close() : async () => undefined;
  try {
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        PORT: '0',
        ...onFreePorts(),
        PUBLIC_URL: 'http://tansu.bench',
        DATABASE_URL: database.url,
        REDIS_URL: database.redisUrl,
        TANSU_REDIS_NAMESPACE: `bench-${crypto.randomUUID()}`,
        TANSU_SECRET: TEST_SECRET,
        TANSU_ADMIN_EMAIL: BENCH_ADMIN.email,
        TANSU_ADMIN_PASSWORD: BENCH_ADMIN.password,
        // Quotas are counted (a real plan) but generous enough not to cap the measurement.
        TANSU_DEFAULT_PLAN: 'pro',
        ...env,
      },
      { subgraphs: SUBGRAPHS },
    );
    const stack = await startStack(config, createLogger({ level: config.logLevel, service: 'bench' }));
    return {
      stack,
      database,
      async stop() {
        await stack.stop();
        await closeDatabase();
      },
    };
  } catch (error) {
    await closeDatabase();
    throw error;
  }
}
