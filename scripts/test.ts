import { spawn } from 'node:child_process';
import { glob, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveSecrets } from '@tansu/platform/config';
import { startEmbeddedPostgres } from '@tansu/platform/embedded/postgres';
import { REDIS_MISSING_MESSAGE, redisServerAvailable, startEmbeddedRedis } from '@tansu/platform/embedded/redis';
import { PG_URL_ENV, REDIS_URL_ENV, TEST_SECRET, prepareTemplate } from '@tansu/platform/testing/test-servers';
import { tableOwners } from '@tansu/supergraph/tables';

// `npm test`: one Postgres cluster and one redis-server for the whole run (each test file
// clones its own database from a migrated template), then node's test runner.
const PATTERNS = [
  'platform/test/**/*.test.ts',
  'tenant-core/test/**/*.test.ts',
  'router/test/**/*.test.ts',
  'subgraphs/*/test/**/*.test.ts',
  'supergraph/test/**/*.test.ts',
  'schema/test/**/*.test.ts',
  'tests/**/*.test.ts',
  'scripts/test/**/*.test.ts',
  'clients/*/test/**/*.test.ts',
  'clients/examples/*/test/**/*.test.ts',
];

if (!redisServerAvailable()) {
  console.error(REDIS_MISSING_MESSAGE);
  process.exit(1);
}
const files: string[] = [];
for (const pattern of PATTERNS) for await (const file of glob(pattern, { exclude: (f) => f.includes('node_modules') })) files.push(file);
const selected = process.argv.slice(2).length > 0 ? files.filter((f) => process.argv.slice(2).some((arg) => f.includes(arg))) : files;
// Node's runner given no file would search the whole tree (fixtures included): say so instead.
if (selected.length === 0) {
  console.error(`No test file matches ${process.argv.slice(2).join(' ')}`);
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'tansu-test-run-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), persistent: false });
const redis = await startEmbeddedRedis({ dataDir: join(dir, 'redis'), persistent: false });
let code = 1;
try {
  await prepareTemplate(postgres.url, deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).appDbPassword, await tableOwners());
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...selected.sort()], {
      stdio: 'inherit',
      env: { ...process.env, [PG_URL_ENV]: postgres.url, [REDIS_URL_ENV]: redis.url, NODE_ENV: 'test' },
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 1)));
  });
} finally {
  await redis.stop();
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(code);
