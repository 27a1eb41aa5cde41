import { useEffect, useRef, useState } from 'react';
import type { ResultOf } from '@tansu/client';
import { SCHEMA_CHECKS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { VariantPicker, useVariants } from './variant-picker.tsx';

type Check = ResultOf<typeof SCHEMA_CHECKS>['schemaChecks']['nodes'][number];

/** One check's report: why it did not compose, each change (breaking first) with its usage, broken operations. */
function CheckReport({ check }: { check: Check }) {
  const { report } = check;
  return (
    <div className="report" data-report={check.id}>
      {report.compositionErrors.length === 0 ? null : (
        <>
          <h4>Does not compose</h4>
          <ul>
            {report.compositionErrors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </>
      )}
      {report.changes.length === 0 ? (
        report.compositionErrors.length === 0 ? (
          <p>No change to the API schema.</p>
        ) : null
      ) : (
        <table aria-label="Changes">
          <thead>
            <tr>
              <th>Level</th>
              <th>Coordinate</th>
              <th>Change</th>
              <th>Used</th>
            </tr>
          </thead>
          <tbody>
            {report.changes.map((c) => (
              <tr key={`${c.kind}:${c.coordinate}`} data-change={c.coordinate} data-level={c.level} className={c.blocking ? 'blocking' : undefined}>
                <td>
                  {c.level}
                  {c.blocking ? ' (blocks)' : ''}
                </td>
                <td>
                  <code>{c.coordinate}</code>
                </td>
                <td>{c.message}</td>
                <td>
                  {c.uses === null ? '' : `${c.uses} times`}
                  {c.operations === null || c.operations.length === 0 ? '' : ` by ${c.operations.join(', ')}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.documentErrors.length === 0 ? null : (
        <>
          <h4>Registered operations it would break</h4>
          <ul>
            {report.documentErrors.map((d) => (
              <li key={d.name}>
                <code>{d.name}</code>: {d.errors.join('; ')}
              </li>
            ))}
          </ul>
        </>
      )}
      <p className="hint">
        {report.usageAware ? 'Usage recorded by the routers decided which breaking changes block.' : 'No usage recorded: every breaking change blocks.'}
      </p>
    </div>
  );
}

/** Schema checks of a variant, newest first, each opening to its report. */
export function SchemaChecksPage() {
  const { variants, served, error: variantsError } = useVariants();
  const [variant, setVariant] = useState<string | null>(null);
  const [checks, setChecks] = useState<Check[]>([]);
  const [cursor, setCursor] = useState<{ endCursor: string | null; hasMore: boolean }>({ endCursor: null, hasMore: false });
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = variant ?? served;
  // The variant the list shows: an answer for another (switched away from) is dropped.
  const shown = useRef<string | null>(null);

  const load = (after: string | null) => {
    if (chosen === null) return;
    const forVariant = chosen;
    consoleClient()!
      .request(SCHEMA_CHECKS, { variant: forVariant, after })
      .then(({ schemaChecks }) => {
        if (shown.current !== forVariant) return;
        setChecks((current) => (after === null ? schemaChecks.nodes : [...current, ...schemaChecks.nodes]));
        setCursor({ endCursor: schemaChecks.endCursor, hasMore: schemaChecks.hasMore });
      })
      .catch((e: unknown) => shown.current === forVariant && setError(e instanceof Error ? e.message : String(e)));
  };
  useEffect(() => {
    shown.current = chosen;
    setChecks([]);
    setOpen(null);
    setError(null);
    setCursor({ endCursor: null, hasMore: false });
    load(null);
  }, [chosen]);
  const report = checks.find((c) => c.id === open);

  return (
    <section>
      <h2>Schema checks</h2>
      {variantsError === null && error === null ? null : <p role="alert">{variantsError ?? error}</p>}
      {variants === null || chosen === null ? (
        <p>{variants === null ? 'Loading…' : 'No variant published yet.'}</p>
      ) : (
        <>
          <VariantPicker variants={variants} value={chosen} onChange={setVariant} />
          {checks.length === 0 ? (
            <p>No checks yet: `tansu schema check` and `publish` record them.</p>
          ) : (
            <table aria-label="Schema checks">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Subgraph</th>
                  <th>Result</th>
                  <th>Changes</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {checks.map((check) => (
                  <tr key={check.id} data-check={check.id} data-passed={String(check.passed)}>
                    <td>{new Date(check.createdAt).toLocaleString()}</td>
                    <td>{check.subgraph}</td>
                    <td className={`status ${check.passed ? 'SUCCEEDED' : 'FAILED'}`}>{check.passed ? 'passed' : 'failed'}</td>
                    <td>
                      {check.report.changes.filter((c) => c.level === 'BREAKING').length} breaking, {check.report.changes.length} in all
                    </td>
                    <td>
                      <button type="button" data-action="report" onClick={() => setOpen(open === check.id ? null : check.id)}>
                        {open === check.id ? 'Hide report' : 'Report'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {report === undefined ? null : <CheckReport check={report} />}
          {cursor.hasMore ? (
            <button type="button" onClick={() => load(cursor.endCursor)}>
              Older checks
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
