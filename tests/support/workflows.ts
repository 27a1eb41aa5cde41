import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataOf, gql } from './graphql-client.ts';

export const RUN_FIELDS = `id status error output idempotencyKey createdAt finishedAt
  workflow { name version }
  steps { id type status attempt output error errorCode attempts { attempt status error } }`;

export interface RunView {
  id: string;
  status: string;
  error: string | null;
  output: Record<string, unknown> | null;
  idempotencyKey: string | null;
  workflow: { name: string; version: number };
  steps: {
    id: string;
    type: string;
    status: string;
    attempt: number;
    output: unknown;
    error: string | null;
    errorCode: string | null;
    attempts: { attempt: number; status: string; error: string | null }[];
  }[];
}

export async function createWorkflow(url: string, token: string, name: string, steps: unknown[]) {
  const res = await gql<{ createWorkflow: { id: string; name: string; version: number } }>(
    url,
    'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id name version } }',
    { token, variables: { i: { name, steps } } },
  );
  return dataOf(res).createWorkflow;
}

export async function startWorkflow(url: string, token: string, input: { workflow: string; input?: unknown; idempotencyKey?: string }): Promise<RunView> {
  const res = await gql<{ startWorkflow: RunView }>(url, `mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) { ${RUN_FIELDS} } }`, {
    token,
    variables: { i: input },
  });
  return dataOf(res).startWorkflow;
}

export async function getRun(url: string, token: string, id: string): Promise<RunView | null> {
  const res = await gql<{ run: RunView | null }>(url, `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { token, variables: { id } });
  return dataOf(res).run;
}

/** Polls (bounded) until the run reaches one of the statuses; fails with the last state seen. */
export async function waitForRun(url: string, token: string, id: string, statuses: string[], tries = 300): Promise<RunView> {
  let run: RunView | null = null;
  for (let i = 0; i < tries; i++) {
    run = await getRun(url, token, id);
    if (run !== null && statuses.includes(run.status)) return run;
    await sleep(50);
  }
  assert.fail(`run ${id} did not reach ${statuses.join('/')}: ${JSON.stringify(run)}`);
}
