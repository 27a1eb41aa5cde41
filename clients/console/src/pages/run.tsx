import { useEffect, useState } from 'react';
import type { ResultOf } from '@tansu/client';
import { RUN, RUN_UPDATED } from '../operations.ts';
import { consoleClient } from '../session.ts';

type Run = NonNullable<ResultOf<typeof RUN>['run']>;

/** One run: its status and each step's, changing live as the run's events arrive. */
export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    let stop: (() => void) | undefined;
    client
      .request(RUN, { id: runId })
      .then((data) => {
        setRun(data.run);
        if (data.run === null) return;
        // From the first event: whatever happened between the query and now is replayed.
        stop = client.subscribe(
          RUN_UPDATED,
          { runId, after: '0' },
          {
            next: ({ runUpdated: event }) =>
              setRun((current) => {
                if (current == null) return current;
                if (event.kind === 'RUN' && event.status !== null) return { ...current, status: event.status, error: event.error ?? current.error };
                return {
                  ...current,
                  steps: current.steps.map((step) =>
                    step.id === event.stepId && event.stepStatus !== null
                      ? { ...step, status: event.stepStatus, attempt: event.attempt ?? step.attempt, error: event.error ?? null }
                      : step,
                  ),
                };
              }),
            error: (e) => setError(e.message),
          },
        );
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => stop?.();
  }, [runId]);
  if (error !== null) return <p role="alert">{error}</p>;
  if (run === undefined) return <p>Loading…</p>;
  if (run === null) return <p role="alert">No run {runId}</p>;
  return (
    <section>
      <h2>
        {run.workflow.name} v{run.workflow.version}
      </h2>
      <p>
        Run <code>{run.id}</code>:{' '}
        <span className={`status ${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </p>
      {run.error === null ? null : <p role="alert">{run.error}</p>}
      <ol className="steps">
        {run.steps.map((step) => (
          <li key={step.id} data-step={step.id} data-status={step.status} className={`status ${step.status}`}>
            <strong>{step.id}</strong> <span>{step.type}</span> <span>{step.status}</span>
            {step.attempt > 1 ? <span> (attempt {step.attempt})</span> : null}
            {step.error === null ? null : <span> {step.error}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
