/**
 * Which subgraphs compose the Tansu supergraph. The URLs are the defaults baked into
 * supergraph.graphql; the router overrides them from its configuration at start-up.
 */
export const SUBGRAPHS = [
  { name: 'identity', schema: new URL('../../subgraphs/identity/schema.graphql', import.meta.url), url: 'http://127.0.0.1:4101/graphql' },
  { name: 'tenancy', schema: new URL('../../subgraphs/tenancy/schema.graphql', import.meta.url), url: 'http://127.0.0.1:4102/graphql' },
  { name: 'workflow', schema: new URL('../../subgraphs/workflow/schema.graphql', import.meta.url), url: 'http://127.0.0.1:4103/graphql' },
] as const;

export const SUPERGRAPH_PATH = new URL('../supergraph.graphql', import.meta.url);
