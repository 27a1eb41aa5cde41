import { lazyRouteComponent } from '@tanstack/react-router';
import { identityScreens } from './domains/identity/screens.ts';
import { tenancyScreens } from './domains/tenancy/screens.ts';
import { workflowScreens } from './domains/workflow/screens.ts';
import type { Screen } from './shell/screen.ts';

/**
 * The console's screens, in navigation order. Each domain keeps its pages, operations and
 * screen list in `domains/<domain>/`; adding a domain is its folder and one line here.
 */
export const SCREENS: readonly Screen[] = [
  ...workflowScreens,
  ...identityScreens,
  ...tenancyScreens,
  // GraphiQL is large: loaded when first opened.
  { path: '/graphiql', title: 'GraphiQL', component: lazyRouteComponent(() => import('./shell/graphiql.tsx'), 'GraphiQLPage') },
];
