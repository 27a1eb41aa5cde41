import { Migration } from '@mikro-orm/migrations';

/**
 * External OpenID providers a tenant's users may sign in with (client secrets sealed), and
 * which upstream account each user is linked to.
 */
export class Migration0015IdentityProviders extends Migration {
  override name = '0015-identity-providers';

  override up(): void {
    this.addSql(`create table identity.identity_providers (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      slug text not null check (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
      name text not null,
      issuer text not null,
      client_id text not null,
      client_secret_sealed text not null,
      scopes text not null default 'openid email profile',
      created_at timestamptz not null default now(),
      unique (tenant_id, slug)
    )`);
    this.addSql(`create table identity.user_identities (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid not null references identity.users(id) on delete cascade,
      provider_id uuid not null references identity.identity_providers(id) on delete cascade,
      subject text not null,
      email text,
      created_at timestamptz not null default now(),
      unique (tenant_id, provider_id, subject)
    )`);
    for (const table of ['identity_providers', 'user_identities']) {
      this.addSql(`alter table identity.${table} enable row level security`);
      this.addSql(`create policy tenant_isolation on identity.${table}
        using (tenant_id = platform.current_tenant())
        with check (tenant_id = platform.current_tenant())`);
    }
  }
}
