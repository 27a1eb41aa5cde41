import { runDeployable } from '@tansu/platform/run-deployable';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { startIdentitySubgraph } from './start-identity-subgraph.ts';

await runDeployable('identity', startIdentitySubgraph, { subgraphs: SUBGRAPHS });
