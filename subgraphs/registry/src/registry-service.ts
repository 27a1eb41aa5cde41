import type { Redis } from 'ioredis';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import { apiFields, countFields, operationsByCoordinate, type ApiField, type FieldCount } from '@tansu/schema/registry/field-usage';
import { registryReadsIn, type RegistryReads, type StoredCheck, type SubgraphVersion, type VariantSummary } from '@tansu/schema/registry/registry-reads';
import { KEEP_DAYS, operationCountsFromRedis, usageFromRedis, type OperationCount } from '@tansu/schema/registry/usage-store';
import { requirePlatformAdmin } from '@tansu/tenant-core/guards';

/** Variants are named as routers are configured (TANSU_SCHEMA_VARIANT). */
const VARIANT_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const MAX_PAGE = 100;
/** Field lists of the supergraphs last asked about: building an API schema takes tens of milliseconds. */
const CACHED_SUPERGRAPHS = 8;

export interface Page<T> {
  nodes: T[];
  endCursor: string | null;
  hasMore: boolean;
}

export interface VariantView extends VariantSummary {
  served: boolean;
}

export interface FieldUsageView extends FieldCount {
  /** The listed operations that used the field; read from Redis once per call, when asked. */
  operations(): Promise<OperationCount[]>;
}

function checkedVariant(value: unknown): string {
  if (typeof value !== 'string' || !VARIANT_NAME.test(value)) {
    throw errors.badInput('variant', 'must be 1-40 lowercase letters, digits and dashes, starting with a letter');
  }
  return value;
}

function checkedSubgraph(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 100) throw errors.badInput('subgraph', 'must be a subgraph name of 1-100 characters');
  return value;
}

function checkedFirst(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw errors.badInput('first', `must be between 1 and ${MAX_PAGE}`);
  return value;
}

function checkedDays(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > KEEP_DAYS) {
    throw errors.badInput('days', `must be between 1 and ${KEEP_DAYS} (usage is kept ${KEEP_DAYS} days)`);
  }
  return value;
}

/** A cursor is the id of the last row read, opaque to clients. */
function cursorOf(id: string): string {
  return Buffer.from(id).toString('base64url');
}

function idOfCursor(after: unknown): string | undefined {
  if (after === undefined || after === null) return undefined;
  const id = typeof after === 'string' ? Buffer.from(after, 'base64url').toString('utf8') : '';
  if (!/^\d{1,18}$/.test(id)) throw errors.badInput('after', 'is not a cursor this query returned');
  return id;
}

function pageOf<T extends { id: string }>(rows: T[], first: number): Page<T> {
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return { nodes, hasMore: rows.length > first, endCursor: last === undefined ? null : cursorOf(last.id) };
}

/**
 * The schema registry for the console: variants, versions, checks and field usage, read from
 * the registry's tables (the application role may only read them) and the routers' usage in
 * Redis. Platform administrators only: the registry is the operator's, not a tenant's.
 */
export function createRegistryService(deps: {
  db: Database;
  redis: Redis;
  namespace: string;
  /** The variant this installation's routers serve and record usage for. */
  servedVariant: string;
  /** What routers serve before a variant's first publish. */
  committedSupergraph: string;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const read = <T>(work: (reads: RegistryReads) => Promise<T>) => deps.db.global((em) => work(registryReadsIn(em)));
  const fieldsBySupergraph = new Map<string, ApiField[]>();
  let committedFields: ApiField[] | undefined;

  /** The fields of the API schema the variant's routers serve: its latest supergraph, or the committed one before its first publish. */
  async function fieldsOf(variant: string): Promise<ApiField[]> {
    const source = await read(async (reads): Promise<{ id: string; fields?: ApiField[]; sdl?: string | null } | 'committed' | 'unknown'> => {
      const current = await reads.currentSupergraph(variant);
      if (current !== null) {
        const fields = fieldsBySupergraph.get(current.id);
        return fields !== undefined ? { id: current.id, fields } : { id: current.id, sdl: await reads.supergraphSdl(current.id) };
      }
      return variant === deps.servedVariant || (await reads.hasVariant(variant)) ? 'committed' : 'unknown';
    });
    if (source === 'unknown') throw errors.notFound(`Variant "${variant}"`);
    if (source === 'committed') return (committedFields ??= apiFields(deps.committedSupergraph));
    if (source.fields !== undefined) return source.fields;
    if (source.sdl == null) throw new Error(`supergraph ${source.id} has no SDL`);
    const fields = apiFields(source.sdl);
    if (fieldsBySupergraph.size >= CACHED_SUPERGRAPHS) fieldsBySupergraph.delete(fieldsBySupergraph.keys().next().value!);
    fieldsBySupergraph.set(source.id, fields);
    return fields;
  }

  return {
    async variants(caller: CallerContext): Promise<VariantView[]> {
      requirePlatformAdmin(caller);
      const variants = await read((reads) => reads.variants());
      const views = variants.map((v) => ({ ...v, served: v.name === deps.servedVariant }));
      if (!views.some((v) => v.served)) {
        views.push({ name: deps.servedVariant, served: true, supergraphId: null, publishedAt: null, subgraphs: [], documentCount: 0 });
        views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      return views;
    },

    async checks(caller: CallerContext, args: { variant: unknown; subgraph?: unknown; first: unknown; after?: unknown }): Promise<Page<StoredCheck>> {
      requirePlatformAdmin(caller);
      const variant = checkedVariant(args.variant);
      const subgraph = args.subgraph === undefined || args.subgraph === null ? undefined : checkedSubgraph(args.subgraph);
      const first = checkedFirst(args.first);
      const beforeId = idOfCursor(args.after);
      return pageOf(await read((reads) => reads.checks(variant, subgraph, { limit: first + 1, beforeId })), first);
    },

    async versions(caller: CallerContext, args: { variant: unknown; subgraph: unknown; first: unknown; after?: unknown }): Promise<Page<SubgraphVersion>> {
      requirePlatformAdmin(caller);
      const variant = checkedVariant(args.variant);
      const subgraph = checkedSubgraph(args.subgraph);
      const first = checkedFirst(args.first);
      const beforeId = idOfCursor(args.after);
      return pageOf(await read((reads) => reads.versions(variant, subgraph, { limit: first + 1, beforeId })), first);
    },

    /** Every field of the variant's API schema with its usage over the last `days` days, most used first. */
    async usage(caller: CallerContext, args: { variant: unknown; days: unknown }): Promise<FieldUsageView[]> {
      requirePlatformAdmin(caller);
      const variant = checkedVariant(args.variant);
      const days = checkedDays(args.days);
      const at = now();
      const counted = await countFields(await fieldsOf(variant), usageFromRedis(deps.redis, deps.namespace, variant, days, at));
      let byCoordinate: Promise<Map<string, OperationCount[]>> | undefined;
      const operationsOf = async (coordinate: string) =>
        (await (byCoordinate ??= operationCountsFromRedis(deps.redis, deps.namespace, variant, days, at).then(operationsByCoordinate))).get(coordinate) ?? [];
      return counted.map((field) => ({ ...field, operations: () => operationsOf(field.coordinate) }));
    },

    /** The operations listed over the last `days` days, most run first. */
    async operations(caller: CallerContext, args: { variant: unknown; days: unknown }): Promise<OperationCount[]> {
      requirePlatformAdmin(caller);
      const variant = checkedVariant(args.variant);
      const days = checkedDays(args.days);
      return operationCountsFromRedis(deps.redis, deps.namespace, variant, days, now());
    },
  };
}
export type RegistryService = ReturnType<typeof createRegistryService>;
