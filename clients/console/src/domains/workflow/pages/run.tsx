import { useEffect, useState } from 'react';
import { useParams } from '@tanstack/react-router';
import type { ResultOf } from '@tansu/client';
import { RUN, RUN_LOGS, RUN_UPDATED } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { StepGraph, graphSteps } from '../step-graph.tsx';

type Run = NonNullable<ResultOf<typeof RUN>['run']>;
interface LogLine {
  id: string;
  stepId: string | null;
  level: string;
  message: string;
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

/**
 * One run: its status and each step's, changing live as the run's events arrive; each step's
 * attempts and output; its log lines as they are written.
 */
export function RunPage() {
  // Screens are a list, so routes are not typed one by one.
  const { runId } = useParams({ strict: false }) as { runId: string };
  const [run, setRun] = useState<Run | null | undefined>(undefined);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    const stops: (() => void)[] = [];
    let cancelled = false;
    const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
    // Outputs and attempts are read again when a step or the run settles.
    const refresh = () =>
      client
        .request(RUN, { id: runId })
        .then((data) => data.run !== null && setRun((current) => (current == null ? data.run : { ...data.run!, status: current.status })))
        .catch(fail);
    client
      .request(RUN, { id: runId })
      .then((data) => {
        if (cancelled) return;
        setRun(data.run);
        if (data.run === null) return;
        setLogs(data.run.logs.edges.map((l) => ({ id: l.id, stepId: l.stepId, level: l.level, message: l.message })));
        // From the first event: whatever happened between the query and now is replayed.
        stops.push(
          client.subscribe(
            RUN_UPDATED,
            { runId, after: '0' },
            {
              next: ({ runUpdated: event }) => {
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
                });
                if (
                  (event.kind === 'STEP' && event.stepStatus !== null && FINAL.has(event.stepStatus)) ||
                  (event.kind === 'RUN' && FINAL.has(event.status ?? ''))
                )
                  void refresh();
              },
              error: (e) => setError(e.message),
            },
          ),
          client.subscribe(
            RUN_LOGS,
            { runId, after: '0' },
            {
              next: ({ runLogs: line }) =>
                setLogs((current) =>
                  current.some((l) => l.id === line.logId)
                    ? current
                    : [...current, { id: line.logId, stepId: line.stepId, level: line.level, message: line.message }],
                ),
              error: (e) => setError(e.message),
            },
          ),
        );
      })
      .catch(fail);
    return () => {
      cancelled = true;
      stops.forEach((stop) => stop());
    };
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
      <StepGraph steps={graphSteps(run.workflow.steps)} statuses={new Map(run.steps.map((step) => [step.id, step.status]))} />
      <ol className="steps">
        {run.steps.map((step) => (
          <li key={step.id} data-step={step.id} data-status={step.status} className={`status ${step.status}`}>
            <strong>{step.id}</strong> <span>{step.type}</span> <span>{step.status}</span>
            {step.attempt > 1 ? <span> (attempt {step.attempt})</span> : null}
            {step.error === null ? null : <span> {step.error}</span>}
            {step.attempts.length > 1 ? (
              <ul className="attempts">
                {step.attempts.map((a) => (
                  <li key={a.attempt}>
                    attempt {a.attempt}: {a.status}
                    {a.error === null ? '' : ` (${a.error})`}
                  </li>
                ))}
              </ul>
            ) : null}
            {step.output == null ? null : <pre className="output">{JSON.stringify(step.output, null, 2)}</pre>}
          </li>
        ))}
      </ol>
      <h3>Log</h3>
      {logs.length === 0 ? (
        <p>No log lines yet.</p>
      ) : (
        <ol className="log">
          {logs.map((line) => (
            <li key={line.id} data-log={line.id} className={`level-${line.level}`}>
              {line.stepId === null ? null : <code>{line.stepId}</code>} {line.message}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
