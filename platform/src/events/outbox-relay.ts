import type { Redis } from 'ioredis';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { createPollLoop } from '../poll-loop.ts';
import { tenantStreamKey } from './outbox.ts';

interface PendingRow {
  id: string;
  tenant_id: string;
  topic: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

const RELAY_LOCK = 72_616_002;

/** After a failed batch (Redis or Postgres away) the relay waits before trying again. */
const FAILURE_DELAY_MS = 1_000;

export interface OutboxRelay {
  /** Moves one batch; returns how many events it published. */
  drainOnce(): Promise<number>;
  /** Deletes published rows past their retention (at most once a minute). */
  purgePublished(): Promise<void>;
  start(): void;
  /** Move now: rows were committed. */
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * Moves outbox rows to per-tenant Redis Streams in id order. It reads every tenant's rows,
 * so it needs the owner connection (`systemDb`): the one place that bypasses RLS on purpose.
 * Delivery is at least once: the stream entry carries the outbox id for consumers to dedupe.
 */
export function createOutboxRelay(deps: {
  systemDb: Database;
  redis: Redis;
  namespace: string;
  logger: Logger;
  batchSize?: number;
  idleDelayMs?: number;
  maxStreamLength?: number;
  /** Published rows are kept this long (for inspection), then deleted. */
  retentionMs?: number;
  /** The feed of a topic that has its own stream; others go to DEFAULT_FEED. */
  feedOf?: (topic: string) => string | undefined;
}): OutboxRelay {
  const batchSize = deps.batchSize ?? 500;
  const idleDelayMs = deps.idleDelayMs ?? 50;
  const maxLen = deps.maxStreamLength ?? 100_000;
  const retentionMs = deps.retentionMs ?? 3_600_000;
  let lastPurge = 0;

  /** The stream is the record of published events; the table keeps only what is in flight. */
  async function purgePublished(): Promise<void> {
    if (Date.now() - lastPurge < 60_000) return;
    lastPurge = Date.now();
    await deps.systemDb.global((em) =>
      em.execute(
        `delete from platform.outbox where id in (
           select id from platform.outbox where published_at < now() - (? * interval '1 millisecond') order by id limit 10000)`,
        [retentionMs],
      ),
    );
  }

  async function drainOnce(): Promise<number> {
    return deps.systemDb.global(async (em) => {
      // One relay moves rows at a time, so batches of two replicas never interleave.
      const [lock] = await em.execute<{ locked: boolean }[]>(`select pg_try_advisory_xact_lock(?) as locked`, [RELAY_LOCK]);
      if (lock?.locked !== true) return 0;
      const rows = await em.execute<PendingRow[]>(
        // `outbox.id`, not `id`: the bare name would sort by the text alias ('10' before '9').
        `select id::text as id, tenant_id, topic, payload, created_at from platform.outbox
         where published_at is null order by outbox.id limit ? for update skip locked`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      const pipeline = deps.redis.pipeline();
      for (const row of rows) {
        pipeline.xadd(
          tenantStreamKey(deps.namespace, row.tenant_id, deps.feedOf?.(row.topic)),
          'MAXLEN',
          '~',
          String(maxLen),
          '*',
          'outboxId',
          row.id,
          'topic',
          row.topic,
          'payload',
          JSON.stringify(row.payload),
          'at',
          new Date(row.created_at).toISOString(),
        );
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0];
      await em.execute(`update platform.outbox set published_at = now() where id in (?)`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  const loop = createPollLoop({
    name: 'outbox relay',
    round: async () => {
      const moved = await drainOnce();
      if (moved < batchSize) await purgePublished();
      return { full: moved >= batchSize };
    },
    idleMs: idleDelayMs,
    failureMs: FAILURE_DELAY_MS,
    logger: deps.logger,
  });
  return { drainOnce, purgePublished, start: loop.start, nudge: loop.nudge, stop: loop.stop };
}
