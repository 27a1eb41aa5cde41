import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { subgraphEnvPrefix } from '@tansu/platform/config';
import { freePort } from '@tansu/platform/embedded/free-port';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { recordLogLine } from './request-guard.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Each deployable's main.ts: every subgraph of the list, the workers and the router. */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(SUBGRAPHS.map((subgraph) => [subgraph.name, `subgraphs/${subgraph.name}/src/main.ts`])),
  workers: 'workers/src/main.ts',
  router: 'router/src/main.ts',
};

export interface ServiceProcess {
  name: string;
  port: number;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts one deployable as its own process and waits until its /health answers. Its error
 * lines go to the request guard (arm it with useRequestGuard in the test file).
 */
export async function startProcess(name: string, entry: string, env: Record<string, string>, port?: number): Promise<ServiceProcess> {
  const main = ENTRY_POINTS[entry];
  if (main === undefined) throw new Error(`No deployable named ${entry}`);
  const listenPort = port ?? (await freePort());
  // A subgraph listens on its own <NAME>_PORT; the router and the workers on PORT.
  const portVariable = SUBGRAPHS.some((s) => s.name === entry) ? `${subgraphEnvPrefix(entry)}_PORT` : 'PORT';
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, [portVariable]: String(listenPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', (line) => recordLogLine(line, name));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let attempt = 0; ; attempt++) {
    const outcome = await Promise.race([
      fetch(`http://127.0.0.1:${listenPort}/health`).then(
        (r) => r.ok,
        () => false,
      ),
      exited.then(() => 'exited' as const),
    ]);
    if (outcome === true) break;
    if (outcome === 'exited') throw new Error(`${name} exited before it was healthy:\n${output}`);
    if (attempt > 200) throw new Error(`${name} did not become healthy:\n${output}`);
    await sleep(100);
  }
  return {
    name,
    port: listenPort,
    child,
    output: () => output,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
