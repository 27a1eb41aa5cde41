import type { EntityManager } from '@tansu/platform/db/database';
import { TansuError, errors } from '@tansu/platform/errors';
import { planOfTenant, type QuotaName } from './plans.ts';

/** Usage the subgraphs count in Postgres: gauges that go up and down, and a monthly counter. */
export type CountedMetric = 'storageBytes' | 'vectors' | 'functionInvocations';

const METRICS: Record<CountedMetric, { column: string; quota: QuotaName; monthly: boolean; unit: string }> = {
  storageBytes: { column: 'storage_bytes', quota: 'storageBytes', monthly: false, unit: 'bytes of storage' },
  vectors: { column: 'vectors', quota: 'vectors', monthly: false, unit: 'vectors' },
  functionInvocations: { column: 'function_invocations', quota: 'functionInvocationsPerMonth', monthly: true, unit: 'function invocations this month' },
};

/** '' for a gauge; the UTC month for a counter that starts again each month. */
export function periodOf(metric: CountedMetric, now: Date): string {
  return METRICS[metric].monthly ? now.toISOString().slice(0, 7) : '';
}

export interface QuotaUse {
  used: number;
  limit: number | null;
}

async function currentValue(em: EntityManager, tenantId: string, metric: CountedMetric, period: string): Promise<number> {
  const [row] = await em.execute<{ value: string }[]>(`select value from platform.usage_counters where tenant_id = ? and metric = ? and period = ?`, [
    tenantId,
    METRICS[metric].column,
    period,
  ]);
  return row === undefined ? 0 : Number(row.value);
}

/**
 * Reserves `amount` of a metric in the caller's transaction (so a failed upload gives it back
 * by rolling back), or releases it when negative. Past the tenant's plan: QUOTA_EXCEEDED,
 * naming the limit and the usage, and nothing is counted.
 */
export async function consumeQuota(em: EntityManager, tenantId: string, metric: CountedMetric, amount: number, now = new Date()): Promise<QuotaUse> {
  if (!Number.isSafeInteger(amount)) throw errors.badInput('amount', 'must be a whole number');
  const { column, quota, unit } = METRICS[metric];
  const period = periodOf(metric, now);
  const plan = await planOfTenant(em, tenantId);
  const limit = plan.quotas[quota];
  const exceeded = (used: number) =>
    new TansuError('QUOTA_EXCEEDED', `Quota exceeded: the ${plan.name} plan allows ${limit} ${unit}; ${used} used, ${amount} more requested`, {
      extensions: { quota, limit, used, requested: amount, plan: plan.id },
    });
  if (limit !== null && amount > limit) throw exceeded(await currentValue(em, tenantId, metric, period));
  // The row lock taken by the upsert orders concurrent reservations: the sum never passes the limit.
  const rows = await em.execute<{ value: string }[]>(
    `insert into platform.usage_counters (tenant_id, metric, period, value) values (?, ?, ?, greatest(?::bigint, 0))
     on conflict (tenant_id, metric, period) do update set value = greatest(usage_counters.value + ?::bigint, 0), updated_at = now()
       where ?::bigint <= 0 or ?::bigint is null or usage_counters.value + ?::bigint <= ?::bigint
     returning value`,
    [tenantId, column, period, amount, amount, amount, limit, amount, limit],
  );
  if (rows.length === 0) throw exceeded(await currentValue(em, tenantId, metric, period));
  return { used: Number(rows[0]!.value), limit };
}

/** Every counted metric of a tenant now, with its plan's limit. */
export async function countedUsage(em: EntityManager, tenantId: string, now = new Date()): Promise<Record<CountedMetric, QuotaUse>> {
  const plan = await planOfTenant(em, tenantId);
  const result = {} as Record<CountedMetric, QuotaUse>;
  for (const metric of Object.keys(METRICS) as CountedMetric[]) {
    result[metric] = { used: await currentValue(em, tenantId, metric, periodOf(metric, now)), limit: plan.quotas[METRICS[metric].quota] };
  }
  return result;
}
