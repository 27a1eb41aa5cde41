// Child-process bookkeeping for the bench: every server is a tracked child so a
// failure, an early exit or Ctrl-C never leaves stray processes holding ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Service {
  name: string;
  child: ChildProcess;
  /** Set once the process has exited. */
  exit: ExitInfo | undefined;
  exited: Promise<ExitInfo>;
  /** Last lines of combined stdout/stderr, for failure messages. */
  tail(): string;
  stop(): Promise<void>;
}

const TAIL_LINES = 40;
const running = new Set<Service>();

export class BenchError extends Error {}

export function spawnService(name: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Service {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const verbose = process.env.BENCH_VERBOSE === '1';
  // Pipes must always be drained, otherwise a chatty child blocks on write.
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (verbose) process.stderr.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const svc: Service = {
    name,
    child,
    exit: undefined,
    exited: new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        svc.exit = { code, signal };
        running.delete(svc);
        resolve(svc.exit);
      });
      child.once('error', (err) => {
        lines.push(`spawn error: ${err.message}`);
        svc.exit = { code: -1, signal: null };
        running.delete(svc);
        resolve(svc.exit);
      });
    }),
    tail: () => lines.join('\n'),
    stop: async () => {
      if (svc.exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await svc.exited;
      clearTimeout(timer);
    },
  };
  running.add(svc);
  return svc;
}

export function describeExit(svc: Service): string {
  const how = svc.exit?.signal ? `signal ${svc.exit.signal}` : `code ${svc.exit?.code}`;
  const tail = svc.tail();
  return `${svc.name} exited early (${how})${tail ? `; last output:\n${indent(tail)}` : ' with no output'}`;
}

export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Polls `probe` until it returns true; fails fast if the process exits first. */
export async function waitReady(svc: Service, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (svc.exit) throw new BenchError(describeExit(svc));
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (svc.exit) throw new BenchError(describeExit(svc));
  const tail = svc.tail();
  throw new BenchError(`${svc.name} not ready after ${timeoutMs / 1000}s${tail ? `; last output:\n${indent(tail)}` : ''}`);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

let installed = false;

/** Kills children on normal exit, errors and signals. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  // Last resort: 'exit' handlers must be synchronous, so only a kill is possible here.
  process.on('exit', () => {
    for (const s of running) s.child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: received ${sig}, stopping children\n`);
      stopAll().finally(() => process.exit(130));
    });
  }
}

/**
 * User+system CPU seconds a child has used so far (Linux /proc; undefined elsewhere).
 * Printed so a reader can tell whether the router or the shared subgraphs were the
 * bottleneck on a small machine.
 */
export function cpuSeconds(svc: Service): number | undefined {
  if (svc.exit || svc.child.pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${svc.child.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

// USER_HZ is 100 on every mainstream Linux build.
const CLOCK_TICKS_PER_SECOND = 100;
