import { spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { freePort } from './free-port.ts';

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

/** Starts a `redis-server` child on a free port; it stops with the parent. */
export async function startEmbeddedRedis(options: { dataDir: string; port?: number; persistent?: boolean }): Promise<EmbeddedRedisHandle> {
  if (!redisServerAvailable()) throw new Error(REDIS_MISSING_MESSAGE);
  const port = options.port ?? (await freePort());
  const dir = resolve(options.dataDir);
  await mkdir(dir, { recursive: true });
  const persistence = options.persistent === false ? ['--save', '', '--appendonly', 'no'] : ['--appendonly', 'yes'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', ...persistence],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((ready, fail) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        ready();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`redis-server exited with code ${code} before it was ready:\n${output.slice(-2000)}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((done) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
