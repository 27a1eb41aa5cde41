import type { TableOwner } from '@tansu/platform/db/table-owner';
import { Migration0017SchemaRegistry } from './0017-schema-registry.ts';
import { Migration0018RegistryChecksByVariant } from './0018-registry-checks-by-variant.ts';

/** Platform-wide and the operator's: the CLI writes with the owner's connection; the application role only reads. */
export const registryTables: TableOwner = {
  name: 'schema-registry',
  appSchemas: [],
  migrations: [
    { name: '0017-schema-registry', class: Migration0017SchemaRegistry },
    { name: '0018-registry-checks-by-variant', class: Migration0018RegistryChecksByVariant },
  ],
  narrowGrants: (role) => [
    // The registry subgraph shows variants, versions, checks and usage to platform administrators.
    // Named tables only, so a table added later stays the owner's until it is granted here.
    `grant usage on schema registry to ${role}`,
    `grant select on registry.supergraphs, registry.checks to ${role}`,
    // A version's SDL is not shown: the subgraph reads what it lists and nothing else.
    `grant select (id, variant, subgraph, url, sdl_hash, published_by, created_at) on registry.subgraph_versions to ${role}`,
    // Documents are counted, never read: their text stays the owner's.
    `grant select (variant) on registry.persisted_documents to ${role}`,
  ],
};
