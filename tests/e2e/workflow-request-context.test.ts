import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole } from '../support/seed.ts';
import { signIn } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';
import { createWorkflow, waitForRun } from '../support/workflows.ts';
import type { LogTap } from '../support/request-guard.ts';

// The stack's own log entries from debug up: the step worker logs each attempt it processes.
const logs: LogTap = { level: 'debug', entries: [] };
const ctx = useTestStack({}, { logTap: logs });

const START = 'mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) { id } }';

/** Starts a run through the router with the given trace context; returns the run and the request id the router gave it. */
async function startTraced(url: string, token: string, workflow: string, traceparent: string): Promise<{ runId: string; requestId: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent },
    body: JSON.stringify({ query: START, variables: { i: { workflow } } }),
  });
  const body = (await response.json()) as { data?: { startWorkflow: { id: string } }; errors?: unknown };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const requestId = response.headers.get('x-request-id');
  assert.ok(requestId !== null && requestId.length > 0, 'the router names every request in x-request-id');
  return { runId: body.data!.startWorkflow.id, requestId };
}

/** The worker's lines about one run's step attempts. */
const attemptLines = (runId: string) => logs.entries.filter((entry) => entry.msg === 'step attempt processed' && entry.runId === runId);

describe('request context of queued steps', () => {
  let token: string;
  let acmeId: string;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    acmeId = seed.acme.id;
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    token = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    // Two queued steps: the second is dispatched after the first completes, in another transaction.
    await createWorkflow(url, token, 'two-hops', [
      { id: 'a', type: 'delay', with: { ms: 0 } },
      { id: 'b', type: 'delay', needs: ['a'], with: { ms: 0 } },
    ]);
  });

  it('logs every step attempt a worker runs with the request id and trace id of the request that started the run', async () => {
    const url = ctx.stack.graphqlUrl;
    const traces = [randomBytes(16).toString('hex'), randomBytes(16).toString('hex')];
    const started = [];
    for (const traceId of traces) started.push(await startTraced(url, token, 'two-hops', `00-${traceId}-${randomBytes(8).toString('hex')}-01`));
    assert.notEqual(started[0]!.requestId, started[1]!.requestId);

    for (const [i, { runId, requestId }] of started.entries()) {
      const run = await waitForRun(url, token, runId, ['SUCCEEDED', 'FAILED']);
      assert.equal(run.status, 'SUCCEEDED');
      // The worker logs an attempt once its outcome is recorded, so the line may trail the run's end.
      const lines = await eventually(
        async () => attemptLines(runId),
        (found) => found.length >= 2,
      );
      assert.deepEqual(lines.map((line) => line.stepId).sort(), ['a', 'b']);
      for (const line of lines) {
        assert.equal(line.requestId, requestId, `step ${String(line.stepId)} of run ${runId}: ${JSON.stringify(line)}`);
        assert.equal(line.traceId, traces[i]);
        assert.equal(line.outcome, 'completed');
        assert.equal(line.tenantId, acmeId);
      }
    }
  });
});
