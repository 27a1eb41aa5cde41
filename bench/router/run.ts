// `npm run bench:router`: our router vs a stock @apollo/gateway over the same four
// federation-benchmark subgraphs, same load, one router process each, run one
// after the other so they never compete for the cores. Last stdout line is the
// JSON summary.
//
// Options: --only peer|ours. Env: BENCH_DURATION (s, default 10), BENCH_WARMUP
// (s, default 3), BENCH_CONNECTIONS (default 50), BENCH_CALLERS (distinct
// callers, default 1), BENCH_VERBOSE=1 to echo child output,
// BENCH_OURS_ENTRY to start a different entry file than router/src/main.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { composeSupergraph } from './compose.ts';
import { BENCH_AUDIENCE, startIssuer, type Issuer } from './identity.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { BenchError, cpuSeconds, describeExit, indent, installCleanupHandlers, spawnService, stopAll, waitReady, type Service } from './procs.ts';
import { SUBGRAPH_NAMES, type SubgraphName } from './subgraphs/resolvers.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));

// The nested query of the public federation benchmark.
const QUERY = `query { users { id username name reviews { id body product { upc name price weight inStock shippingEstimate reviews { id body author { id username name reviews { id body product { upc name } } } } } } } }`;
const REQUEST_BODY = JSON.stringify({ query: QUERY });

type Target = 'ours' | 'peer';

