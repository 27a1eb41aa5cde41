import type { Screen } from '../../shell/screen.ts';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { RunPage } from './pages/run.tsx';
import { RunsPage } from './pages/runs.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';

export const workflowScreens: readonly Screen[] = [
  { path: '/runs', title: 'Runs', component: RunsPage },
  { path: '/runs/$runId', title: 'Run', component: RunPage, hidden: true },
  { path: '/workflows', title: 'Workflows', component: WorkflowsPage },
  { path: '/dead-letters', title: 'Dead letters', component: DeadLettersPage },
];
