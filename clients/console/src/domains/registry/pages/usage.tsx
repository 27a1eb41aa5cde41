import { useState } from 'react';
import { SCHEMA_USAGE } from '../operations.ts';
import { useQuery } from '../../../shell/use-query.ts';
import { VariantPicker, useVariants } from './variant-picker.tsx';

const WINDOWS = [1, 7, 30] as const;

/** Every field of a variant's API with how often operations selected it: what is safe to remove, what clients rely on. */
export function SchemaUsagePage() {
  const { variants, served, error: variantsError } = useVariants();
  const [variant, setVariant] = useState<string | null>(null);
  const [days, setDays] = useState<number>(7);
  const [unusedOnly, setUnusedOnly] = useState(false);
  const chosen = variant ?? served;
  return (
    <section>
      <h2>Field usage</h2>
      {variantsError === null ? null : <p role="alert">{variantsError}</p>}
      {variants === null || chosen === null ? (
        <p>{variants === null ? 'Loading…' : 'No variant published yet.'}</p>
      ) : (
        <>
          <div className="inline">
            <VariantPicker variants={variants} value={chosen} onChange={setVariant} />
            <label className="inline-label">
              Over the last{' '}
              <select name="days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
                {WINDOWS.map((d) => (
                  <option key={d} value={d}>
                    {d === 1 ? 'day' : `${d} days`}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline-label">
              <input type="checkbox" name="unused" checked={unusedOnly} onChange={(e) => setUnusedOnly(e.target.checked)} /> unused fields only
            </label>
          </div>
          <UsageTable variant={chosen} days={days} unusedOnly={unusedOnly} />
        </>
      )}
    </section>
  );
}

function UsageTable({ variant, days, unusedOnly }: { variant: string; days: number; unusedOnly: boolean }) {
  const { data, error } = useQuery(SCHEMA_USAGE, { variant, days });
  if (error !== null) return <p role="alert">{error}</p>;
  if (data === undefined) return <p>Loading…</p>;
  const fields = unusedOnly ? data.schemaUsage.filter((f) => f.count === 0) : data.schemaUsage;
  return (
    <table aria-label="Field usage">
      <thead>
        <tr>
          <th>Field</th>
          <th>Selected</th>
          <th>By</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.coordinate} data-field={f.coordinate} data-count={f.count}>
            <td>
              <code>{f.coordinate}</code>
              {f.isDeprecated ? <span className="badge">deprecated{f.deprecationReason === null ? '' : `: ${f.deprecationReason}`}</span> : null}
            </td>
            <td>{f.count}</td>
            <td>
              {f.operations
                .slice(0, 5)
                .map((o) => `${o.name} (${o.count})`)
                .join(', ')}
              {f.operations.length > 5 ? ` and ${f.operations.length - 5} more` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
