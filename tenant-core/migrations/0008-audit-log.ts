import { Migration } from '@mikro-orm/migrations';

/** Every authentication event and administrative change of a tenant: who, what, when, from where, outcome. */
export class Migration0008AuditLog extends Migration {
  override name = '0008-audit-log';

  override up(): void {
    this.addSql(`create table platform.audit_log (
      id bigserial primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      at timestamptz not null default now(),
      actor_id text,
      action text not null,
      target text,
      outcome text not null check (outcome in ('success', 'failure')),
      ip text,
      user_agent text,
      detail jsonb
    )`);
    this.addSql(`create index audit_log_tenant on platform.audit_log (tenant_id, id desc)`);
    this.addSql(`alter table platform.audit_log enable row level security`);
    this.addSql(`create policy tenant_isolation on platform.audit_log
      using (tenant_id = platform.current_tenant())
      with check (tenant_id = platform.current_tenant())`);
  }
}
