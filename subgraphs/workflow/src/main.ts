import { runDeployable } from '@tansu/platform/run-deployable';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { startWorkflowSubgraph } from './start-workflow-subgraph.ts';

await runDeployable('workflow', startWorkflowSubgraph, { subgraphs: SUBGRAPHS });
