import { Migration } from '@mikro-orm/migrations';

/**
 * Single-use tokens sent by email (address verification, password reset, invitation), stored
 * as hashes; and when a user's address was proven.
 */
export class Migration0012EmailTokens extends Migration {
  override name = '0012-email-tokens';

  override up(): void {
    this.addSql(`alter table identity.users add column email_verified_at timestamptz`);
    this.addSql(`create table identity.email_tokens (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      purpose text not null check (purpose in ('verify_email', 'reset_password', 'invitation')),
      token_hash text not null unique,
      user_id uuid references identity.users(id) on delete cascade,
      email text not null,
      role text check (role in ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER')),
      created_by uuid,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index email_tokens_tenant_email on identity.email_tokens (tenant_id, purpose, email)`);
    this.addSql(`alter table identity.email_tokens enable row level security`);
    this.addSql(`create policy tenant_isolation on identity.email_tokens
      using (tenant_id = platform.current_tenant())
      with check (tenant_id = platform.current_tenant())`);
  }
}
