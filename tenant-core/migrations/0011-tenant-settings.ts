import { Migration } from '@mikro-orm/migrations';

/** Per-tenant settings (sign-up, password policy, session lifetime); empty means defaults. */
export class Migration0011TenantSettings extends Migration {
  override name = '0011-tenant-settings';

  override up(): void {
    this.addSql(`alter table platform.tenants add column settings jsonb not null default '{}'::jsonb`);
  }
}
