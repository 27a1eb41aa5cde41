import type { FunctionComponent } from 'react';
import { RunsPage } from './pages/runs.tsx';
import { TenantsPage } from './pages/tenants.tsx';
import { UsersPage } from './pages/users.tsx';

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
  { path: '/users', title: 'Users', component: UsersPage },
  { path: '/tenants', title: 'Tenants', component: TenantsPage, platformOnly: true },
];
