import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { createPollLoop } from '../poll-loop.ts';
import { tenantOutboxInFlightKey, tenantStreamKey } from './outbox.ts';

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

/**
 * Appends a row to its stream unless an earlier try already did: the relay may die (or lose
 * Postgres) after the append and before the row is marked published, and the row is then
 * moved again. The tenant's in-flight hash, written in the same atomic step as the entry,
 * remembers rows appended but not yet marked; the relay clears them once the mark commits.
 * KEYS: stream, in-flight hash. ARGV: max length, hash lifetime (ms), outboxId, topic, payload, at.
 */
const PUBLISH = `
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 0 end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'outboxId', ARGV[3], 'topic', ARGV[4], 'payload', ARGV[5], 'at', ARGV[6])
redis.call('HSET', KEYS[2], ARGV[3], id)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;
const PUBLISH_SHA = createHash('sha1').update(PUBLISH).digest('hex');

/**
 * A row left in flight is moved again as soon as any relay runs; the hash outlives any outage
 * a relay is expected to wait out, and then expires (a mark that committed but was never
 * cleared leaves nothing behind for good).
 */
const IN_FLIGHT_TTL_MS = 7 * 24 * 3_600_000;

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
 * Each row reaches its stream once, also when a batch is moved again after a failure.
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

  /** Appends the rows in order; a row an earlier try appended is skipped, so trying again is safe. */
  async function publish(rows: PendingRow[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const pipeline = deps.redis.pipeline();
      for (const row of rows) {
        pipeline.evalsha(
          PUBLISH_SHA,
          2,
          tenantStreamKey(deps.namespace, row.tenant_id, deps.feedOf?.(row.topic)),
          tenantOutboxInFlightKey(deps.namespace, row.tenant_id),
          String(maxLen),
          String(IN_FLIGHT_TTL_MS),
          row.id,
          row.topic,
          JSON.stringify(row.payload),
          new Date(row.created_at).toISOString(),
        );
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed === undefined || failed === null) return;
      // Redis forgets scripts on restart: load it and try the batch again.
      if (attempt === 0 && failed.message.startsWith('NOSCRIPT')) {
        await deps.redis.script('LOAD', PUBLISH);
        continue;
      }
      throw failed;
    }
  }

  /** Published rows need no guard against a second move any more. */
  async function clearInFlight(rows: PendingRow[]): Promise<void> {
    const byTenant = new Map<string, string[]>();
    for (const row of rows) {
      const ids = byTenant.get(row.tenant_id);
      if (ids === undefined) byTenant.set(row.tenant_id, [row.id]);
      else ids.push(row.id);
    }
    const pipeline = deps.redis.pipeline();
    for (const [tenantId, ids] of byTenant) pipeline.hdel(tenantOutboxInFlightKey(deps.namespace, tenantId), ...ids);
    try {
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    } catch (error) {
      // The rows are published; what is left behind expires with its hash.
      deps.logger.warn({ err: error }, 'outbox relay could not clear its in-flight marks');
    }
  }

  async function drainOnce(): Promise<number> {
    const moved = await deps.systemDb.global(async (em) => {
      // One relay moves rows at a time, so batches of two replicas never interleave.
      const [lock] = await em.execute<{ locked: boolean }[]>(`select pg_try_advisory_xact_lock(?) as locked`, [RELAY_LOCK]);
      if (lock?.locked !== true) return [];
      const rows = await em.execute<PendingRow[]>(
        // `outbox.id`, not `id`: the bare name would sort by the text alias ('10' before '9').
        `select id::text as id, tenant_id, topic, payload, created_at from platform.outbox
         where published_at is null order by outbox.id limit ? for update skip locked`,
        [batchSize],
      );
      if (rows.length === 0) return [];
      await publish(rows);
      await em.execute(`update platform.outbox set published_at = now() where id in (?)`, [rows.map((r) => r.id)]);
      return rows;
    });
    if (moved.length > 0) await clearInFlight(moved);
    return moved.length;
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
