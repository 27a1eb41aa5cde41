import { readFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs.ts';

export class CompositionError extends Error {}

/** Composes the subgraphs' SDL files into supergraph SDL, or fails listing every error. */
export async function composeSupergraph(subgraphs: readonly { name: string; schema: URL; url: string }[] = SUBGRAPHS): Promise<string> {
  const services = await Promise.all(subgraphs.map(async (s) => ({ name: s.name, url: s.url, typeDefs: parse(await readFile(s.schema, 'utf8')) })));
  const result = composeServices(services);
  if (result.errors !== undefined && result.errors.length > 0) {
    throw new CompositionError(`Composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  if (result.supergraphSdl === undefined) throw new CompositionError('Composition produced no supergraph');
  return result.supergraphSdl;
}
