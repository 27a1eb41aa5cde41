import type { EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';

/** What a plan limits; null is unlimited. */
export interface Quotas {
  requestsPerMinute: number | null;
  storageBytes: number | null;
  vectors: number | null;
  functionInvocationsPerMonth: number | null;
  /** Workflow steps in flight at once; more wait their turn rather than fail. */
  concurrentRuns: number | null;
}
export type QuotaName = keyof Quotas;

export interface Plan {
  id: string;
  name: string;
  quotas: Quotas;
}

export const QUOTA_COLUMNS: Record<QuotaName, string> = {
  requestsPerMinute: 'requests_per_minute',
  storageBytes: 'storage_bytes',
  vectors: 'vectors',
  functionInvocationsPerMonth: 'function_invocations_per_month',
  concurrentRuns: 'concurrent_runs',
};

type PlanRow = { id: string; name: string } & Record<string, string | number | null>;

const SELECT = `select id, name, ${Object.values(QUOTA_COLUMNS).join(', ')} from platform.plans`;

function planOf(row: PlanRow): Plan {
  const quotas = {} as Quotas;
  // bigint columns arrive as strings.
  for (const [name, column] of Object.entries(QUOTA_COLUMNS) as [QuotaName, string][]) quotas[name] = row[column] === null ? null : Number(row[column]);
  return { id: row.id, name: row.name, quotas };
}

export async function listPlans(em: EntityManager): Promise<Plan[]> {
  return (await em.execute<PlanRow[]>(`${SELECT} order by coalesce(requests_per_minute, 2147483647), id`)).map(planOf);
}

export async function findPlan(em: EntityManager, id: string): Promise<Plan | null> {
  const [row] = await em.execute<PlanRow[]>(`${SELECT} where id = ?`, [id]);
  return row === undefined ? null : planOf(row);
}

export async function planOfTenant(em: EntityManager, tenantId: string): Promise<Plan> {
  const [row] = await em.execute<PlanRow[]>(`${SELECT} where id = (select plan from platform.tenants where id = ?)`, [tenantId]);
  if (row === undefined) throw errors.notFound('Tenant');
  return planOf(row);
}
