import type { Redis } from 'ioredis';
import { checkSubgraph, type CheckReport, type RegisteredDocument, type UsageLookup } from '../check/check-subgraph.ts';
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
  deps: {
    registry: Registry;
    redis: Redis;
    namespace: string;
    startingSupergraph: string;
    usage?: UsageLookup;
    operations?: (coordinates: string[]) => Promise<string[]>;
  },
  input: { variant: string; subgraph: string; sdl: string; url?: string; by?: string; documents?: RegisteredDocument[] },
): Promise<{ report: CheckReport; supergraphId?: string; unchanged?: boolean }> {
  type Outcome = { report: CheckReport; supergraphId?: string; unchanged?: boolean; pushSdl?: string };
  const outcome: Outcome = await deps.registry.transaction(async (registry): Promise<Outcome> => {
    await registry.lock(input.variant);
    const current = await registry.current(input.variant);
    const published = current?.subgraphs ?? subgraphsOf(deps.startingSupergraph);
    const existing = published.find((s) => s.name === input.subgraph);
    const url = input.url ?? existing?.url;
    if (url === undefined) throw new PublishInputError(`"${input.subgraph}" is a new subgraph: give its --url`);
    const report = await checkSubgraph({
      published,
      subgraph: input.subgraph,
      proposedSdl: input.sdl,
      url,
      usage: deps.usage,
      operations: deps.operations,
      documents: [...(await registry.documents(input.variant)), ...(input.documents ?? [])],
      allowNew: true,
    });
    await registry.recordCheck(input.variant, report, input.sdl);
    if (!report.passed || report.supergraphSdl === undefined) return { report };
    // Nothing new: the current supergraph is pushed again, in case an earlier push was lost.
    if (current !== null && existing?.sdl === input.sdl && existing.url === url)
      return { report, unchanged: true, supergraphId: current.supergraphId, pushSdl: current.supergraphSdl };
    if (current === null)
      await registry.seed(
        input.variant,
        published.filter((s) => s.name !== input.subgraph),
      );
    const supergraphId = await registry.store(input.variant, { name: input.subgraph, url, sdl: input.sdl }, report.supergraphSdl, input.by ?? null);
    return { report, supergraphId, pushSdl: report.supergraphSdl };
  });
  // After the commit: routers never load a supergraph the registry does not hold.
  if (outcome.supergraphId !== undefined && outcome.pushSdl !== undefined)
    await pushSupergraph(deps.redis, deps.namespace, input.variant, outcome.supergraphId, outcome.pushSdl);
  const { pushSdl: _pushed, ...result } = outcome;
  return result;
}
