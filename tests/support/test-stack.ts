import { before } from 'node:test';
import { loadConfig, type Env } from '@tansu/platform/config';
import { freePort } from '@tansu/platform/embedded/free-port';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { SUBGRAPHS, onFreePorts } from '@tansu/supergraph/subgraphs';
import { tableOwners } from '@tansu/supergraph/tables';
import { startStack, type Stack } from '@tansu/scripts/stack/start-stack';
import { createGuardedLogger, useRequestGuard, type ExpectedErrorLog, type LogTap } from './request-guard.ts';

export const ADMIN = { email: 'admin@tansu.test', password: 'admin-password-for-tests' };
export const PUBLIC_URL = 'http://tansu.test';

/**
 * The whole platform for one test file: its own database, the shared Redis, real HTTP.
 * Call at the top level of a test file; the stack is ready inside tests. The file fails when
 * the stack logs at error level, except for lines listed in `expectErrorLogs`.
 */
export function useTestStack(
  env: Env = {},
  options: { publicRouter?: boolean; expectErrorLogs?: readonly ExpectedErrorLog[]; logTap?: LogTap } = {},
): { readonly stack: Stack } {
  const holder: { stack?: Stack } = {};
  const stops: (() => Promise<void>)[] = [];
  useRequestGuard({
    expectErrorLogs: options.expectErrorLogs,
    beforeCheck: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  });
  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    stops.push(database.close);
    // Issuer URLs must reach the router when a real OpenID client follows them.
    const routerPort = options.publicRouter === true ? await freePort() : 0;
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        PORT: String(routerPort),
        ...onFreePorts(),
        PUBLIC_URL: options.publicRouter === true ? `http://127.0.0.1:${routerPort}` : PUBLIC_URL,
        DATABASE_URL: database.url,
        REDIS_URL: database.redisUrl,
        // Test files share one Redis; each keeps its queues to itself.
        TANSU_REDIS_NAMESPACE: `test-${crypto.randomUUID()}`,
        TANSU_SECRET: TEST_SECRET,
        TANSU_ADMIN_EMAIL: ADMIN.email,
        TANSU_ADMIN_PASSWORD: ADMIN.password,
        // Unlimited unless a test is about quotas: load in one file must not trip another's limits.
        TANSU_DEFAULT_PLAN: 'enterprise',
        // Every request of a test comes from one address; the tests about the limit set their own.
        TANSU_CREDENTIAL_RATE_PER_MINUTE: '10000',
        TANSU_ANONYMOUS_RATE_PER_MINUTE: '100000',
        ...env,
      },
      { subgraphs: SUBGRAPHS },
    );
    holder.stack = await startStack(config, createGuardedLogger(config.logLevel, 'test', options.logTap));
    stops.push(holder.stack.stop);
  });
  return {
    get stack() {
      if (holder.stack === undefined) throw new Error('the test stack is not started yet');
      return holder.stack;
    },
  };
}
