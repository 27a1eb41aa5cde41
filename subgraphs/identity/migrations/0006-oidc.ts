import { Migration } from '@mikro-orm/migrations';

/**
 * The per-tenant OpenID providers: their protocol state (sessions, grants, codes, tokens,
 * interactions) and the tenants' registered clients. Both keyed and guarded by tenant.
 */
export class Migration0006Oidc extends Migration {
  override name = '0006-oidc';

  override up(): void {
    this.addSql(`create table identity.oidc_payloads (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      model text not null,
      id text not null,
      payload jsonb not null,
      grant_id text,
      user_code text,
      uid text,
      expires_at timestamptz,
      consumed_at timestamptz,
      primary key (tenant_id, model, id)
    )`);
    this.addSql(`create index oidc_payloads_grant on identity.oidc_payloads (tenant_id, grant_id)`);
    this.addSql(`create index oidc_payloads_uid on identity.oidc_payloads (tenant_id, uid)`);
    this.addSql(`create index oidc_payloads_user_code on identity.oidc_payloads (tenant_id, user_code)`);

    this.addSql(`create table identity.clients (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      client_id text not null,
      name text not null,
      kind text not null check (kind in ('PUBLIC', 'CONFIDENTIAL')),
      metadata jsonb not null,
      secret_enc text,
      created_by uuid,
      created_at timestamptz not null default now(),
      primary key (tenant_id, client_id)
    )`);
    this.addSql(`create unique index clients_id on identity.clients (client_id)`);

    for (const table of ['identity.oidc_payloads', 'identity.clients']) {
      this.addSql(`alter table ${table} enable row level security`);
      this.addSql(`create policy tenant_isolation on ${table}
        using (tenant_id = platform.current_tenant())
        with check (tenant_id = platform.current_tenant())`);
    }
  }
}
