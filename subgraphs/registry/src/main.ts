import { runDeployable } from '@tansu/platform/run-deployable';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { startRegistrySubgraph } from './start-registry-subgraph.ts';

await runDeployable('registry', startRegistrySubgraph, { subgraphs: SUBGRAPHS });
