// `npm run bench:workflow`: workflow engine throughput against raw BullMQ, and the latency
// of live run events through the router. One process runs the whole platform (startStack)
// on a private Postgres and Redis; the peer uses the same Redis before the stack starts, so
// the two never compete for the cores. Human lines first; the last stdout line is the JSON
// summary.
//
// Env: BENCH_JOBS (peer no-op jobs, default 3000), BENCH_RUNS (three-step runs, default 3000),
// BENCH_BATCH (runs per startWorkflows call, default 50), BENCH_QUEUED_RUNS (runs of queued steps, default 300),
// BENCH_IN_FLIGHT (concurrent start calls, default 4), BENCH_FIRST_EVENT_RUNS
// (default 50), BENCH_SUB_CLIENTS × BENCH_SUBS_PER_CLIENT (WebSocket connections × runs
// subscriptions on each, default 50 × 20), BENCH_SUB_RUNS (runs watched by them, default 30),
// BENCH_CPU_PROFILE=<dir> to write V8 CPU profiles of the throughput and subscriber phases.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tableOwners } from '@tansu/supergraph/tables';
import type { Stack } from '@tansu/scripts/stack/start-stack';
import { BENCH_ADMIN, startBenchStack } from '../support/bench-stack.ts';
import { createTenant, dataOf, gql, signIn, signUp } from '../../tests/support/graphql-client.ts';
import { BenchError } from '../router/procs.ts';
import { measurePeer, type PeerResult } from './peer.ts';
import { percentile, type FromSubscribers, type SubscriberResult, type ToSubscribers } from './subscribers.ts';

const DEV = { email: 'dev@bench.test', password: 'dev-password-for-bench' };
const TENANT = 'bench';
const WORKFLOW = 'noop3';
/** The step fetcher's concurrency in startStack (createStepFetcher's default); the peer gets the same. */
const ENGINE_WORKER_CONCURRENCY = 20;

const START = 'mutation BenchStart($i: StartWorkflowInput!) { startWorkflow(input: $i) { id } }';
const START_MANY = 'mutation BenchStartMany($i: StartWorkflowsInput!) { startWorkflows(input: $i) { id } }';
/** The same three no-op steps, but each one queued to a worker (delay 0) instead of run inline. */
const QUEUED_WORKFLOW = 'noop3-queued';
const FEED = 'subscription BenchRuns { runs { eventId runId status } }';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new BenchError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => percentile(Float64Array.from(values).sort(), 50);
const streamMs = (eventId: string) => Number(eventId.slice(0, eventId.indexOf('-')));

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineCpuSeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const ticks = fields.map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  // idle and iowait are not work.
  return (total - ticks[3]! - ticks[4]!) / 100;
}

/**
 * CPU seconds of this process's descendants (Postgres, redis-server, the subscriber process)
 * by command, from /proc. Exited Postgres backends count through the postmaster's cutime.
 */
function childCpuSeconds(): Record<'postgres' | 'redis' | 'node', number> {
  const procs = new Map<number, { ppid: number; comm: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the command: state ppid … utime(14) stime(15) cutime(16) cstime(17).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      procs.set(Number(entry), { ppid: Number(fields[1]), comm, seconds: ticks / 100 });
    } catch {
      // The process ended while we looked.
    }
  }
  const totals = { postgres: 0, redis: 0, node: 0 };
  const queue = [process.pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, proc] of procs) {
      if (proc.ppid !== parent) continue;
      queue.push(pid);
      if (proc.comm.startsWith('postgres')) totals.postgres += proc.seconds;
      else if (proc.comm.startsWith('redis')) totals.redis += proc.seconds;
      else totals.node += proc.seconds;
    }
  }
  return totals;
}

