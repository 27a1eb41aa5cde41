import { Migration } from '@mikro-orm/migrations';

/**
 * Durable workflows: definitions (versioned per tenant), runs, their steps and every step
 * attempt, and run logs. Postgres is the source of truth; queues only carry work.
 */
export class Migration0002Workflow extends Migration {
  override name = '0002-workflow';

  override up(): void {
    this.addSql(`create schema if not exists workflow`);

    this.addSql(`create table workflow.definitions (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      name text not null,
      version int not null,
      spec jsonb not null,
      created_by uuid,
      created_at timestamptz not null default now(),
      unique (tenant_id, name, version)
    )`);

    this.addSql(`create table workflow.runs (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      definition_id uuid not null references workflow.definitions(id),
      status text not null check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),
      input jsonb not null,
      output jsonb,
      error text,
      idempotency_key text,
      started_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      finished_at timestamptz
    )`);
    this.addSql(`create unique index runs_idempotency on workflow.runs (tenant_id, idempotency_key) where idempotency_key is not null`);
    this.addSql(`create index runs_tenant_created on workflow.runs (tenant_id, created_at desc, id desc)`);
    this.addSql(`create index runs_tenant_status on workflow.runs (tenant_id, status, created_at desc)`);

    this.addSql(`create table workflow.steps (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      run_id uuid not null references workflow.runs(id) on delete cascade,
      step_id text not null,
      status text not null check (status in ('PENDING', 'READY', 'DISPATCHED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),
      attempt int not null default 0,
      ready_at timestamptz,
      lease_until timestamptz,
      wait jsonb,
      output jsonb,
      error text,
      error_code text,
      started_at timestamptz,
      finished_at timestamptz,
      primary key (run_id, step_id)
    )`);
    // The dispatcher's scan: ready or overdue work across tenants, oldest first.
    this.addSql(`create index steps_ready on workflow.steps (ready_at) where status = 'READY'`);
    this.addSql(`create index steps_leased on workflow.steps (lease_until) where status in ('DISPATCHED', 'RUNNING')`);
    this.addSql(`create index steps_waiting on workflow.steps (tenant_id) where status = 'WAITING'`);

    this.addSql(`create table workflow.step_attempts (
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      run_id uuid not null references workflow.runs(id) on delete cascade,
      step_id text not null,
      attempt int not null,
      status text not null check (status in ('RUNNING', 'SUCCEEDED', 'FAILED', 'ABANDONED')),
      error text,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (run_id, step_id, attempt)
    )`);

    this.addSql(`create table workflow.run_logs (
      id bigserial primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      run_id uuid not null references workflow.runs(id) on delete cascade,
      step_id text,
      level text not null check (level in ('debug', 'info', 'warn', 'error')),
      message text not null,
      data jsonb,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index run_logs_run on workflow.run_logs (run_id, id)`);

    for (const table of ['workflow.definitions', 'workflow.runs', 'workflow.steps', 'workflow.step_attempts', 'workflow.run_logs']) {
      this.addSql(`alter table ${table} enable row level security`);
      this.addSql(`create policy tenant_isolation on ${table}
        using (tenant_id = platform.current_tenant())
        with check (tenant_id = platform.current_tenant())`);
    }
  }
}
