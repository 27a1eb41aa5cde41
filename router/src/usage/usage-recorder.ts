import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Redis } from 'ioredis';
import type { Logger } from '@tansu/platform/logger';
import { addUsage } from '@tansu/schema/registry/usage-store';
import { operationUsage } from '@tansu/schema/usage/operation-usage';
import type { RouterContext } from '../router-context.ts';

const CACHED_DOCUMENTS = 2_000;

/**
 * Which schema coordinates operations use, for usage-aware schema checks. Per request it costs
 * a cache lookup (the coordinates of each distinct document are worked out once per schema)
 * and a few counter increments; counts go to Redis every few seconds, summed.
 */
export function createUsageRecorder(deps: { redis: Redis; namespace: string; variant: string; logger: Logger; flushMs?: number }) {
  let pending = new Map<string, number>();
  // A published schema is a new GraphQLSchema object: its documents are looked at afresh.
  let bySchema = new WeakMap<GraphQLSchema, Map<string, string[]>>();
  let timer: NodeJS.Timeout | undefined;

  function coordinatesOf(schema: GraphQLSchema, queryHash: string, document: DocumentNode): string[] {
    let cache = bySchema.get(schema);
    if (cache === undefined) bySchema.set(schema, (cache = new Map()));
    let coordinates = cache.get(queryHash);
    if (coordinates === undefined) {
      coordinates = [...operationUsage(schema, document)];
      if (cache.size >= CACHED_DOCUMENTS) cache.delete(cache.keys().next().value!);
      cache.set(queryHash, coordinates);
    }
    return coordinates;
  }

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    await addUsage(deps.redis, deps.namespace, deps.variant, batch).catch((error: unknown) => deps.logger.warn({ err: error }, 'usage not recorded'));
  }

  const plugin: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, queryHash }) {
          for (const coordinate of coordinatesOf(schema, queryHash, document)) pending.set(coordinate, (pending.get(coordinate) ?? 0) + 1);
        },
      };
    },
  };

  return {
    plugin,
    /** Counts one operation directly (subscriptions arrive outside Apollo's request pipeline). */
    record(schema: GraphQLSchema, queryHash: string, document: DocumentNode): void {
      for (const coordinate of coordinatesOf(schema, queryHash, document)) pending.set(coordinate, (pending.get(coordinate) ?? 0) + 1);
    },
    flush,
    start(): void {
      timer = setInterval(() => void flush(), deps.flushMs ?? 5_000);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      await flush();
      bySchema = new WeakMap();
    },
  };
}
export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
