import { useEffect, useState } from 'react';
import { Link } from '@tanstack/react-router';
import type { ResultOf } from '@tansu/client';
import { RUNS, RUNS_FEED } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';

type RunRow = ResultOf<typeof RUNS>['runs']['nodes'][number];

/** The tenant's runs, newest first, each row updated live from the runs feed. */
export function RunsPage() {
  const [runs, setRuns] = useState<RunRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    let stop: (() => void) | undefined;
    let cancelled = false;
    client
      .request(RUNS)
      .then((data) => {
        if (cancelled) return;
        setRuns([...data.runs.nodes]);
        // From where the feed stood when the list was read: no change in between is missed.
        stop = client.subscribe(
          RUNS_FEED,
          { after: data.runs.live ?? undefined },
          {
            next: ({ runs: change }) => {
              const run = change.run;
              if (run === null) return;
              setRuns((rows) => {
                const others = (rows ?? []).filter((r) => r.id !== run.id);
                return [run, ...others].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
              });
            },
            error: (e) => setError(e.message),
          },
        );
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      cancelled = true;
      stop?.();
    };
  }, []);
  if (error !== null) return <p role="alert">{error}</p>;
  if (runs === null) return <p>Loading…</p>;
  return (
    <section>
      <h2>Runs</h2>
      <table>
        <thead>
          <tr>
            <th>Run</th>
            <th>Workflow</th>
            <th>Status</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-run={run.id}>
              <td>
                <Link to="/runs/$runId" params={{ runId: run.id }}>
                  {run.id.slice(0, 8)}
                </Link>
              </td>
              <td>
                {run.workflow.name} v{run.workflow.version}
              </td>
              <td className={`status ${run.status}`}>{run.status}</td>
              <td>{new Date(run.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
