import { useEffect } from 'react';
import { Link, useNavigate } from '@tanstack/react-router';
import { DEAD_LETTERS, RETRY_RUN, RUNS_FEED } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';

/** A run entering or leaving the list: it failed or timed out, or a replay started it again. */
const MOVES_LIST = new Set(['FAILED', 'TIMED_OUT', 'RUNNING', 'CANCELLED']);

/** Runs that failed or timed out, kept current from the runs feed: why, and a replay that runs again what did not succeed. */
export function DeadLettersPage() {
  const { data, error, reload, setError } = useQuery(DEAD_LETTERS);
  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    return client.subscribe(
      RUNS_FEED,
      {},
      {
        next: ({ runs: change }) => {
          if (change.status !== null && MOVES_LIST.has(change.status)) reload();
        },
        error: (e) => setError(e.message),
      },
    );
  }, [reload]);
  const navigate = useNavigate();
  const replay = (id: string) =>
    consoleClient()!
      .request(RETRY_RUN, { id })
      .then(() => navigate({ to: '/runs/$runId', params: { runId: id } }))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  return (
    <section>
      <h2>Dead letters</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {data === undefined ? (
        <p>Loading…</p>
      ) : data.deadLetterRuns.nodes.length === 0 ? (
        <p>No failed runs.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.deadLetterRuns.nodes.map((run) => (
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
                <td>{run.error}</td>
                <td>
                  <button type="button" data-action="replay" onClick={() => void replay(run.id)}>
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
