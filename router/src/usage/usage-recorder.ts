import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Redis } from 'ioredis';
import type { Logger } from '@tansu/platform/logger';
import { addUsage, type OperationSignature } from '@tansu/schema/registry/usage-store';
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
  let operations = new Map<string, { signature: OperationSignature; count: number }>();
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

  /** One operation: each coordinate it used, and the operation itself (its signature, the hash of its text). */
  function count(schema: GraphQLSchema, queryHash: string, document: DocumentNode, operationName: string | null | undefined): void {
    const coordinates = coordinatesOf(schema, queryHash, document);
    for (const coordinate of coordinates) pending.set(coordinate, (pending.get(coordinate) ?? 0) + 1);
    const seen = operations.get(queryHash);
    if (seen !== undefined) seen.count++;
    else operations.set(queryHash, { signature: { name: operationName ?? 'anonymous', coordinates }, count: 1 });
  }

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    const seen = operations;
    pending = new Map();
    operations = new Map();
    await addUsage(deps.redis, deps.namespace, deps.variant, batch, seen).catch((error: unknown) => deps.logger.warn({ err: error }, 'usage not recorded'));
  }

  const plugin: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, queryHash, operationName }) {
          count(schema, queryHash, document, operationName);
        },
      };
    },
  };

  return {
    plugin,
    /** Counts one operation directly (subscriptions arrive outside Apollo's request pipeline). */
    record(schema: GraphQLSchema, queryHash: string, document: DocumentNode, operationName?: string | null): void {
      count(schema, queryHash, document, operationName);
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
