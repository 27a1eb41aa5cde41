import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../embedded/postgres.ts';
import { startEmbeddedRedis } from '../embedded/redis.ts';
import { deriveSecrets } from '../config.ts';
import { appDatabaseUrl, migrate } from '../db/migrate.ts';
import type { TableOwner } from '../db/table-owner.ts';

/** Shared by the test runner and every test file: one secret, one template database. */
export const TEST_SECRET = 'tansu-test-secret-0123456789abcdefghijklmnop';
export const TEMPLATE_DATABASE = 'tansu_template';
export const PG_URL_ENV = 'TANSU_TEST_PG_URL';
export const REDIS_URL_ENV = 'TANSU_TEST_REDIS_URL';

export interface TestServers {
  /** Superuser URL of the cluster (database `postgres`). */
  postgresUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Every owner's tables, loaded only when a template has to be made. */
export type LoadTableOwners = () => Promise<readonly TableOwner[]>;

/** Creates the migrated template every test database is cloned from. */
export async function prepareTemplate(postgresUrl: string, appPassword: string, owners: readonly TableOwner[]): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists ${TEMPLATE_DATABASE}`);
    await client.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await client.end();
  }
  await migrate({ ownerUrl: withDatabase(postgresUrl, TEMPLATE_DATABASE), appPassword, owners });
}

/**
 * Postgres and Redis for tests. The test runner starts them once and passes their URLs in
 * the environment; a test file run on its own starts private ones, migrated with `tables`
 * (the kernel knows no owner's tables: the caller names them).
 */
export async function startTestServers(options: { appPassword: string; tables?: LoadTableOwners }): Promise<TestServers> {
  const sharedPg = process.env[PG_URL_ENV];
  const sharedRedis = process.env[REDIS_URL_ENV];
  if (sharedPg !== undefined && sharedRedis !== undefined) {
    return { postgresUrl: sharedPg, redisUrl: sharedRedis, stop: async () => undefined };
  }
  if (options.tables === undefined) throw new Error('This test file needs the databases `npm test` prepares: run it with `npm test -- <part of its name>`');
  const owners = await options.tables();
  const dir = await mkdtemp(join(tmpdir(), 'tansu-test-'));
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), persistent: false });
  const redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), persistent: false });
  await prepareTemplate(postgres.url, options.appPassword, owners);
  return {
    postgresUrl: postgres.url,
    redisUrl: redis.url,
    async stop() {
      await redis.stop();
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A database of the test file's own, cloned from the migrated template; dropped after. */
export async function createTestDatabase(postgresUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    // Two files cloning at the same instant can collide on the template; a retry settles it.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`create database ${name} template ${TEMPLATE_DATABASE}`);
        break;
      } catch (error) {
        if (attempt >= 10 || !String(error).includes('being accessed by other users')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  } finally {
    await client.end();
  }
  return {
    url: withDatabase(postgresUrl, name),
    async drop() {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** The app role's password in every test database (derived from the test secret). */
export const TEST_APP_PASSWORD = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).appDbPassword;

/** This file's servers and a database of its own; `close` drops it and stops private servers. */
export async function openTestDatabase(
  options: { tables?: LoadTableOwners } = {},
): Promise<{ url: string; appUrl: string; redisUrl: string; owner(): Promise<pg.Client>; close(): Promise<void> }> {
  const servers = await startTestServers({ appPassword: TEST_APP_PASSWORD, tables: options.tables });
  try {
    const database = await createTestDatabase(servers.postgresUrl);
    const clients: pg.Client[] = [];
    return {
      url: database.url,
      appUrl: appDatabaseUrl(database.url, TEST_APP_PASSWORD),
      redisUrl: servers.redisUrl,
      /** A connection as the owner (row security does not apply), closed with the database. */
      async owner() {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        clients.push(client);
        return client;
      },
      async close() {
        for (const client of clients) await client.end().catch(() => undefined);
        await database.drop();
        await servers.stop();
      },
    };
  } catch (error) {
    await servers.stop();
    throw error;
  }
}
