import { useEffect, useState } from 'react';
import { Link, useNavigate } from '@tanstack/react-router';
import type { ResultOf } from '@tansu/client';
import { DEAD_LETTERS, RETRY_RUN, RUNS_FEED } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';

/** A run enters the list when it fails or times out. */
const ENTERS = new Set(['FAILED', 'TIMED_OUT']);

/** Runs that failed or timed out, kept current from the runs feed: why, and a replay that runs again what did not succeed. */
export function DeadLettersPage() {
  const [data, setData] = useState<ResultOf<typeof DEAD_LETTERS> | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    let cancelled = false;
    let stop: (() => void) | undefined;
    let listed = new Set<string>();
    // Only the newest read is shown: a slower earlier answer does not overwrite it.
    let reads = 0;
    const read = async () => {
      const mine = ++reads;
      const result = await client.request(DEAD_LETTERS);
      if (!cancelled && mine === reads) {
        setData(result);
        listed = new Set(result.deadLetterRuns.nodes.map((run) => run.id));
      }
      return result;
    };
    read()
      .then((first) => {
        if (cancelled) return;
        // From where the feed stood when the list was read: a run failing in between is not missed.
        stop = client.subscribe(
          RUNS_FEED,
          { after: first.deadLetterRuns.live ?? undefined },
          {
            next: ({ runs: change }) => {
              // A run fails (it enters), or a listed one is replayed or cancelled (it leaves).
              if ((change.status !== null && ENTERS.has(change.status)) || listed.has(change.runId)) read().catch(fail);
            },
            error: (e) => setError(e.message),
          },
        );
      })
      .catch(fail);
    return () => {
      cancelled = true;
      stop?.();
    };
  }, []);
  const navigate = useNavigate();
  const replay = (id: string) =>
    consoleClient()!
      .request(RETRY_RUN, { id })
      .then(() => navigate({ to: '/runs/$runId', params: { runId: id } }))
      .catch(fail);
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
