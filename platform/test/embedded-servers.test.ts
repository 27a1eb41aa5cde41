import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';

const CHILD = new URL('./fixtures/embedded-child.ts', import.meta.url).pathname;

/** The next stdout line of a child; fails if the child exits first. */
function lines(child: ChildProcessByStdio<null, Readable, Readable>): () => Promise<string> {
  const queue: string[] = [];
  const waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  let rest = '';
  let stderr = '';
  let exited: string | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      const next = waiting.shift();
      if (next === undefined) queue.push(line);
      else next.resolve(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code, signal) => {
    exited = `the child exited (code ${code}, signal ${signal}) ${stderr.slice(-1500)}`;
    for (const next of waiting.splice(0)) next.reject(new Error(exited));
  });
  return () => {
    const line = queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (exited !== undefined) return Promise.reject(new Error(exited));
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

describe('embedded Postgres and Redis', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('are not stopped by a Ctrl-C meant for their parent, and stop when the parent is killed', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tansu-embedded-'));
    dirs.push(dir);
    // Its own process group, as `npm run dev` has at a terminal: Ctrl-C signals the whole group.
    const child = spawn(process.execPath, [CHILD, dir], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    assert.ok(pid !== undefined);
    const nextLine = lines(child);
    const { postgresUrl, redisUrl } = JSON.parse(await nextLine()) as { postgresUrl: string; redisUrl: string };

    process.kill(-pid, 'SIGINT');
    assert.deepEqual(JSON.parse(await nextLine()), { afterSigint: { postgres: '1', redis: 'PONG' } });

    // Our own connections end when the servers go away; nothing but the parent's death stops them.
    const client = new pg.Client({ connectionString: postgresUrl });
    client.on('error', () => undefined);
    await client.connect();
    const redis = new Redis(redisUrl, { retryStrategy: () => null });
    redis.on('error', () => undefined);
    await redis.ping();
    const postgresGone = new Promise<void>((resolve) => client.once('end', () => resolve()));
    const redisGone = new Promise<void>((resolve) => redis.once('end', () => resolve()));
    process.kill(pid, 'SIGKILL');
    await Promise.all([postgresGone, redisGone]);
  });
});
