import { lazyRouteComponent } from '@tanstack/react-router';
import { identityScreens } from './domains/identity/screens.ts';
import { registryScreens } from './domains/registry/screens.ts';
import { tenancyScreens } from './domains/tenancy/screens.ts';
import { workflowScreens } from './domains/workflow/screens.ts';
import type { Screen } from './shell/screen.ts';

/** A group of screens in the navigation, one per domain. */
export interface Section {
  title: string;
  screens: readonly Screen[];
}

/**
 * The console's navigation, in order. Each domain keeps its pages, operations and screen list
 * in `domains/<domain>/`; adding a domain is its folder and one line here.
 */
export const SECTIONS: readonly Section[] = [
  { title: 'Workflow', screens: workflowScreens },
  { title: 'Identity', screens: identityScreens },
  { title: 'Tenancy', screens: tenancyScreens },
  { title: 'Schema registry', screens: registryScreens },
  {
    title: 'Developer',
    // GraphiQL is large: loaded when first opened.
    screens: [{ path: '/graphiql', title: 'GraphiQL', component: lazyRouteComponent(() => import('./shell/graphiql.tsx'), 'GraphiQLPage') }],
  },
];

export const SCREENS: readonly Screen[] = SECTIONS.flatMap((section) => section.screens);
