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

const operationsKey = (namespace: string, variant: string, day: string) => `${namespace}:schema:${variant}:operations:${day}`;
const signaturesKey = (namespace: string, variant: string) => `${namespace}:schema:${variant}:signatures`;

/** One operation as seen: its name and the coordinates it used, under the hash of its text. */
export interface OperationSignature {
  name: string;
  coordinates: string[];
}

export async function addUsage(
  redis: Redis,
  namespace: string,
  variant: string,
  counts: Map<string, number>,
  operations: Map<string, { signature: OperationSignature; count: number }> = new Map(),
  now = Date.now(),
): Promise<void> {
  if (counts.size === 0) return;
  const day = dayOf(now);
  const key = usageKey(namespace, variant, day);
  const multi = redis.multi();
  for (const [coordinate, count] of counts) multi.hincrby(key, coordinate, count);
  multi.expire(key, KEEP_DAYS * 86_400);
  if (operations.size > 0) {
    for (const [hash, { signature, count }] of operations) {
      multi.hincrby(operationsKey(namespace, variant, day), hash, count);
      multi.hsetnx(signaturesKey(namespace, variant), hash, JSON.stringify(signature));
    }
    multi.expire(operationsKey(namespace, variant, day), KEEP_DAYS * 86_400);
    multi.expire(signaturesKey(namespace, variant), KEEP_DAYS * 86_400);
  }
  await multi.exec();
}

/** The names of operations seen in the last `days` days that used any of these coordinates. */
export function operationsFromRedis(redis: Redis, namespace: string, variant: string, days = 30, now = Date.now()) {
  return async (coordinates: string[]): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < days; i++) for (const hash of await redis.hkeys(operationsKey(namespace, variant, dayOf(now - i * 86_400_000)))) seen.add(hash);
    if (seen.size === 0) return [];
    const wanted = new Set(coordinates);
    const names = new Set<string>();
    const signatures = await redis.hmget(signaturesKey(namespace, variant), ...seen);
    for (const raw of signatures) {
      if (raw === null) continue;
      const signature = JSON.parse(raw) as OperationSignature;
      if (signature.coordinates.some((c) => wanted.has(c))) names.add(signature.name);
    }
    return [...names].sort();
  };
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