/** CPU, event-loop use and wall time over one phase, to show where the time went. */
function cpuMeter() {
  const wall = performance.now();
  const machine = machineCpuSeconds();
  const children = childCpuSeconds();
  const own = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return () => {
    const seconds = (performance.now() - wall) / 1000;
    const usage = process.cpuUsage(own);
    const after = childCpuSeconds();
    return {
      seconds,
      machine: machineCpuSeconds() - machine,
      own: (usage.user + usage.system) / 1e6,
      loop: performance.eventLoopUtilization(elu).utilization,
      postgres: after.postgres - children.postgres,
      redis: after.redis - children.redis,
      node: after.node - children.node,
    };
  };
}
type CpuReading = ReturnType<ReturnType<typeof cpuMeter>>;
function describeCpu(c: CpuReading): string {
  const others = Math.max(0, c.machine - c.own - c.postgres - c.redis - c.node);
  return (
    `CPU over ${fmt(c.seconds, 2)}s (2 cores = ${fmt(2 * c.seconds, 2)} core-s): this process ${fmt(c.own, 2)}s (event loop busy ${fmt(100 * c.loop, 0)}%), ` +
    `Postgres ${fmt(c.postgres, 2)}s, Redis ${fmt(c.redis, 2)}s${c.node > 0.005 ? `, subscriber process ${fmt(c.node, 2)}s` : ''}, ` +
    `other processes on the machine ${fmt(others, 2)}s`
  );
}

/** With BENCH_CPU_PROFILE=<dir>, writes a V8 CPU profile of this process for the phase. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (dir === undefined || dir === '') return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

async function startRun(url: string, token: string, workflow = WORKFLOW): Promise<string> {
  const res = await gql<{ startWorkflow: { id: string } }>(url, START, { token, variables: { i: { workflow } } });
  if (res.body.errors !== undefined || res.body.data?.startWorkflow == null) {
    throw new BenchError(`startWorkflow failed (HTTP ${res.status}): ${JSON.stringify(res.body.errors ?? res.body)}`);
  }
  return res.body.data.startWorkflow.id;
}

/** Starts `count` runs in one startWorkflows call, as the peer adds its jobs with addBulk. */
async function startRuns(url: string, token: string, workflow: string, count: number): Promise<string[]> {
  const res = await gql<{ startWorkflows: { id: string }[] }>(url, START_MANY, {
    token,
    variables: { i: { workflow, runs: Array.from({ length: count }, () => ({})) } },
  });
  if (res.body.errors !== undefined || res.body.data?.startWorkflows == null) {
    throw new BenchError(`startWorkflows failed (HTTP ${res.status}): ${JSON.stringify(res.body.errors ?? res.body)}`);
  }
  return res.body.data.startWorkflows.map((run) => run.id);
}

/** The platform admin creates the tenant; its user signs up, is made DEVELOPER and signs in again. */
async function seed(url: string): Promise<{ token: string; tenantId: string }> {
  const admin = await signIn(url, 'platform', BENCH_ADMIN.email, BENCH_ADMIN.password);
  const tenant = await createTenant(url, admin.accessToken, TENANT, 'Bench Co');
  const user = await signUp(url, TENANT, DEV.email, DEV.password);
  dataOf(
    await gql(url, 'mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { role } }', {
      token: admin.accessToken,
      variables: { i: { tenant: TENANT, userId: user.user.id, role: 'DEVELOPER' } },
    }),
  );
  const dev = await signIn(url, TENANT, DEV.email, DEV.password);
  dataOf(
    await gql(url, 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', {
      token: dev.accessToken,
      variables: {
        i: {
          name: QUEUED_WORKFLOW,
          steps: [
            { id: 'a', type: 'delay', with: { ms: 0 } },
            { id: 'b', type: 'delay', needs: ['a'], with: { ms: 0 } },
            { id: 'c', type: 'delay', needs: ['b'], with: { ms: 0 } },
          ],
        },
      },
    }),
  );
  dataOf(
    await gql(url, 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', {
      token: dev.accessToken,
      variables: {
        i: {
          name: WORKFLOW,
          steps: [
            { id: 'a', type: 'transform', with: { output: 1 } },
            { id: 'b', type: 'transform', needs: ['a'], with: { output: 2 } },
            { id: 'c', type: 'transform', needs: ['b'], with: { output: 3 } },
          ],
        },
      },
    }),
  );
  return { token: dev.accessToken, tenantId: tenant.id };
}

