import type { Screen } from '../../shell/screen.ts';
import { AccountPage } from './pages/account.tsx';
import { AppsPage } from './pages/apps.tsx';
import { IdentityProvidersPage } from './pages/identity-providers.tsx';
import { SigningKeysPage } from './pages/signing-keys.tsx';
import { UsersPage } from './pages/users.tsx';

export const identityScreens: readonly Screen[] = [
  { path: '/users', title: 'Users', component: UsersPage },
  { path: '/apps', title: 'Apps', component: AppsPage },
  { path: '/identity-providers', title: 'Identity providers', component: IdentityProvidersPage },
  { path: '/signing-keys', title: 'Signing keys', component: SigningKeysPage },
  { path: '/account', title: 'Account', component: AccountPage },
];
