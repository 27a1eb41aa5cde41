import type { TableOwner } from '@tansu/platform/db/table-owner';
import { Migration0001PlatformAndIdentity } from './0001-platform-and-identity.ts';
import { Migration0007TenantStatus } from './0007-tenant-status.ts';
import { Migration0008AuditLog } from './0008-audit-log.ts';
import { Migration0011TenantSettings } from './0011-tenant-settings.ts';
import { Migration0013PlansAndUsage } from './0013-plans-and-usage.ts';

export const tenantCoreTables: TableOwner = {
  name: 'tenant-core',
  appSchemas: ['platform'],
  migrations: [
    // The first migration predates the split by owner: it also made the kernel's outbox and
    // identity's first tables, and keeps its recorded name.
    { name: '0001-platform-and-identity', class: Migration0001PlatformAndIdentity },
    { name: '0007-tenant-status', class: Migration0007TenantStatus },
    { name: '0008-audit-log', class: Migration0008AuditLog },
    { name: '0011-tenant-settings', class: Migration0011TenantSettings },
    { name: '0013-plans-and-usage', class: Migration0013PlansAndUsage },
  ],
  narrowGrants: (role) => [
    // The tenant registry has no row security: the application may add tenants, never rename
    // or remove one (a delete would cascade through every tenant's rows, RLS or not).
    `revoke update, delete, truncate on platform.tenants from ${role}`,
    // Its status (suspend, resume, mark deleted), settings and plan alone may change; the purge is the owner's.
    `grant update (status, status_changed_at, settings, plan) on platform.tenants to ${role}`,
    // Plans are the operator's: the application reads them.
    `revoke insert, update, delete, truncate on platform.plans from ${role}`,
  ],
};