interface OursResult {
  runs: number;
  seconds: number;
  stepsPerS: number;
  runsPerS: number;
  /** When the last startWorkflow call returned. */
  startsSeconds: number;
  cpu: CpuReading;
  breakdown: StepBreakdown;
}

interface StepBreakdown {
  waitP50: number;
  waitAvg: number;
  execP50: number;
  execAvg: number;
  runP50: number;
  runMax: number;
}

/**
 * Where a step's time goes, from the engine's own timestamps: `ready_at → started_at` is the
 * wait for a worker's claim and a free slot; `started_at → finished_at` the step and the
 * batched completion transaction that records it.
 */
async function stepBreakdown(stack: Stack, runIds: string[]): Promise<StepBreakdown> {
  const ms = (from: string, to: string) => `extract(epoch from ${to} - ${from}) * 1000`;
  const [steps] = await stack.systemDb.global((em) =>
    em.execute<{ wait_p50: number; wait_avg: number; exec_p50: number; exec_avg: number }[]>(
      `select percentile_cont(0.5) within group (order by ${ms('ready_at', 'started_at')}) as wait_p50, avg(${ms('ready_at', 'started_at')}) as wait_avg,
              percentile_cont(0.5) within group (order by ${ms('started_at', 'finished_at')}) as exec_p50, avg(${ms('started_at', 'finished_at')}) as exec_avg
       from workflow.steps where run_id in (?)`,
      [runIds],
    ),
  );
  const [runs] = await stack.systemDb.global((em) =>
    em.execute<{ p50: number; max: number }[]>(
      `select percentile_cont(0.5) within group (order by ${ms('created_at', 'finished_at')}) as p50, max(${ms('created_at', 'finished_at')}) as max
       from workflow.runs where id in (?)`,
      [runIds],
    ),
  );
  return {
    waitP50: Number(steps!.wait_p50),
    waitAvg: Number(steps!.wait_avg),
    execP50: Number(steps!.exec_p50),
    execAvg: Number(steps!.exec_avg),
    runP50: Number(runs!.p50),
    runMax: Number(runs!.max),
  };
}

const describeBreakdown = (b: StepBreakdown) =>
  `per step: ready→started p50 ${fmt(b.waitP50)} ms (avg ${fmt(b.waitAvg)}) = claim (notice or poll) + free worker slot; ` +
  `started→finished p50 ${fmt(b.execP50)} ms (avg ${fmt(b.execAvg)}) = step + batched completion; ` +
  `run created→finished p50 ${fmt(b.runP50)} ms, max ${fmt(b.runMax)} ms`;

