import { composeServices } from '@apollo/composition';
import { Supergraph, printSchema } from '@apollo/federation-internals';
import { parse, type GraphQLSchema } from 'graphql';

export interface SubgraphSdl {
  name: string;
  url: string;
  sdl: string;
}

/** The subgraphs a supergraph was composed from, as SDL that composes again. */
export function subgraphsOf(supergraphSdl: string): SubgraphSdl[] {
  return Supergraph.build(supergraphSdl)
    .subgraphs()
    .values()
    .map((s) => ({ name: s.name, url: s.url, sdl: printSchema(s.schema) }));
}

/** The schema clients see (federation machinery removed). */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** Composes subgraphs: the supergraph SDL, or every composition error. */
export function compose(subgraphs: readonly SubgraphSdl[]): { supergraphSdl: string; errors: [] } | { supergraphSdl?: undefined; errors: string[] } {
  let services;
  try {
    services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
  } catch (error) {
    return { errors: [`SDL does not parse: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const result = composeServices(services);
  if (result.errors !== undefined && result.errors.length > 0) return { errors: result.errors.map((e) => e.message) };
  if (result.supergraphSdl === undefined) return { errors: ['Composition produced no supergraph'] };
  return { supergraphSdl: result.supergraphSdl, errors: [] };
}
