import { Migration } from '@mikro-orm/migrations';

/**
 * Plans set each tenant's quotas (a null quota is unlimited); usage counters are what the
 * subgraphs reserve against them: gauges (storage bytes, vectors) under period '', counters
 * that reset (function invocations) under their period, e.g. '2026-11'.
 */
export class Migration0013PlansAndUsage extends Migration {
  override name = '0013-plans-and-usage';

  override up(): void {
    this.addSql(`create table platform.plans (
      id text primary key check (id ~ '^[a-z][a-z0-9-]{1,39}$'),
      name text not null,
      requests_per_minute integer check (requests_per_minute > 0),
      storage_bytes bigint check (storage_bytes >= 0),
      vectors bigint check (vectors >= 0),
      function_invocations_per_month bigint check (function_invocations_per_month >= 0),
      concurrent_runs integer check (concurrent_runs > 0),
      created_at timestamptz not null default now()
    )`);
    this.addSql(`insert into platform.plans (id, name, requests_per_minute, storage_bytes, vectors, function_invocations_per_month, concurrent_runs) values
      ('free', 'Free', 1200, 1073741824, 100000, 500000, 5),
      ('pro', 'Pro', 60000, 107374182400, 5000000, 5000000, 50),
      ('enterprise', 'Enterprise', null, null, null, null, null)`);
    this.addSql(`alter table platform.tenants add column plan text not null default 'free' references platform.plans(id)`);
    this.addSql(`create table platform.usage_counters (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      metric text not null check (metric in ('storage_bytes', 'vectors', 'function_invocations')),
      period text not null default '',
      value bigint not null check (value >= 0),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, metric, period)
    )`);
    this.addSql(`alter table platform.usage_counters enable row level security`);
    this.addSql(`create policy tenant_isolation on platform.usage_counters
      using (tenant_id = platform.current_tenant())
      with check (tenant_id = platform.current_tenant())`);
  }
}