/** Starts `runs` runs through the router (bounded in flight) and waits until all succeeded. */
async function runBatch(stack: Stack, tenantId: string, token: string, runs: number, inFlight: number, timeoutMs: number, workflow = WORKFLOW, batch = 1) {
  const counts = async () => {
    const [row] = await stack.systemDb.global((em) =>
      em.execute<{ ok: number; bad: number }[]>(
        `select count(*) filter (where status = 'SUCCEEDED')::int as ok,
                count(*) filter (where status in ('FAILED', 'TIMED_OUT', 'CANCELLED'))::int as bad
         from workflow.runs where tenant_id = ?`,
        [tenantId],
      ),
    );
    return row!;
  };
  const before = await counts();
  const ids: string[] = [];
  let startError: unknown;
  let next = 0;
  const t0 = performance.now();
  let startsSeconds = 0;
  const starters = Array.from({ length: Math.min(inFlight, runs) }, async () => {
    while (next < runs && startError === undefined) {
      const count = Math.min(batch, runs - next);
      next += count;
      try {
        ids.push(...(count === 1 ? [await startRun(stack.graphqlUrl, token, workflow)] : await startRuns(stack.graphqlUrl, token, workflow, count)));
      } catch (error) {
        startError = error;
      }
    }
    startsSeconds = Math.max(startsSeconds, (performance.now() - t0) / 1000);
  });
  for (;;) {
    if (startError !== undefined) throw startError;
    const now = await counts();
    if (now.bad > before.bad) throw new BenchError(`${now.bad - before.bad} run(s) did not succeed (FAILED, TIMED_OUT or CANCELLED)`);
    if (now.ok - before.ok >= runs) break;
    if (performance.now() - t0 > timeoutMs) throw new BenchError(`only ${now.ok - before.ok} of ${runs} runs succeeded within ${timeoutMs / 1000}s`);
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(starters);
  return { ids, seconds, startsSeconds };
}

async function measureOurs(
  stack: Stack,
  tenantId: string,
  token: string,
  runs: number,
  inFlight: number,
  batch: number,
  workflow = WORKFLOW,
): Promise<OursResult> {
  // JIT, connection pools and query plans warm up outside the measurement.
  await runBatch(stack, tenantId, token, Math.min(200, runs), inFlight, 60_000, workflow, batch);
  const meter = cpuMeter();
  const { ids, seconds, startsSeconds } = await profiled(workflow === WORKFLOW ? 'ours' : 'ours-queued', () =>
    runBatch(stack, tenantId, token, runs, inFlight, 120_000, workflow, batch),
  );
  const cpu = meter();
  const breakdown = await stepBreakdown(stack, ids);
  return {
    runs,
    seconds,
    stepsPerS: (3 * runs) / seconds,
    runsPerS: runs / seconds,
    startsSeconds,
    cpu,
    breakdown,
  };
}

interface FirstEventResult {
  samples: number[];
  medianMs: number;
  responseMedianMs: number;
  toStreamMedianMs: number;
  streamToClientMedianMs: number;
  /** The same runs' step timings: one run at a time, so no backlog. */
  idle: StepBreakdown;
}

/** One subscriber on the runs feed, remembering when each run's first event arrived and which runs succeeded. */
function openFeed(url: string, token: string) {
  const first = new Map<string, { at: number; wall: number; eventId: string }>();
  const succeeded = new Set<string>();
  const waiters = new Set<() => void>();
  let failure: string | undefined;
  const client: Client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  client.subscribe<{ runs: { eventId: string; runId: string; status: string } }>(
    { query: FEED, operationName: 'BenchRuns' },
    {
      next: (value) => {
        const at = performance.now();
        const wall = Date.now();
        const event = value.data?.runs;
        if (event == null) {
          failure = `subscription error: ${JSON.stringify(value.errors ?? value)}`;
        } else {
          if (!first.has(event.runId)) first.set(event.runId, { at, wall, eventId: event.eventId });
          if (event.status === 'SUCCEEDED') succeeded.add(event.runId);
        }
        notify();
      },
      error: (error) => {
        failure = `subscription ended with an error: ${error instanceof Error ? error.message : JSON.stringify(error)}`;
        notify();
      },
      complete: () => {
        failure ??= 'subscription completed unexpectedly';
        notify();
      },
    },
  );
  const until = (what: string, done: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (failure !== undefined) finish(new BenchError(failure));
        else if (done()) finish();
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(() => finish(new BenchError(`the runs subscriber did not see ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    first,
    firstEvent: (runId: string, timeoutMs: number) => until(`an event of run ${runId}`, () => first.has(runId), timeoutMs),
    success: (runId: string, timeoutMs: number) => until(`run ${runId} succeed`, () => succeeded.has(runId), timeoutMs),
    dispose: () => client.dispose(),
  };
}

/** Starts a run and waits for the feed to show it succeed, a few times: subscriptions have no ack. */
async function warmFeed(url: string, token: string, seen: (runId: string) => Promise<boolean>): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    if (await seen(await startRun(url, token, QUEUED_WORKFLOW))) return;
  }
  throw new BenchError('subscribers did not see a warm-up run succeed after 5 attempts');
}

async function measureStartToFirstEvent(stack: Stack, token: string, runs: number): Promise<FirstEventResult> {
  const wsUrl = stack.graphqlUrl.replace(/^http/, 'ws');
  const feed = openFeed(wsUrl, token);
  try {
    await warmFeed(stack.graphqlUrl, token, (runId) =>
      feed.success(runId, 5_000).then(
        () => true,
        () => false,
      ),
    );
    const samples: number[] = [];
    const responses: number[] = [];
    const toStream: number[] = [];
    const toClient: number[] = [];
    const runIds: string[] = [];
    for (let i = 0; i < runs; i++) {
      // Starting right after the previous run's last event would lock every start to the
      // same point of the outbox relay's 50 ms poll; real starts arrive at random points.
      await sleep(Math.random() * 100);
      const sentWall = Date.now();
      const sent = performance.now();
      const runId = await startRun(stack.graphqlUrl, token, QUEUED_WORKFLOW);
      responses.push(performance.now() - sent);
      runIds.push(runId);
      await feed.firstEvent(runId, 5_000);
      const first = feed.first.get(runId)!;
      samples.push(first.at - sent);
      toStream.push(streamMs(first.eventId) - sentWall);
      toClient.push(first.wall - streamMs(first.eventId));
      // One run at a time: each measurement starts on an idle engine.
      await feed.success(runId, 10_000);
    }
    return {
      samples,
      medianMs: median(samples),
      responseMedianMs: median(responses),
      toStreamMedianMs: median(toStream),
      streamToClientMedianMs: median(toClient),
      idle: await stepBreakdown(stack, runIds),
    };
  } finally {
    await feed.dispose();
  }
}

/** The subscriber child process with a request/response wrapper over IPC. */
function startSubscribers() {
  const child: ChildProcess = fork(fileURLToPath(new URL('./subscribers.ts', import.meta.url)), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const request = <T extends FromSubscribers['type']>(message: ToSubscribers, expect: T, timeoutMs: number) =>
    new Promise<Extract<FromSubscribers, { type: T }>>((resolve, reject) => {
      const done = (error?: Error, reply?: Extract<FromSubscribers, { type: T }>) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error !== undefined) reject(error);
        else resolve(reply!);
      };
      const onMessage = (reply: FromSubscribers) => {
        if (reply.type === 'failed') done(new BenchError(`subscribers: ${reply.message}`));
        else if (reply.type === expect) done(undefined, reply as Extract<FromSubscribers, { type: T }>);
      };
      const onExit = () => done(new BenchError(`the subscriber process exited early${tail.length > 0 ? `:\n${tail.join('\n')}` : ''}`));
      const timer = setTimeout(() => done(new BenchError(`subscribers: no "${expect}" within ${timeoutMs} ms`)), timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  return {
    request,
    send: (message: ToSubscribers) => child.send(message),
    async stop() {
      if (exited) return;
      if (child.connected) child.send({ type: 'close' } satisfies ToSubscribers);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

async function measureSubscribers(
  stack: Stack,
  token: string,
  options: { clients: number; perClient: number; runs: number },
  cleanups: (() => Promise<void>)[],
): Promise<{ result: SubscriberResult; openMs: number; cpu: CpuReading }> {
  const subscribers = startSubscribers();
  cleanups.push(subscribers.stop);
  const wsUrl = stack.graphqlUrl.replace(/^http/, 'ws');
  const opened = await subscribers.request(
    { type: 'open', url: wsUrl, token, clients: options.clients, perClient: options.perClient, timeoutMs: 30_000 },
    'opened',
    35_000,
  );
  await warmFeed(stack.graphqlUrl, token, async (runId) => {
    const probed = await subscribers.request({ type: 'probe', runId, timeoutMs: 5_000 }, 'probed', 10_000);
    return probed.seen === probed.total;
  });
  subscribers.send({ type: 'measure' });
  const meter = cpuMeter();
  const { result } = await profiled('subscribers', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < options.runs; i++) {
      const next = performance.now() + 100;
      runIds.push(await startRun(stack.graphqlUrl, token, QUEUED_WORKFLOW));
      await sleep(Math.max(0, next - performance.now()));
    }
    return subscribers.request({ type: 'expect', runIds, timeoutMs: 30_000 }, 'result', 40_000);
  });
  const cpu = meter();
  await subscribers.stop();
  return { result, openMs: opened.ms, cpu };
}

async function main(): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => console.error(`bench:workflow: cleanup step failed: ${String(error)}`));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench:workflow: received ${signal}, cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const benchStart = performance.now();
    const jobs = envInt('BENCH_JOBS', 3_000);
    const runs = envInt('BENCH_RUNS', 3_000);
    const batch = envInt('BENCH_BATCH', 50);
    const inFlight = envInt('BENCH_IN_FLIGHT', 4);
    const queuedRuns = envInt('BENCH_QUEUED_RUNS', 300);
    const firstEventRuns = envInt('BENCH_FIRST_EVENT_RUNS', 50);
    const subClients = envInt('BENCH_SUB_CLIENTS', 50);
    const subsPerClient = envInt('BENCH_SUBS_PER_CLIENT', 20);
    const subRuns = envInt('BENCH_SUB_RUNS', 30);
    console.log(
      `bench:workflow  peer: ${jobs} no-op BullMQ jobs (addBulk), concurrency ${ENGINE_WORKER_CONCURRENCY}; ours: ${runs} three-step transform runs ` +
        `started ${batch} per startWorkflows call, ${inFlight} calls in flight; ${queuedRuns} three-step queued runs (delay 0, one start per call); ` +
        `${firstEventRuns} sequential runs for first-event latency; ` +
        `${subClients} connections × ${subsPerClient} subscriptions watching ${subRuns} runs`,
    );
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);

    const peerMeter = cpuMeter();
    const peer: PeerResult = await measurePeer({
      redisUrl: database.redisUrl,
      jobs,
      warmupJobs: Math.min(500, jobs),
      concurrency: ENGINE_WORKER_CONCURRENCY,
      timeoutMs: 60_000,
    });
    const peerCpu = peerMeter();
    console.log(
      `peer (raw BullMQ): ${fmt(peer.jobsPerS)} jobs/s — ${peer.jobs} no-op jobs from first addBulk to last completion in ${fmt(peer.seconds, 2)}s ` +
        `(median of 3 batches: ${peer.batches.map((b) => fmt(b, 0)).join(', ')} jobs/s)`,
    );
    console.log(`  ${describeCpu(peerCpu)}`);

    // Above the in-flight step count, so the per-tenant limit never throttles this single tenant.
    // The fan-out subscribers are sockets of one signed-in user: the per-user cap is not what is measured.
    const bench = await startBenchStack({ TANSU_WORKFLOW_TENANT_CONCURRENCY: '200', TANSU_MAX_SOCKETS_PER_USER: '1000' }, database);
    const stack = bench.stack;
    cleanups.push(bench.stop);
    const { token, tenantId } = await seed(stack.graphqlUrl);

    const ours = await measureOurs(stack, tenantId, token, runs, inFlight, batch);
    const ratio = ours.stepsPerS / peer.jobsPerS;
    console.log(
      `ours (tansu engine): ${fmt(ours.stepsPerS)} steps/s, ${fmt(ours.runsPerS)} runs/s — ${runs} runs × 3 steps from the first startWorkflows ` +
        `to the last run SUCCEEDED in ${fmt(ours.seconds, 2)}s (the last start returned at ${fmt(ours.startsSeconds, 2)}s); transform steps run inline`,
    );
    console.log(`  ${describeCpu(ours.cpu)}`);
    console.log(`ratio ours/peer (steps/s ÷ jobs/s): ${fmt(ratio, 3)} (target ≥ 0.3)`);
    // The same shape with every step claimed by a worker from Postgres: the cost of a step with side effects.
    const queued = await measureOurs(stack, tenantId, token, queuedRuns, 20, 1, QUEUED_WORKFLOW);
    console.log(
      `ours, queued steps: ${fmt(queued.stepsPerS)} steps/s, ${fmt(queued.runsPerS)} runs/s — ${queuedRuns} runs × 3 delay-0 steps, each claimed by a worker ` +
        `(ratio to the peer ${fmt(queued.stepsPerS / peer.jobsPerS, 3)})`,
    );
    console.log(`  ${describeCpu(queued.cpu)}`);
    console.log(`  under load, ${describeBreakdown(queued.breakdown)}`);

    const first = await measureStartToFirstEvent(stack, token, firstEventRuns);
    console.log(
      `start→first event: median ${fmt(first.medianMs)} ms over ${first.samples.length} sequential runs — startWorkflow sent through the router ` +
        `until one runs-feed subscriber received the run's first event (QUEUED; runs of three queued steps)`,
    );
    console.log(
      `  medians: mutation response ${fmt(first.responseMedianMs)} ms; sent→written to the stream ${fmt(first.toStreamMedianMs, 0)} ms ` +
        `(includes the outbox relay's poll); stream→subscriber ${fmt(first.streamToClientMedianMs, 0)} ms`,
    );
    console.log(`  one run at a time, ${describeBreakdown(first.idle)}`);

    const subs = await measureSubscribers(stack, token, { clients: subClients, perClient: subsPerClient, runs: subRuns }, cleanups);
    const r = subs.result;
    console.log(
      `subscribers: ${r.subscribers} subscriptions on ${subClients} graphql-ws connections through the router (opened in ${fmt(subs.openMs, 0)} ms, separate process); ` +
        `${subRuns} runs started 100 ms apart`,
    );
    console.log(
      `  event→subscriber latency (receive time − Redis stream id time): p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms (target < 50), ` +
        `max ${r.maxMs} ms, mean ${fmt(r.meanMs)} ms over ${r.samples} events ` +
        `(${r.expectedSamples} if none were coalesced: a lagging subscriber's queue keeps only a run's latest state)`,
    );
    console.log(`  ${describeCpu(subs.cpu)}`);
    if (r.errors.length > 0 || r.incomplete > 0) {
      throw new BenchError(
        `${r.incomplete} of ${r.subscribers} subscribers did not see every run succeed${r.errors.length > 0 ? `; errors: ${r.errors.join('; ')}` : ''}`,
      );
    }
    console.log(`bench:workflow done in ${fmt((performance.now() - benchStart) / 1000)}s`);

    console.log(
      JSON.stringify({
        bench: 'workflow',
        metric: 'steps_per_s',
        ours: round(ours.stepsPerS),
        peer: 'bullmq',
        peerValue: round(peer.jobsPerS),
        ratio: round(ratio, 3),
        runsPerS: round(ours.runsPerS),
        startToFirstEventMs: round(first.medianMs, 1),
        subscriberP50Ms: r.p50Ms,
        subscriberP99Ms: r.p99Ms,
        queuedStepsPerS: round(queued.stepsPerS),
        queuedRatio: round(queued.stepsPerS / peer.jobsPerS, 3),
        queuedReadyToStartedP50Ms: round(first.idle.waitP50, 2),
      }),
    );
    return 0;
  } catch (error) {
    const message = error instanceof BenchError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`bench:workflow FAILED: ${message}`);
    return 1;
  } finally {
    await cleanup();
  }
}

process.exit(await main());
