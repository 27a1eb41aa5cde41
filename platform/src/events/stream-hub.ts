import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { tenantStreamKey } from './outbox.ts';

export interface StreamEvent {
  /** The Redis Stream entry id: pass it back as `after` to resume. */
  id: string;
  outboxId: string;
  topic: string;
  payload: Record<string, unknown>;
  at: string;
}

export type StreamListener = (event: StreamEvent) => void;

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = 18_446_744_073_709_551_615n;

/** A Redis Stream id: two unsigned 64-bit numbers. */
export function isStreamId(value: string): boolean {
  const match = STREAM_ID.exec(value);
  return match !== null && BigInt(match[1]!) <= MAX_U64 && BigInt(match[2]!) <= MAX_U64;
}

/** Backlogs are read in pages, never in one reply of unbounded size. */
const BACKLOG_PAGE = 500;

function parseEntry(id: string, fields: string[]): StreamEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(map.get('payload') ?? '{}') as Record<string, unknown>;
  } catch {
    payload = {};
  }
  return { id, outboxId: map.get('outboxId') ?? '', topic: map.get('topic') ?? '', payload, at: map.get('at') ?? '' };
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

interface Listener {
  deliver: StreamListener;
  /** The newest id handed to this listener: nothing at or before it reaches it again. */
  lastId: string;
  /** Live events held back while the listener's backlog is read. */
  buffer?: StreamEvent[];
}

interface TenantFeed {
  /** Last id read from the stream by the live loop. */
  lastId: string;
  listeners: Set<Listener>;
}

/**
 * A live read may have been sent from an older position than what a listener's catch-up has
 * already handed it (the read was in flight as it joined, or was sent for an earlier feed of
 * the tenant): each listener's own last id keeps it from seeing an entry twice.
 */
function offer(listener: Listener, event: StreamEvent, logger: Logger): void {
  if (listener.buffer !== undefined) {
    listener.buffer.push(event);
    return;
  }
  if (compareIds(event.id, listener.lastId) <= 0) return;
  listener.lastId = event.id;
  try {
    listener.deliver(event);
  } catch (error) {
    logger.error({ err: error }, 'stream listener failed');
  }
}

/**
 * One process, one blocking Redis connection: the hub reads the streams of the tenants that
 * have listeners and fans each event out in memory. A listener that resumes from an id is
 * caught up from the stream first, then joins the live feed with nothing lost or repeated.
 */
export function createStreamHub(deps: {
  reader: Redis;
  control: Redis;
  namespace: string;
  logger: Logger;
  blockMs?: number;
  /** Which of each tenant's streams it reads (tenantStreamKey's feed); the default feed when not given. */
  feed?: string;
}) {
  const streamKey = (tenantId: string) => tenantStreamKey(deps.namespace, tenantId, deps.feed);
  const feeds = new Map<string, TenantFeed>();
  let running = false;
  let loop: Promise<void> | undefined;
  let readerId: number | undefined;
  let blocked = false;

  /** Ends a blocking XREAD at once so a new tenant is read without waiting for the timeout. */
  async function interrupt(): Promise<void> {
    if (blocked && readerId !== undefined) await deps.control.call('CLIENT', 'UNBLOCK', String(readerId)).catch(() => undefined);
  }

  async function readLoop(): Promise<void> {
    readerId = Number(await deps.reader.call('CLIENT', 'ID'));
    while (running) {
      const tenants = [...feeds.keys()];
      if (tenants.length === 0) {
        blocked = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        blocked = false;
        continue;
      }
      const keys = tenants.map(streamKey);
      // Replies name streams by key: each maps back to the tenant it was read for.
      const tenantOf = new Map(keys.map((key, i) => [key, tenants[i]!]));
      const ids = tenants.map((t) => feeds.get(t)!.lastId);
      let result: [string, [string, string[]][]][] | null;
      try {
        blocked = true;
        result = (await deps.reader.xread('COUNT', 1000, 'BLOCK', deps.blockMs ?? 5_000, 'STREAMS', ...keys, ...ids)) as typeof result;
      } catch (error) {
        if (!running) return;
        deps.logger.error({ err: error }, 'stream hub read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      } finally {
        blocked = false;
      }
      for (const [key, entries] of result ?? []) {
        const tenantId = tenantOf.get(key);
        const feed = tenantId === undefined ? undefined : feeds.get(tenantId);
        if (feed === undefined) continue;
        for (const [id, fields] of entries) {
          // The read may have been sent for an earlier feed of this tenant (its last listener
          // left and a new one came while it was in flight): the feed's position never moves back.
          if (compareIds(id, feed.lastId) <= 0) continue;
          feed.lastId = id;
          const event = parseEntry(id, fields);
          for (const listener of feed.listeners) offer(listener, event, deps.logger);
        }
      }
    }
  }

  /** The id of the tenant's newest event ('0-0' before the first): where "from now on" starts. */
  async function position(tenantId: string): Promise<string> {
    const last = (await deps.control.xrevrange(streamKey(tenantId), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? '0-0';
  }

  return {
    /**
     * Where the tenant's stream stands now. Read it before reading the state the events change
     * (a page of rows), then listen with `after` set to it: nothing recorded in between is missed.
     */
    position,
    /**
     * Listens to a tenant's events after `after` (a stream id), or from now on. Returns the
     * function that stops listening.
     */
    async listen(tenantId: string, listener: StreamListener, after?: string): Promise<() => void> {
      if (after !== undefined && !isStreamId(after)) throw new Error('invalid stream id');
      let feed = feeds.get(tenantId);
      if (feed === undefined) {
        // Start the live read at the stream's current end.
        const lastId = await position(tenantId);
        feed = feeds.get(tenantId) ?? { lastId, listeners: new Set() };
        feeds.set(tenantId, feed);
        void interrupt();
      }
      const tenantFeed = feed;
      // Live only: from where the feed stands. Resuming: live events wait in the buffer while the
      // backlog is read, then the buffer is drained past what the backlog covered, all before the
      // listener takes live events directly.
      const record: Listener = after === undefined ? { deliver: listener, lastId: tenantFeed.lastId } : { deliver: listener, lastId: after, buffer: [] };
      const leave = () => {
        tenantFeed.listeners.delete(record);
        if (tenantFeed.listeners.size === 0 && feeds.get(tenantId) === tenantFeed) feeds.delete(tenantId);
      };
      tenantFeed.listeners.add(record);
      if (record.buffer !== undefined) {
        try {
          for (;;) {
            const page = (await deps.control.xrange(streamKey(tenantId), `(${record.lastId}`, '+', 'COUNT', BACKLOG_PAGE)) as [string, string[]][];
            for (const [id, fields] of page) {
              record.lastId = id;
              listener(parseEntry(id, fields));
            }
            if (page.length < BACKLOG_PAGE) break;
          }
          const buffered = record.buffer;
          record.buffer = undefined;
          for (const event of buffered) {
            if (compareIds(event.id, record.lastId) <= 0) continue;
            record.lastId = event.id;
            listener(event);
          }
        } catch (error) {
          leave();
          throw error;
        }
      }
      return leave;
    },
    start() {
      if (running) return;
      running = true;
      loop = readLoop();
    },
    async stop() {
      running = false;
      await interrupt();
      await loop;
    },
    /** How many tenants and listeners are live (for metrics and tests). */
    stats() {
      let listeners = 0;
      for (const feed of feeds.values()) listeners += feed.listeners.size;
      return { tenants: feeds.size, listeners };
    },
  };
}
export type StreamHub = ReturnType<typeof createStreamHub>;