interface Measured {
  target: Target;
  label: string;
  responseBytes: number;
  result: LoadResult;
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new BenchError(`${name} must be a positive number, got "${raw}"`);
  return n;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function postJson(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
}

async function graphqlProbe(url: string): Promise<boolean> {
  const res = await postJson(url, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json' });
  if (!res.ok) return false;
  const json = (await res.json()) as { data?: { __typename?: string } };
  return json.data?.__typename === 'Query';
}

async function healthProbe(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Sends the benchmark query once and insists on a clean, non-trivial answer. */
async function firstResponse(label: string, url: string, headers: Record<string, string>): Promise<string> {
  let res: Response;
  try {
    res = await postJson(url, REQUEST_BODY, headers);
  } catch (err) {
    throw new BenchError(`${label}: benchmark query failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  const snippet = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  if (res.status !== 200) throw new BenchError(`${label}: benchmark query returned HTTP ${res.status}:\n${indent(snippet)}`);
  let json: { data?: { users?: unknown[] } | null; errors?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new BenchError(`${label}: benchmark query returned non-JSON:\n${indent(snippet)}`);
  }
  if (json.errors !== undefined) throw new BenchError(`${label}: benchmark query returned errors:\n${indent(snippet)}`);
  if (!json.data || !Array.isArray(json.data.users) || json.data.users.length === 0) {
    throw new BenchError(`${label}: benchmark query returned no users:\n${indent(snippet)}`);
  }
  return text;
}

function runLoad(cfg: LoadConfig, workDir: string): Promise<LoadResult> {
  const cfgFile = join(workDir, `load-${cfg.title}.json`);
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const loader = spawnService(`autocannon(${cfg.title})`, [join(HERE, 'load.ts'), cfgFile], process.env, REPO_ROOT);
  let stdout = '';
  loader.child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  return loader.exited.then((exit) => {
    const last = stdout.trim().split('\n').pop() ?? '';
    if (exit.code !== 0 || !last.startsWith('{')) {
      throw new BenchError(`load generator failed (code ${exit.code}):\n${indent(loader.tail())}`);
    }
    return JSON.parse(last) as LoadResult;
  });
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  if (values.only !== undefined && values.only !== 'ours' && values.only !== 'peer') {
    throw new BenchError(`--only must be "ours" or "peer", got "${values.only}"`);
  }
  const targets: Target[] = values.only ? [values.only as Target] : ['peer', 'ours'];
  const durationSeconds = envInt('BENCH_DURATION', 10);
  const warmupSeconds = envInt('BENCH_WARMUP', 3);
  const connections = envInt('BENCH_CONNECTIONS', 50);
  // Distinct callers: with one, every connection is the same user (identical fetches may be shared).
  const users = envInt('BENCH_CALLERS', 1);

  const workDir = mkdtempSync(join(tmpdir(), 'tansu-bench-router-'));
  let issuer: Issuer | undefined;
  try {
    // Subgraphs: one process each, shared unchanged by both routers.
    const subgraphPorts = await Promise.all(SUBGRAPH_NAMES.map(() => freePort()));
    const urls = {} as Record<SubgraphName, string>;
    const subgraphs: Service[] = SUBGRAPH_NAMES.map((name, i) => {
      const port = subgraphPorts[i]!;
      urls[name] = `http://127.0.0.1:${port}/graphql`;
      return spawnService(`subgraph ${name}`, [join(HERE, 'subgraphs/serve.ts'), name, String(port)], { ...process.env, NODE_ENV: 'production' }, REPO_ROOT);
    });
    await Promise.all(subgraphs.map((s, i) => waitReady(s, () => graphqlProbe(urls[SUBGRAPH_NAMES[i]!]))));

    const supergraphFile = join(workDir, 'supergraph.graphql');
    composeSupergraph(urls, supergraphFile);

    issuer = await startIssuer(users);
    // Identical request bytes for both routers; the peer just ignores the token.
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${issuer.token}` };

    console.log(
      `bench:router  query=nested(users→reviews→product→reviews→author→reviews→product)  ` +
        `connections=${connections} users=${users} warmup=${warmupSeconds}s duration=${durationSeconds}s  supergraph=${supergraphFile}`,
    );

    const measured: Measured[] = [];
    let reference: { label: string; data: unknown } | undefined;
    for (const target of targets) {
      const port = await freePort();
      const label = target === 'peer' ? '@apollo/gateway' : 'tansu router';
      const router =
        target === 'peer'
          ? spawnService(
              label,
              [join(HERE, 'peer-gateway.ts'), '--supergraph', supergraphFile, '--port', String(port)],
              { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' },
              REPO_ROOT,
            )
          : spawnService(
              label,
              [process.env.BENCH_OURS_ENTRY ?? 'router/src/main.ts', '--supergraph', supergraphFile, '--port', String(port)],
              {
                ...process.env,
                PUBLIC_URL: issuer.publicUrl,
                TANSU_JWKS_URL: `${issuer.publicUrl}/identity/{tenant}/.well-known/jwks.json`,
                TANSU_JWT_AUDIENCE: BENCH_AUDIENCE,
                TANSU_CONTEXT_SECRET: randomBytes(32).toString('base64url'),
                NODE_ENV: 'production',
                LOG_LEVEL: 'warn',
              },
              REPO_ROOT,
            );
      const base = `http://127.0.0.1:${port}`;
      const url = `${base}/graphql`;
      await waitReady(router, target === 'peer' ? () => graphqlProbe(url) : () => healthProbe(`${base}/health`));

      const text = await firstResponse(label, url, headers);
      const data = (JSON.parse(text) as { data: unknown }).data;
      if (reference && !isDeepStrictEqual(reference.data, data)) {
        throw new BenchError(`${label} and ${reference.label} return different data for the benchmark query ` + `(${label}: ${Buffer.byteLength(text)} bytes)`);
      }
      reference ??= { label, data };
      const expectedBodyFile = join(workDir, `expected-${target}.json`);
      writeFileSync(expectedBodyFile, text);
      console.log(`${label}: ready on :${port}, response ${fmt(Buffer.byteLength(text) / 1024)} KB; loading…`);

      const cpuBefore = [cpuSeconds(router), ...subgraphs.map(cpuSeconds)];
      const loadStart = performance.now();
      const result = await runLoad(
        { title: target, url, body: REQUEST_BODY, headers, connections, warmupSeconds, durationSeconds, expectedBodyFile, tokens: issuer.tokens },
        workDir,
      );
      const wallSeconds = (performance.now() - loadStart) / 1000;
      const cpuAfter = [cpuSeconds(router), ...subgraphs.map(cpuSeconds)];
      if (router.exit) throw new BenchError(describeExit(router));
      const down = subgraphs.find((s) => s.exit);
      if (down) throw new BenchError(describeExit(down));
      const failures = result.non2xx + result.errors + result.timeouts + result.mismatches;
      const warmFailures = result.warmup.non2xx + result.warmup.errors + result.warmup.timeouts + result.warmup.mismatches;
      if (failures > 0 || warmFailures > 0 || result.completed === 0) {
        throw new BenchError(
          `${label}: failed requests under load — measured: non2xx=${result.non2xx} errors=${result.errors} ` +
            `timeouts=${result.timeouts} wrongBody=${result.mismatches} completed=${result.completed}; ` +
            `warmup: non2xx=${result.warmup.non2xx} errors=${result.warmup.errors} timeouts=${result.warmup.timeouts} ` +
            `wrongBody=${result.warmup.mismatches}`,
        );
      }
      console.log(
        `${label}: ${fmt(result.rps)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  ` +
          `${result.completed} requests in ${result.durationSeconds}s, ${fmt(result.bytesPerSec / 1048576)} MB/s`,
      );
      const used = cpuAfter.map((after, i) => {
        const before = cpuBefore[i];
        return after !== undefined && before !== undefined ? after - before : undefined;
      });
      if (used.every((u) => u !== undefined)) {
        const [routerCpu = 0, ...subgraphCpu] = used as number[];
        console.log(
          `${label}: CPU over ${fmt(wallSeconds)}s of warmup+load (2 cores = ${fmt(2 * wallSeconds)} core-s): ` +
            `router ${fmt(routerCpu)}s, subgraphs ${fmt(subgraphCpu.reduce((a, b) => a + b, 0))}s, ` +
            `load generator ${fmt(result.cpuSeconds)}s`,
        );
      }
      measured.push({ target, label, responseBytes: Buffer.byteLength(text), result });
      await router.stop();
    }

    const ours = measured.find((m) => m.target === 'ours')?.result;
    const peer = measured.find((m) => m.target === 'peer')?.result;
    const round = (n: number): number => Math.round(n * 100) / 100;
    const ratio = ours && peer && peer.rps > 0 ? round(ours.rps / peer.rps) : null;
    if (ratio !== null) console.log(`ratio ours/peer: ${ratio}`);
    console.log(
      JSON.stringify({
        bench: 'router',
        metric: 'rps',
        ours: ours ? round(ours.rps) : null,
        peer: '@apollo/gateway',
        peerValue: peer ? round(peer.rps) : null,
        ratio,
        oursP99Ms: ours ? ours.p99Ms : null,
        peerP99Ms: peer ? peer.p99Ms : null,
      }),
    );
  } finally {
    await stopAll();
    await issuer?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch(async (err: unknown) => {
  const msg = err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(`bench:router FAILED: ${msg}`);
  await stopAll();
  process.exit(1);
});
