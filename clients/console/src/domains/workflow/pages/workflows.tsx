import { Fragment, useState, type FormEvent } from 'react';
import { useNavigate } from '@tanstack/react-router';
import { CREATE_WORKFLOW, START_WORKFLOW, WORKFLOWS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';
import { StepGraph, graphSteps } from '../step-graph.tsx';

const EXAMPLE = JSON.stringify([{ id: 'wait', type: 'delay', with: { ms: 500 } }], null, 2);

/** Workflow definitions: add one (or its next version) from its steps, see its step graph, start a run and follow it. */
export function WorkflowsPage() {
  const { data, error, reload, setError } = useQuery(WORKFLOWS);
  const [name, setName] = useState('');
  const [steps, setSteps] = useState(EXAMPLE);
  const [shown, setShown] = useState<string | null>(null);
  const navigate = useNavigate();
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const create = (event: FormEvent) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(steps);
    } catch {
      setError('The steps must be JSON: a list of steps');
      return;
    }
    consoleClient()!
      .request(CREATE_WORKFLOW, { input: { name: name.trim(), steps: parsed } })
      .then(() => {
        setName('');
        reload();
      })
      .catch(fail);
  };
  const start = (workflow: string) =>
    consoleClient()!
      .request(START_WORKFLOW, { input: { workflow } })
      .then(({ startWorkflow }) => navigate({ to: '/runs/$runId', params: { runId: startWorkflow.id } }))
      .catch(fail);
  return (
    <section>
      <h2>Workflows</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      <form onSubmit={create} aria-label="Create a workflow">
        <label>
          Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Steps (JSON)
          <textarea name="steps" rows={8} value={steps} onChange={(e) => setSteps(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit">Save workflow</button>
      </form>
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Version</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.workflows.map((workflow) => (
              <Fragment key={workflow.id}>
                <tr data-workflow={workflow.name}>
                  <td>{workflow.name}</td>
                  <td>{workflow.version}</td>
                  <td>{new Date(workflow.createdAt).toLocaleString()}</td>
                  <td className="actions">
                    <button type="button" data-action="graph" onClick={() => setShown(shown === workflow.id ? null : workflow.id)}>
                      {shown === workflow.id ? 'Hide steps' : 'Steps'}
                    </button>
                    <button type="button" data-action="start" onClick={() => void start(workflow.name)}>
                      Start a run
                    </button>
                  </td>
                </tr>
                {shown === workflow.id ? (
                  <tr data-graph-of={workflow.name}>
                    <td colSpan={4}>
                      <StepGraph steps={graphSteps(workflow.steps)} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
