import type { StreamEvent, StreamHub } from './stream-hub.ts';

export class SlowSubscriberError extends Error {
  override name = 'SlowSubscriberError';
}

/** An overflowing queue is ended unless compacting brought it under this share of its cap. */
const KEEP_AFTER_COMPACTING = 0.9;

/** Keeps, in order, the newest entry of each key and every entry without one. */
function compact<T>(queue: { value: T; key: string | undefined }[]): void {
  const newest = new Map<string, number>();
  queue.forEach((item, index) => {
    if (item.key !== undefined) newest.set(item.key, index);
  });
  let kept = 0;
  queue.forEach((item, index) => {
    if (item.key === undefined || newest.get(item.key) === index) queue[kept++] = item;
  });
  queue.length = kept;
}

/**
 * A subscriber's view of a tenant's events as an async iterator (what GraphQL subscriptions
 * consume). Each subscriber has its own bounded queue, so a slow one never holds up the hub
 * or the others. Every event is queued in order; only when the queue overflows do events
 * with the same `coalesceKey` give way to their newest undelivered copy, and a subscriber
 * that is still too far behind is ended, to resume from its last id.
 */
export async function eventIterator<T>(options: {
  hub: StreamHub;
  tenantId: string;
  after?: string;
  /** Maps an event to what the subscriber receives, or undefined to skip it. */
  select: (event: StreamEvent) => T | undefined;
  /** Which events a subscriber that falls behind may skip to the newest of (e.g. one run's states). */
  coalesceKey?: (value: T) => string | undefined;
  /** Undelivered events a subscriber may have before its queue is compacted, then ended. */
  maxQueue?: number;
}): Promise<AsyncIterableIterator<T>> {
  const maxQueue = options.maxQueue ?? 1_000;
  const queue: { value: T; key: string | undefined }[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failed: Error | undefined;
  let done = false;

  const push = (value: T) => {
    if (done || failed !== undefined) return;
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    queue.push({ value, key: options.coalesceKey?.(value) });
    if (queue.length <= maxQueue) return;
    compact(queue);
    // Compacting must free a tenth of the queue, or it would run again on nearly every event.
    if (queue.length > maxQueue * KEEP_AFTER_COMPACTING) {
      failed = new SlowSubscriberError('subscriber fell too far behind; resubscribe with the last event id as `after`');
      stop();
    }
  };

  // A backlog can overflow while it is being read, before `listen` has returned.
  let unlisten: (() => void) | undefined;
  let stopRequested = false;
  unlisten = await options.hub.listen(
    options.tenantId,
    (event) => {
      const value = options.select(event);
      if (value !== undefined) push(value);
    },
    options.after,
  );
  if (stopRequested) unlisten();

  function stop() {
    if (unlisten === undefined) stopRequested = true;
    else unlisten();
    if (waiting !== undefined && queue.length === 0) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  const iterator: AsyncIterableIterator<T> = {
    next() {
      const item = queue.shift();
      if (item !== undefined) return Promise.resolve({ value: item.value, done: false });
      if (failed !== undefined) return Promise.reject(failed);
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      done = true;
      queue.length = 0;
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
