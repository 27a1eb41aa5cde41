import type { Screen } from '../../shell/screen.ts';
import { AuditLogPage } from './pages/audit-log.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { TenantsPage } from './pages/tenants.tsx';
import { UsagePage } from './pages/usage.tsx';

export const tenancyScreens: readonly Screen[] = [
  { path: '/usage', title: 'Usage', component: UsagePage },
  { path: '/audit-log', title: 'Audit log', component: AuditLogPage },
  { path: '/settings', title: 'Settings', component: SettingsPage },
  { path: '/tenants', title: 'Tenants', component: TenantsPage, platformOnly: true },
];
