import type { FunctionComponent } from 'react';
import { lazyRouteComponent } from '@tanstack/react-router';
import { AppsPage } from './pages/apps.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { TenantsPage } from './pages/tenants.tsx';
import { UsagePage } from './pages/usage.tsx';
import { UsersPage } from './pages/users.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';

/** A screen of the console: its path under /console, its place in the navigation, who sees it. */
export interface Screen {
  path: string;
  title: string;
  component: FunctionComponent;
  /** Only for the platform tenant's administrators. */
  platformOnly?: boolean;
}

/**
 * The console's screens, in navigation order. A domain adds its screens here (its pages in
 * `pages/`, its operations in `operations.ts`); nothing else changes.
 */
export const SCREENS: readonly Screen[] = [
  { path: '/runs', title: 'Runs', component: RunsPage },
  { path: '/workflows', title: 'Workflows', component: WorkflowsPage },
  { path: '/dead-letters', title: 'Dead letters', component: DeadLettersPage },
  { path: '/users', title: 'Users', component: UsersPage },
  { path: '/apps', title: 'Apps', component: AppsPage },
  { path: '/usage', title: 'Usage', component: UsagePage },
  { path: '/audit-log', title: 'Audit log', component: AuditLogPage },
  { path: '/settings', title: 'Settings', component: SettingsPage },
  { path: '/tenants', title: 'Tenants', component: TenantsPage, platformOnly: true },
  // GraphiQL is large: loaded when first opened.
  { path: '/graphiql', title: 'GraphiQL', component: lazyRouteComponent(() => import('./pages/graphiql.tsx'), 'GraphiQLPage') },
];
