import { writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { subgraphSdl } from './subgraphs/serve.ts';
import type { SubgraphName } from './subgraphs/resolvers.ts';

/** Composes the benchmark supergraph for this run's subgraph URLs and writes it to `file`. */
export function composeSupergraph(urls: Record<SubgraphName, string>, file: string): string {
  const services = (Object.keys(urls) as SubgraphName[]).map((name) => ({
    name,
    url: urls[name],
    typeDefs: parse(subgraphSdl(name)),
  }));
  const result = composeServices(services);
  if (result.errors) {
    throw new Error(`supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  writeFileSync(file, result.supergraphSdl);
  return result.supergraphSdl;
}
