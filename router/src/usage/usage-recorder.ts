import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Redis } from 'ioredis';
import type { Logger } from '@tansu/platform/logger';
import { addUsage, DEFAULT_MAX_OPERATIONS_PER_DAY, MAX_OPERATION_NAME, type OperationSignature } from '@tansu/schema/registry/usage-store';
import { operationDocument, operationUsage } from '@tansu/schema/usage/operation-usage';
import type { RouterContext } from '../router-context.ts';

const CACHED_DOCUMENTS = 2_000;
/** Distinct operations held in memory between two flushes. */
export const DEFAULT_MAX_OPERATIONS_PER_FLUSH = 1_000;

export interface UsageRecorderOptions {
  redis: Redis;
  namespace: string;
  variant: string;
  logger: Logger;
  flushMs?: number;
  /** Distinct operations kept in memory between flushes (DEFAULT_MAX_OPERATIONS_PER_FLUSH). */
  maxOperationsPerFlush?: number;
  /** Distinct operations listed in Redis per variant and UTC day (DEFAULT_MAX_OPERATIONS_PER_DAY). */
  maxOperationsPerDay?: number;
}

interface Seen {
  id: string;
  signature: OperationSignature;
}

/**
 * Which schema coordinates operations use, for usage-aware schema checks. Per request it costs
 * a cache lookup (the coordinates of each distinct document are worked out once per schema)
 * and a few counter increments; counts go to Redis every few seconds, summed.
 *
 * An operation is identified by its signature (name and coordinates), not its text: the same
 * operation sent with other whitespace or aliases counts once. Only operations that ran are
 * counted (see `plugin`), and what is kept is bounded: in memory by `maxOperationsPerFlush`,
 * in Redis by `maxOperationsPerDay`; beyond them coordinates are still counted, and the
 * operations left unlisted are logged.
 */
export function createUsageRecorder(deps: UsageRecorderOptions) {
  const maxPerFlush = deps.maxOperationsPerFlush ?? DEFAULT_MAX_OPERATIONS_PER_FLUSH;
  let pending = new Map<string, number>();
  let operations = new Map<string, { signature: OperationSignature; count: number }>();
  let unlisted = 0;
  // A published schema is a new GraphQLSchema object: its documents are looked at afresh.
  let bySchema = new WeakMap<GraphQLSchema, Map<string, Seen>>();
  let timer: NodeJS.Timeout | undefined;

  function seenOf(schema: GraphQLSchema, queryHash: string, document: DocumentNode, operationName: string | null | undefined): Seen {
    let cache = bySchema.get(schema);
    if (cache === undefined) bySchema.set(schema, (cache = new Map()));
    // One document may hold several operations: the one that ran is part of the key.
    const key = `${queryHash}|${operationName ?? ''}`;
    let seen = cache.get(key);
    if (seen === undefined) {
      const coordinates = [...operationUsage(schema, operationDocument(document, operationName))].sort();
      const name = (operationName ?? 'anonymous').slice(0, MAX_OPERATION_NAME);
      const id = createHash('sha256').update(name).update('\n').update(coordinates.join('\n')).digest('hex').slice(0, 32);
      seen = { id, signature: { name, coordinates } };
      if (cache.size >= CACHED_DOCUMENTS) cache.delete(cache.keys().next().value!);
      cache.set(key, seen);
    }
    return seen;
  }

  /** One operation: each coordinate it used, and the operation itself, while there is room for it. */
  function count(schema: GraphQLSchema, queryHash: string, document: DocumentNode, operationName: string | null | undefined): void {
    const { id, signature } = seenOf(schema, queryHash, document, operationName);
    for (const coordinate of signature.coordinates) pending.set(coordinate, (pending.get(coordinate) ?? 0) + 1);
    const known = operations.get(id);
    if (known !== undefined) known.count++;
    else if (operations.size < maxPerFlush) operations.set(id, { signature, count: 1 });
    else unlisted++;
  }

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    const seen = operations;
    const overMemory = unlisted;
    pending = new Map();
    operations = new Map();
    unlisted = 0;
    try {
      const overDay = await addUsage(deps.redis, deps.namespace, deps.variant, batch, seen, {
        maxOperationsPerDay: deps.maxOperationsPerDay ?? DEFAULT_MAX_OPERATIONS_PER_DAY,
      });
      if (overMemory + overDay > 0) {
        deps.logger.warn(
          { overMemory, overDay, maxOperationsPerFlush: maxPerFlush, maxOperationsPerDay: deps.maxOperationsPerDay ?? DEFAULT_MAX_OPERATIONS_PER_DAY },
          'usage: executions of operations beyond the cap were counted but not listed',
        );
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'usage not recorded');
    }
  }

  /**
   * Counts at `executionDidStart`, which Apollo Server 5 calls only once every plugin's
   * `didResolveOperation` has passed (authentication, public operations, cost) and no plugin
   * answered in `responseForOperation`: the operation was admitted and goes to the executor,
   * the gateway included. `didResolveOperation` itself runs for every plugin at once, refused
   * operations too.
   */
  const plugin: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      return {
        async executionDidStart({ document, schema, queryHash, operationName }) {
          count(schema, queryHash, document, operationName);
        },
      };
    },
  };

  return {
    plugin,
    /** Counts one admitted operation directly (subscriptions arrive outside Apollo's request pipeline). */
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
