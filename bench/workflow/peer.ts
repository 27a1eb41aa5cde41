// The peer of `bench:workflow`: raw BullMQ with no database behind it, configured like our
// engine's step queue (same worker concurrency, stall settings and job options), so the
// ratio shows what durable, fair, evented steps cost over bare queue hand-offs.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BenchError } from '../router/procs.ts';

export interface PeerResult {
  jobs: number;
  /** The median batch. */
  seconds: number;
  jobsPerS: number;
  /** jobs/s of every measured batch. */
  batches: number[];
}

const CHUNK = 500;

export async function measurePeer(options: {
  redisUrl: string;
  jobs: number;
  warmupJobs: number;
  concurrency: number;
  timeoutMs: number;
}): Promise<PeerResult> {
  const prefix = `{bench-peer-${crypto.randomUUID()}}`;
  const queueConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-noop', { connection: queueConnection, prefix });
  let completed = 0;
  let failed = 0;
  let onProgress: (() => void) | undefined;
  const worker = new Worker('bench-noop', async () => undefined, {
    connection: workerConnection,
    prefix,
    concurrency: options.concurrency,
    stalledInterval: 5_000,
    maxStalledCount: 3,
  });
  worker.on('completed', () => {
    completed += 1;
    onProgress?.();
  });
  worker.on('failed', () => {
    failed += 1;
    onProgress?.();
  });
  try {
    await worker.waitUntilReady();
    const batch = async (label: string, count: number): Promise<number> => {
      completed = 0;
      failed = 0;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new BenchError(`peer: ${label} — ${completed} of ${count} jobs completed within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
        onProgress = () => {
          if (failed > 0) {
            clearTimeout(timer);
            reject(new BenchError(`peer: ${failed} no-op job(s) failed`));
          } else if (completed >= count) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      done.catch(() => undefined);
      const start = performance.now();
      for (let i = 0; i < count; i += CHUNK) {
        const n = Math.min(CHUNK, count - i);
        await queue.addBulk(
          Array.from({ length: n }, (_, k) => ({
            name: 'noop',
            data: { i: i + k },
            opts: { jobId: `${label}.${i + k}`, removeOnComplete: true, removeOnFail: 1_000 },
          })),
        );
      }
      await done;
      return (performance.now() - start) / 1000;
    };
    // A short first batch so JIT and connection set-up are not in the measurement.
    await batch('warmup', options.warmupJobs);
    // A batch lasts well under a second, so one stray scheduling hiccup moves it a lot: take the median of three.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await batch(`measured-${i}`, options.jobs));
    const seconds = [...times].sort((a, b) => a - b)[1]!;
    return { jobs: options.jobs, seconds, jobsPerS: options.jobs / seconds, batches: times.map((t) => options.jobs / t) };
  } finally {
    onProgress = undefined;
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    queueConnection.disconnect();
    workerConnection.disconnect();
  }
}
