import { Migration } from '@mikro-orm/migrations';

/**
 * Sign-in looks users up by their stored (lowercase) email within the tenant; refresh-token
 * families are revoked together, so they are found by family.
 */
export class Migration0003Hardening extends Migration {
  override name = '0003-hardening';

  override up(): void {
    this.addSql(`create unique index users_tenant_email_exact on identity.users (tenant_id, email)`);
    this.addSql(`create index refresh_tokens_family on identity.refresh_tokens (family_id)`);
    this.addSql(`create index refresh_tokens_user on identity.refresh_tokens (user_id)`);
  }
}
