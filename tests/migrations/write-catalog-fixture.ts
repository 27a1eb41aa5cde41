/**
 * Writes the catalog snapshot of a freshly migrated database, the reference a change to how
 * migrations are laid out must reproduce. It migrates two fresh databases and refuses to write
 * unless their snapshots agree, so the fixture holds nothing that varies from run to run.
 *
 *   node tests/migrations/write-catalog-fixture.ts [output]   (default: the fixture beside it)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '@tansu/platform/db/migrate';
import { startEmbeddedPostgres } from '@tansu/platform/embedded/postgres';
import { TEST_APP_PASSWORD, withDatabase } from '@tansu/platform/testing/test-servers';
import { catalogSnapshot } from '../support/catalog-snapshot.ts';

const output = process.argv[2] ?? new URL('./fixtures/catalog-before-owners.txt', import.meta.url).pathname;

async function migratedSnapshot(serverUrl: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, database);
  await migrate({ ownerUrl: url, appPassword: TEST_APP_PASSWORD });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await catalogSnapshot(client);
  } finally {
    await client.end();
  }
}

// Under /tmp: as root the server runs as `postgres`, which must be able to create its data dir.
const dir = await mkdtemp(join(tmpdir(), 'tansu-catalog-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), persistent: false });
try {
  const first = await migratedSnapshot(postgres.url, 'catalog_first');
  const second = await migratedSnapshot(postgres.url, 'catalog_second');
  if (first !== second) throw new Error('Two fresh databases migrated alike gave different snapshots: the snapshot holds something that varies.');
  await writeFile(output, first);
  console.log(`${output}: ${first.split('\n').length - 1} lines`);
} finally {
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
