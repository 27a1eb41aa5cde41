import type { Redis } from 'ioredis';

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  /** Seconds until the window resets. */
  retryAfter: number;
}

/**
 * Fixed-window counters in Redis, shared by every replica. Keys carry their namespace and a
 * hash tag per subject, so they spread over a Redis Cluster.
 */
export function createRateLimiter(redis: Redis, namespace = 'tansu') {
  const key = (name: string) => `${namespace}:rl:{${name}}`;
  return {
    async hit(name: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
      const results = await redis.multi().incr(key(name)).expire(key(name), windowSeconds, 'NX').ttl(key(name)).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
      return { allowed: count <= limit, count, retryAfter: Math.max(1, ttl) };
    },
    async peek(name: string): Promise<number> {
      return Number((await redis.get(key(name))) ?? 0);
    },
    async set(name: string, seconds: number): Promise<void> {
      await redis.set(key(name), '1', 'EX', seconds);
    },
    async ttl(name: string): Promise<number> {
      return redis.ttl(key(name));
    },
    async reset(name: string): Promise<void> {
      await redis.del(key(name));
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
