import type { Redis } from 'ioredis';
import type { Registry } from './registry.ts';
import { pushDocuments, pushSupergraph } from './supergraph-feed.ts';

/**
 * Pushes what the registry holds for a variant to the routers again: its supergraph and every
 * registered document. For a Redis that was replaced or flushed; harmless otherwise.
 */
export async function syncVariant(
  deps: { registry: Registry; redis: Redis; namespace: string },
  variant: string,
): Promise<{ supergraphId: string | null; documents: number }> {
  const { current, documents } = await deps.registry.transaction(async (registry) => ({
    current: await registry.current(variant),
    documents: await registry.documentsById(variant),
  }));
  if (current !== null) await pushSupergraph(deps.redis, deps.namespace, variant, current.supergraphId, current.supergraphSdl);
  await pushDocuments(deps.redis, deps.namespace, variant, documents);
  return { supergraphId: current?.supergraphId ?? null, documents: documents.size };
}
