import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

export interface HashMirror {
  get(field: string): string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis hash held in this process's memory: reloaded whenever a message arrives on its
 * channel (a change was made) and every few seconds (in case a message was lost). `expired`
 * names entries to drop from Redis and from the mirror as they are read; `onChanged` hears
 * of entries a reload found new or different.
 */
export function createHashMirror(deps: {
  subscriber: Redis;
  redis: Redis;
  key: string;
  channel: string;
  logger: Logger;
  resyncMs?: number;
  expired?: (field: string, value: string) => boolean;
  /** Fields added or changed by a reload (not the first one). */
  onChanged?: (fields: string[]) => void;
}): HashMirror {
  let entries = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let loaded = false;
  const reload = async () => {
    const all = Object.entries(await deps.redis.hgetall(deps.key));
    const stale = deps.expired === undefined ? [] : all.filter(([field, value]) => deps.expired!(field, value)).map(([field]) => field);
    if (stale.length > 0) await deps.redis.hdel(deps.key, ...stale);
    const previous = entries;
    entries = new Map(all.filter(([field]) => !stale.includes(field)));
    if (deps.onChanged !== undefined && loaded) {
      const changed = [...entries].filter(([field, value]) => previous.get(field) !== value).map(([field]) => field);
      if (changed.length > 0) deps.onChanged(changed);
    }
    loaded = true;
  };
  const reloadLogged = () => void reload().catch((error: unknown) => deps.logger.warn({ err: error, key: deps.key }, 'reload from Redis failed'));
  const onMessage = (channel: string) => {
    if (channel === deps.channel) reloadLogged();
  };
  return {
    get: (field) => entries.get(field),
    async start() {
      deps.subscriber.on('message', onMessage);
      await deps.subscriber.subscribe(deps.channel);
      await reload();
      timer = setInterval(reloadLogged, deps.resyncMs ?? 5_000);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      deps.subscriber.off('message', onMessage);
      await deps.subscriber.unsubscribe(deps.channel).catch(() => undefined);
    },
  };
}
