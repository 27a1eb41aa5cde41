import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { freePort } from './free-port.ts';
import { spawnTied } from './tied-process.ts';

export interface EmbeddedRedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const REDIS_MISSING_MESSAGE =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, ' +
  'macOS: `brew install redis`) or set REDIS_URL to an existing Redis server.';

export function redisServerAvailable(binary = 'redis-server'): boolean {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * Starts a `redis-server` child on a free port. It is tied to this process (see
 * `spawnTied`): Ctrl-C does not reach it, and it stops when we stop or die.
 */
export async function startEmbeddedRedis(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedRedisHandle> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING_MESSAGE);
  const port = options.port ?? (await freePort());
  const dir = resolve(options.dataDir);
  await mkdir(dir, { recursive: true });
  const persistence = options.persistent === false ? ['--save', '', '--appendonly', 'no'] : ['--appendonly', 'yes'];
  const server = spawnTied(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', ...persistence],
    { stopSignal: 'TERM' },
  );
  server.onLine(options.onLog ?? (() => undefined));
  try {
    await server.waitFor((line) => line.includes('Ready to accept connections'), 'redis-server');
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await server.stop();
    },
  };
}
