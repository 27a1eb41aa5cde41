import type { Redis } from 'ioredis';
import { checkSubgraph, type CheckReport, type UsageLookup } from '../check/check-subgraph.ts';
import { subgraphsOf } from '../check/compose-variant.ts';
import type { Registry } from './registry.ts';
import { pushSupergraph } from './supergraph-feed.ts';

export class PublishInputError extends Error {}

/**
 * Checks a subgraph's SDL against the variant as published (or, before its first publish,
 * against `startingSupergraph`) and, when it passes, stores it with the supergraph it composes
 * into and pushes that supergraph to the routers. A failed check publishes nothing.
 */
export async function publishSubgraph(
  deps: { registry: Registry; redis: Redis; namespace: string; startingSupergraph: string; usage?: UsageLookup; operations?: (coordinates: string[]) => Promise<string[]> },
  input: { variant: string; subgraph: string; sdl: string; url?: string; by?: string },
): Promise<{ report: CheckReport; supergraphId?: string; unchanged?: boolean }> {
  const outcome = await deps.registry.transaction(async (registry) => {
    await registry.lock(input.variant);
    const current = await registry.current(input.variant);
    const published = current?.subgraphs ?? subgraphsOf(deps.startingSupergraph);
    const existing = published.find((s) => s.name === input.subgraph);
    const url = input.url ?? existing?.url;
    if (url === undefined) throw new PublishInputError(`"${input.subgraph}" is a new subgraph: give its --url`);
    const report = await checkSubgraph({ published, subgraph: input.subgraph, proposedSdl: input.sdl, url, usage: deps.usage, operations: deps.operations, documents: await registry.documents(input.variant), allowNew: true });
    await registry.recordCheck(input.variant, report, input.sdl);
    if (!report.passed || report.supergraphSdl === undefined) return { report };
    if (current !== null && existing?.sdl === input.sdl && existing.url === url) return { report, unchanged: true };
    if (current === null) await registry.seed(input.variant, published.filter((s) => s.name !== input.subgraph));
    const supergraphId = await registry.store(input.variant, { name: input.subgraph, url, sdl: input.sdl }, report.supergraphSdl, input.by ?? null);
    return { report, supergraphId };
  });
  // After the commit: routers never load a supergraph the registry does not hold.
  if (outcome.supergraphId !== undefined && outcome.report.supergraphSdl !== undefined) await pushSupergraph(deps.redis, deps.namespace, input.variant, outcome.report.supergraphSdl);
  return outcome;
}
