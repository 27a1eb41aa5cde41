// Load generator, run as its own process so autocannon never shares an event loop
// with a server under test. `node bench/router/load.ts <config.json>`; prints one
// JSON line (LoadResult).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';

export interface LoadConfig {
  title: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Reference response body; every response must match it. */
  expectedBodyFile: string;
  /** Bearer tokens handed to connections round-robin (distinct callers); else `headers` as is. */
  tokens?: string[];
}

export interface LoadResult {
  title: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  completed: number;
  bytesPerSec: number;
  durationSeconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** CPU used by the load generator over warmup + measurement. */
  cpuSeconds: number;
  warmup: { completed: number; non2xx: number; errors: number; timeouts: number; mismatches: number };
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { average: number; p50: number; p99: number };
  throughput: { average: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function run(opts: Record<string, unknown>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function tokenPerConnection(headers: Record<string, string>, tokens: string[]) {
  let next = 0;
  return (client: { setHeaders(h: Record<string, string>): void }) => {
    client.setHeaders({ ...headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` });
  };
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (!configFile) throw new Error('usage: load.ts <config.json>');
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as LoadConfig;
  const expectedText = readFileSync(cfg.expectedBodyFile, 'utf8');
  const expected: unknown = JSON.parse(expectedText);

  // Byte equality is the cheap common case; a semantic comparison keeps the check
  // meaningful for a server whose serialisation varies (e.g. key order in extensions).
  const verifyBody = (body: string): boolean => {
    if (body === expectedText) return true;
    try {
      const parsed = JSON.parse(body) as { data?: unknown; errors?: unknown };
      return parsed.errors === undefined && isDeepStrictEqual(parsed.data, (expected as { data?: unknown }).data);
    } catch {
      return false;
    }
  };

  const base = {
    url: cfg.url,
    method: 'POST',
    headers: cfg.headers,
    body: cfg.body,
    connections: cfg.connections,
    verifyBody,
    ...(cfg.tokens !== undefined && cfg.tokens.length > 1 ? { setupClient: tokenPerConnection(cfg.headers, cfg.tokens) } : {}),
  };
  const cpuStart = process.cpuUsage();
  const warm = await run({ ...base, title: `${cfg.title} warmup`, duration: cfg.warmupSeconds });
  const r = await run({ ...base, title: cfg.title, duration: cfg.durationSeconds });
  const cpu = process.cpuUsage(cpuStart);

  const out: LoadResult = {
    title: cfg.title,
    rps: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    meanMs: r.latency.average,
    completed: r.requests.total,
    bytesPerSec: r.throughput.average,
    durationSeconds: r.duration,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    warmup: {
      completed: warm.requests.total,
      non2xx: warm.non2xx,
      errors: warm.errors,
      timeouts: warm.timeouts,
      mismatches: warm.mismatches,
    },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
