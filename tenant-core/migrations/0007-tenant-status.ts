import { Migration } from '@mikro-orm/migrations';

/** Tenants can be suspended (every token refused) and deleted (soft, then purged). */
export class Migration0007TenantStatus extends Migration {
  override name = '0007-tenant-status';

  override up(): void {
    this.addSql(`alter table platform.tenants add column status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED', 'DELETED'))`);
    this.addSql(`alter table platform.tenants add column status_changed_at timestamptz`);
  }
}
