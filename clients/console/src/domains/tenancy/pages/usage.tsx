import { useEffect } from 'react';
import { PLAN_AND_USAGE } from '../operations.ts';
import { useQuery } from '../../../shell/use-query.ts';

const LABELS: Record<string, string> = {
  REQUESTS_PER_MINUTE: 'Requests this minute',
  STORAGE_BYTES: 'Storage (bytes)',
  VECTORS: 'Vectors',
  FUNCTION_INVOCATIONS_PER_MONTH: 'Function invocations this month',
  CONCURRENT_RUNS: 'Workflow steps in flight',
};

/** Counters move with every request: read again this often while the page is open. */
const REFRESH_MS = 10_000;

/** The tenant's plan and how much of each quota it uses, read again every few seconds. */
export function UsagePage() {
  const { data, error, reload } = useQuery(PLAN_AND_USAGE);
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  if (error !== null) return <p role="alert">{error}</p>;
  if (data === undefined) return <p>Loading…</p>;
  if (data.tenant === null) return <p role="alert">No tenant</p>;
  return (
    <section>
      <h2>Plan and usage</h2>
      <p>
        Plan: <strong data-testid="plan">{data.tenant.plan.name}</strong>
      </p>
      <table>
        <thead>
          <tr>
            <th>Quota</th>
            <th>Used</th>
            <th>Limit</th>
          </tr>
        </thead>
        <tbody>
          {data.tenant.usage.map((row) => (
            <tr key={row.quota} data-quota={row.quota}>
              <td>{LABELS[row.quota] ?? row.quota}</td>
              <td>{row.used ?? '—'}</td>
              <td>{row.limit ?? 'unlimited'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
