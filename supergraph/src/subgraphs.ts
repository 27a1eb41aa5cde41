import { subgraphEnvPrefix } from '@tansu/platform/config';
import type { TableOwner } from '@tansu/platform/db/table-owner';
import type { StartService } from '@tansu/platform/service';

export interface Subgraph {
  name: string;
  /** Its default port (`<NAME>_PORT`); the router reaches it at `<NAME>_URL`, by default on this machine. */
  port: number;
  /** Its SDL, the contract composed into the supergraph. */
  schema: URL;
  /** The URL baked into the committed supergraph; the router takes its own from the configuration. */
  url: string;
  /** Its start function, loaded only by the processes that run it. */
  start(): Promise<StartService>;
  /** Its tables, when it owns any. */
  tables?(): Promise<TableOwner>;
}

const schemaOf = (name: string) => new URL(`../../subgraphs/${name}/schema.graphql`, import.meta.url);

/**
 * The one list of the platform's subgraphs. Configuration (ports and URLs), the router's
 * wiring and readiness, the dev stack, migrations, composition and the compose file all
 * follow from it: adding a subgraph means adding it here, beside its own folder.
 */
export const SUBGRAPHS: readonly Subgraph[] = [
  {
    name: 'identity',
    port: 4101,
    schema: schemaOf('identity'),
    url: 'http://127.0.0.1:4101/graphql',
    start: async () => (await import('@tansu/subgraph-identity/start-identity-subgraph')).startIdentitySubgraph,
    tables: async () => (await import('@tansu/subgraph-identity/migrations')).identityTables,
  },
  {
    name: 'tenancy',
    port: 4102,
    schema: schemaOf('tenancy'),
    url: 'http://127.0.0.1:4102/graphql',
    start: async () => (await import('@tansu/subgraph-tenancy/start-tenancy-subgraph')).startTenancySubgraph,
  },
  {
    name: 'workflow',
    port: 4103,
    schema: schemaOf('workflow'),
    url: 'http://127.0.0.1:4103/graphql',
    start: async () => (await import('@tansu/subgraph-workflow/start-workflow-subgraph')).startWorkflowSubgraph,
    tables: async () => (await import('@tansu/subgraph-workflow/migrations')).workflowTables,
  },
  {
    // Reads the schema registry's tables, which the registry (schema/) owns and migrates.
    name: 'registry',
    port: 4104,
    schema: schemaOf('registry'),
    url: 'http://127.0.0.1:4104/graphql',
    start: async () => (await import('@tansu/subgraph-registry/start-registry-subgraph')).startRegistrySubgraph,
  },
];

export const SUPERGRAPH_PATH = new URL('../supergraph.graphql', import.meta.url);

/** Settings that put every subgraph on a free port, for stacks started side by side (tests, benchmarks). */
export function onFreePorts(): Record<string, string> {
  return Object.fromEntries(SUBGRAPHS.map((subgraph) => [`${subgraphEnvPrefix(subgraph.name)}_PORT`, '0']));
}
