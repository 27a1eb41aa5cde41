import { Migration } from '@mikro-orm/migrations';

/**
 * Tenant registry, memberships, signing keys and the outbox (platform), users and refresh
 * tokens (identity). Every tenant-scoped table is guarded by Row Level Security against
 * `app.tenant_id`; an unset context matches no row.
 */
export class Migration0001PlatformAndIdentity extends Migration {
  override name = '0001-platform-and-identity';

  override up(): void {
    this.addSql(`create schema if not exists platform`);
    this.addSql(`create schema if not exists identity`);
    this.addSql(`create or replace function platform.current_tenant() returns uuid
      language sql stable as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$`);

    this.addSql(`create table platform.tenants (
      id uuid primary key,
      slug text not null unique,
      name text not null,
      created_at timestamptz not null default now()
    )`);

    this.addSql(`create table platform.memberships (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null,
      role text not null check (role in ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, user_id)
    )`);

    this.addSql(`create table platform.signing_keys (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      kid text not null,
      alg text not null,
      public_jwk jsonb not null,
      private_key_enc text not null,
      status text not null default 'active' check (status in ('active', 'retired')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, kid)
    )`);

    this.addSql(`create table platform.outbox (
      id bigserial primary key,
      tenant_id uuid not null,
      topic text not null,
      payload jsonb not null,
      created_at timestamptz not null default now(),
      published_at timestamptz
    )`);
    this.addSql(`create index outbox_unpublished on platform.outbox (id) where published_at is null`);

    this.addSql(`create table identity.users (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      email text not null,
      password_hash text not null,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create unique index users_tenant_email on identity.users (tenant_id, lower(email))`);

    this.addSql(`create table identity.refresh_tokens (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null references identity.users(id) on delete cascade,
      family_id uuid not null,
      token_hash text not null unique,
      expires_at timestamptz not null,
      rotated_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    )`);

    for (const table of ['platform.memberships', 'platform.signing_keys', 'platform.outbox', 'identity.users', 'identity.refresh_tokens']) {
      this.addSql(`alter table ${table} enable row level security`);
      this.addSql(`create policy tenant_isolation on ${table}
        using (tenant_id = platform.current_tenant())
        with check (tenant_id = platform.current_tenant())`);
    }
  }
}
