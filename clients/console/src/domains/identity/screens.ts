import type { Screen } from '../../shell/screen.ts';
import { AppsPage } from './pages/apps.tsx';
import { UsersPage } from './pages/users.tsx';

export const identityScreens: readonly Screen[] = [
  { path: '/users', title: 'Users', component: UsersPage },
  { path: '/apps', title: 'Apps', component: AppsPage },
];
