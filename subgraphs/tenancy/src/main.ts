import { runDeployable } from '@tansu/platform/run-deployable';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { startTenancySubgraph } from './start-tenancy-subgraph.ts';

await runDeployable('tenancy', startTenancySubgraph, { subgraphs: SUBGRAPHS });
