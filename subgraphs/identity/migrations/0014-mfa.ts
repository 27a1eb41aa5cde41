import { Migration } from '@mikro-orm/migrations';

/**
 * Second factors (TOTP secrets sealed with the key-encryption key; WebAuthn public keys),
 * hashed recovery codes, and the short-lived challenges between a password and a second
 * factor. Sessions remember how they were authenticated, so a refresh keeps it.
 */
export class Migration0014Mfa extends Migration {
  override name = '0014-mfa';

  override up(): void {
    this.addSql(`create table identity.mfa_factors (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null references identity.users(id) on delete cascade,
      kind text not null check (kind in ('totp', 'webauthn')),
      name text not null,
      secret_sealed text,
      credential_id text,
      public_key text,
      sign_count bigint not null default 0,
      last_used_step bigint,
      confirmed_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index mfa_factors_user on identity.mfa_factors (tenant_id, user_id)`);
    this.addSql(`create unique index mfa_factors_credential on identity.mfa_factors (tenant_id, credential_id) where credential_id is not null`);
    this.addSql(`create table identity.recovery_codes (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null references identity.users(id) on delete cascade,
      code_hash text not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index recovery_codes_user on identity.recovery_codes (tenant_id, user_id)`);
    this.addSql(`create table identity.mfa_challenges (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null references identity.users(id) on delete cascade,
      token_hash text not null unique,
      failed_attempts integer not null default 0,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    for (const table of ['mfa_factors', 'recovery_codes', 'mfa_challenges']) {
      this.addSql(`alter table identity.${table} enable row level security`);
      this.addSql(`create policy tenant_isolation on identity.${table}
        using (tenant_id = platform.current_tenant())
        with check (tenant_id = platform.current_tenant())`);
    }
    this.addSql(`alter table identity.refresh_tokens add column amr text[] not null default '{pwd}', add column auth_time timestamptz`);
  }
}
