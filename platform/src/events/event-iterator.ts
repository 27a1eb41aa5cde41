import type { StreamEvent, StreamHub } from './stream-hub.ts';

export class SlowSubscriberError extends Error {
  override name = 'SlowSubscriberError';
}

/**
 * A subscriber's view of a tenant's events as an async iterator (what GraphQL subscriptions
 * consume). Each subscriber has its own bounded queue, so a slow one never holds up the hub
 * or the others: events with the same `coalesceKey` replace their older, undelivered copy,
 * and a subscriber that still falls too far behind is ended, to resume from its last id.
 */
export async function eventIterator<T>(options: {
  hub: StreamHub;
  tenantId: string;
  after?: string;
  /** Maps an event to what the subscriber receives, or undefined to skip it. */
  select: (event: StreamEvent) => T | undefined;
  coalesceKey?: (value: T) => string | undefined;
  maxQueue?: number;
}): Promise<AsyncIterableIterator<T>> {
  const maxQueue = options.maxQueue ?? 1_000;
  const queue: { value: T; key: string | undefined }[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failed: Error | undefined;
  let done = false;

  const push = (value: T) => {
    if (done) return;
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    const key = options.coalesceKey?.(value);
    if (key !== undefined) {
      const index = queue.findIndex((item) => item.key === key);
      if (index >= 0) queue.splice(index, 1);
    }
    queue.push({ value, key });
    if (queue.length > maxQueue) {
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
