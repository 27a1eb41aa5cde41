import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * Writes a typed operation against the platform's public API: `graphql(\`query { me { id } }\`)`
 * gives a document whose result and variables TypeScript knows (inferred from
 * `graphql-env.d.ts`, made from the committed supergraph by `npm run compose`).
 */
export const graphql = initGraphQLTada<{ introspection: introspection; scalars: { JSON: unknown } }>();

export type { ResultOf, VariablesOf, FragmentOf, TadaDocumentNode } from 'gql.tada';
export { readFragment } from 'gql.tada';
