import type { Redis } from 'ioredis';
import type { UsageLookup } from '../check/check-subgraph.ts';

/**
 * Usage per variant and UTC day in Redis, read by usage-aware schema checks:
 *
 * - `…:usage:{day}`: schema coordinate → how many operations used it. Bounded by the schema.
 * - `…:operations:{day}`: the distinct operations seen that day, each under the hash of its
 *   signature (name and coordinates): `n:{id}` → count and `s:{id}` → signature. Bounded by
 *   `maxOperationsPerDay` (DEFAULT_MAX_OPERATIONS_PER_DAY): once a day holds that many, further
 *   distinct operations that day still count towards coordinates, but are not listed.
 *
 * Days older than the longest window expire on their own, so what a variant keeps is at most
 * KEEP_DAYS × the daily bound, whoever calls.
 */
export const KEEP_DAYS = 35;
export const DEFAULT_MAX_OPERATIONS_PER_DAY = 1_000;
/** Longer operation names are cut: a name is a label in a report, not a payload. */
export const MAX_OPERATION_NAME = 100;

export const usageKey = (namespace: string, variant: string, day: string) => `${namespace}:schema:${variant}:usage:${day}`;
export const operationsKey = (namespace: string, variant: string, day: string) => `${namespace}:schema:${variant}:operations:${day}`;
/** Where earlier versions kept signatures, for every day at once; read so their days still name operations. */
const legacySignaturesKey = (namespace: string, variant: string) => `${namespace}:schema:${variant}:signatures`;
export const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

/** One operation as seen: its name and the coordinates it used. */
export interface OperationSignature {
  name: string;
  coordinates: string[];
}

/**
 * Adds operations to a day's list, up to the cap: one known already is counted, a new one is
 * listed while the day holds fewer than the cap (each takes two fields). Returns how many
 * executions of operations over the cap were left unlisted. Atomic, so routers racing on the
 * same day cannot overshoot the cap together.
 */
const ADD_OPERATIONS = `
local key = KEYS[1]
local cap = tonumber(ARGV[1])
local dropped = 0
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', key, 'n:' .. id) == 1 then
    redis.call('HINCRBY', key, 'n:' .. id, ARGV[i + 1])
  elseif redis.call('HLEN', key) < cap * 2 then
    redis.call('HSET', key, 'n:' .. id, ARGV[i + 1], 's:' .. id, ARGV[i + 2])
  else
    dropped = dropped + tonumber(ARGV[i + 1])
  end
end
redis.call('EXPIRE', key, ARGV[2])
return dropped
`;

export interface AddUsageOptions {
  /** Distinct operations listed per variant and day; DEFAULT_MAX_OPERATIONS_PER_DAY when not given. */
  maxOperationsPerDay?: number;
  now?: number;
}

/**
 * Adds a batch of usage: coordinate counts, and operations by id (the hash of their
 * signature). Returns how many executions were not listed because the day was full.
 */
export async function addUsage(
  redis: Redis,
  namespace: string,
  variant: string,
  counts: Map<string, number>,
  operations: Map<string, { signature: OperationSignature; count: number }> = new Map(),
  options: AddUsageOptions = {},
): Promise<number> {
  const day = dayOf(options.now ?? Date.now());
  const ttl = KEEP_DAYS * 86_400;
  const multi = redis.multi();
  if (counts.size > 0) {
    const key = usageKey(namespace, variant, day);
    for (const [coordinate, count] of counts) multi.hincrby(key, coordinate, count);
    multi.expire(key, ttl);
  }
  if (operations.size > 0) {
    const args: (string | number)[] = [options.maxOperationsPerDay ?? DEFAULT_MAX_OPERATIONS_PER_DAY, ttl];
    for (const [id, { signature, count }] of operations) {
      args.push(id, count, JSON.stringify({ name: signature.name.slice(0, MAX_OPERATION_NAME), coordinates: signature.coordinates }));
    }
    multi.eval(ADD_OPERATIONS, 1, operationsKey(namespace, variant, day), ...args);
  }
  if (counts.size === 0 && operations.size === 0) return 0;
  const results = (await multi.exec()) ?? [];
  for (const [error] of results) if (error !== null) throw error;
  const last = results.at(-1);
  return operations.size > 0 && typeof last?.[1] === 'number' ? last[1] : 0;
}

/** The names of operations seen in the last `days` days that used any of these coordinates. */
export function operationsFromRedis(redis: Redis, namespace: string, variant: string, days = 30, now = Date.now()) {
  return async (coordinates: string[]): Promise<string[]> => {
    const wanted = new Set(coordinates);
    const names = new Set<string>();
    const unsigned = new Set<string>();
    const consider = (raw: string): void => {
      const signature = JSON.parse(raw) as OperationSignature;
      if (signature.coordinates.some((c) => wanted.has(c))) names.add(signature.name);
    };
    for (let i = 0; i < days; i++) {
      const fields = await redis.hgetall(operationsKey(namespace, variant, dayOf(now - i * 86_400_000)));
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith('s:')) consider(value);
        else if (!field.startsWith('n:')) unsigned.add(field);
      }
    }
    if (unsigned.size > 0) {
      for (const raw of await redis.hmget(legacySignaturesKey(namespace, variant), ...unsigned)) if (raw !== null) consider(raw);
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

/** One listed operation over a window: its signature and how often it ran. */
export interface OperationCount {
  /** The hash of its signature, as the routers list it. */
  id: string;
  signature: OperationSignature;
  count: number;
}

/**
 * The operations listed in the last `days` days (today included), each with its executions
 * summed over the window. Only listed operations appear (see `maxOperationsPerDay`), so their
 * counts can sum to less than a coordinate's.
 */
export async function operationCountsFromRedis(redis: Redis, namespace: string, variant: string, days = 30, now = Date.now()): Promise<OperationCount[]> {
  const pipeline = redis.pipeline();
  for (let i = 0; i < days; i++) pipeline.hgetall(operationsKey(namespace, variant, dayOf(now - i * 86_400_000)));
  const results = (await pipeline.exec()) ?? [];
  const counts = new Map<string, number>();
  const signatures = new Map<string, string>();
  for (const [error, fields] of results) {
    if (error !== null) throw error;
    for (const [field, value] of Object.entries(fields as Record<string, string>)) {
      if (field.startsWith('s:')) signatures.set(field.slice(2), value);
      else {
        // Earlier versions counted under the bare id and kept signatures in one key.
        const id = field.startsWith('n:') ? field.slice(2) : field;
        counts.set(id, (counts.get(id) ?? 0) + Number(value));
      }
    }
  }
  const unsigned = [...counts.keys()].filter((id) => !signatures.has(id));
  if (unsigned.length > 0) {
    const raw = await redis.hmget(legacySignaturesKey(namespace, variant), ...unsigned);
    unsigned.forEach((id, i) => {
      if (raw[i] != null) signatures.set(id, raw[i]);
    });
  }
  const operations: OperationCount[] = [];
  for (const [id, count] of counts) {
    const raw = signatures.get(id);
    if (raw !== undefined) operations.push({ id, signature: JSON.parse(raw) as OperationSignature, count });
  }
  return operations.sort((a, b) => b.count - a.count || a.signature.name.localeCompare(b.signature.name) || a.id.localeCompare(b.id));
}
