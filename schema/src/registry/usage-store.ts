import type { Redis } from 'ioredis';
import type { UsageLookup } from '../check/check-subgraph.ts';

/**
 * Field usage per variant and UTC day in Redis: a hash of schema coordinate → how many
 * operations used it. Routers add to it; checks read the window. Days older than the longest
 * window expire on their own.
 */
const KEEP_DAYS = 35;
export const usageKey = (namespace: string, variant: string, day: string) => `${namespace}:schema:${variant}:usage:${day}`;
const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

export async function addUsage(redis: Redis, namespace: string, variant: string, counts: Map<string, number>, now = Date.now()): Promise<void> {
  if (counts.size === 0) return;
  const key = usageKey(namespace, variant, dayOf(now));
  const multi = redis.multi();
  for (const [coordinate, count] of counts) multi.hincrby(key, coordinate, count);
  multi.expire(key, KEEP_DAYS * 86_400);
  await multi.exec();
}

/** Usage of coordinates over the last `days` days (today included); undefined when nothing at all was recorded. */
export function usageFromRedis(redis: Redis, namespace: string, variant: string, days = 30, now = Date.now()): UsageLookup {
  return async (coordinates) => {
    const keys = Array.from({ length: days }, (_, i) => usageKey(namespace, variant, dayOf(now - i * 86_400_000)));
    const recorded = await redis.exists(...keys);
    if (recorded === 0) return undefined;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.hmget(key, ...coordinates);
    const results = (await pipeline.exec()) ?? [];
    const totals = new Map<string, number>(coordinates.map((c) => [c, 0]));
    for (const [, values] of results) {
      (values as (string | null)[]).forEach((value, i) => {
        if (value !== null) totals.set(coordinates[i]!, (totals.get(coordinates[i]!) ?? 0) + Number(value));
      });
    }
    return totals;
  };
}
