import type { FunctionComponent } from 'react';

/** A screen of the console: its path under /console, its place in the navigation, who sees it. */
export interface Screen {
  /** TanStack Router path; `$name` segments are read by the page with `useParams`. */
  path: string;
  title: string;
  component: FunctionComponent;
  /** Only for the platform tenant's administrators. */
  platformOnly?: boolean;
  /** Reached from another screen (a run from the runs list), not from the navigation. */
  hidden?: boolean;
}
