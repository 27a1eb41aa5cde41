import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import { createClient } from '../support/ws-client.ts';
import WebSocket from 'ws';
import { tenantStreamKey } from '@tansu/platform/events/outbox';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, gql, signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';

// Watching a run from its first event, over graphql-ws through the router, after it ended.
const ctx = useTestStack();

interface RunEvent {
  eventId: string;
  kind: string;
  runId: string;
  status: string | null;
  stepId: string | null;
  stepStatus: string | null;
}

const RUN_UPDATED = `subscription($id: ID!, $after: String) {
  runUpdated(runId: $id, after: $after) { eventId kind runId status stepId stepStatus }
}`;

interface Outcome<T> {
  events: T[];
  errors: { message: string; extensions?: { code?: string; field?: string } }[];
}

/** Collects one subscription's events until `until` holds, it fails or ends (bounded by a deadline). */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>, until: (events: T[]) => boolean, ms = 15_000): Promise<Outcome<T>> {
  const outcome: Outcome<T> = { events: [], errors: [] };
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve(outcome);
    };
    const timer = setTimeout(finish, ms);
    unsubscribe = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors !== undefined) outcome.errors.push(...(value.errors as Outcome<T>['errors']));
          const payload = value.data == null ? undefined : Object.values(value.data)[0];
          if (payload !== undefined) outcome.events.push(payload);
          if (until(outcome.events)) finish();
        },
        error: (error) => {
          outcome.errors.push(...(Array.isArray(error) ? error : [{ message: String(error) }]));
          finish();
        },
        complete: finish,
      },
    );
  });
}

const trail = (events: RunEvent[]) => events.map((e) => (e.kind === 'RUN' ? `run:${e.status}` : `${e.stepId}:${e.stepStatus}`));
const finished = (events: RunEvent[]) => events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED');

describe('watching a run from its first event', () => {
  let seed: TwoTenants;
  let dev: string;
  const clients: Client[] = [];
  const open = () => {
    const client = createClient({
      url: ctx.stack.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${dev}` },
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    dev = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    // A pure step, a step run by a worker, then a logging step: events from both paths.
    await createWorkflow(url, dev, 'watched', [
      { id: 'shape', type: 'transform', with: { output: { n: '$.input.n' } } },
      { id: 'pause', type: 'delay', needs: ['shape'], with: { ms: 0 } },
      { id: 'note', type: 'log', needs: ['pause'], with: { message: 'n is {{ $.steps.shape.output.n }}' } },
    ]);
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
  });

  /** The run's status events as the tenant's stream holds them: what a subscriber must see. */
  async function streamTrail(runId: string): Promise<string[]> {
    const entries = (await ctx.stack.redis.xrange(tenantStreamKey(ctx.stack.redisNamespace, seed.acme.id), '-', '+')) as [string, string[]][];
    const ids: string[] = [];
    for (const [id, fields] of entries) {
      const topic = fields[fields.indexOf('topic') + 1];
      const payload = JSON.parse(fields[fields.indexOf('payload') + 1] ?? '{}') as { runId?: string };
      if (payload.runId === runId && (topic === 'workflow.run.updated' || topic === 'workflow.step.updated')) ids.push(id);
    }
    return ids;
  }

  it('gives a subscriber that starts after the run finished every event from the first, in order, with after: "0"', async () => {
    const url = ctx.stack.graphqlUrl;
    const run = await startWorkflow(url, dev, { workflow: 'watched', input: { n: 7 } });
    await waitForRun(url, dev, run.id, ['SUCCEEDED']);

    const late = await collect<RunEvent>(open(), RUN_UPDATED, { id: run.id, after: '0' }, finished);
    assert.deepEqual(late.errors, []);
    assert.deepEqual(trail(late.events), [
      'run:QUEUED',
      'run:RUNNING',
      'shape:SUCCEEDED',
      'pause:READY',
      'pause:RUNNING',
      'pause:SUCCEEDED',
      'note:SUCCEEDED',
      'run:SUCCEEDED',
    ]);
    assert.ok(late.events.every((e) => e.runId === run.id));
    // Exactly the run's entries of the stream, from its very first one, in stream order.
    assert.deepEqual(
      late.events.map((e) => e.eventId),
      await streamTrail(run.id),
    );

    // Redis's own spelling of the stream's start means the same.
    const spelledOut = await collect<RunEvent>(open(), RUN_UPDATED, { id: run.id, after: '0-0' }, finished);
    assert.deepEqual(spelledOut.events, late.events);
  });

  it("replays a finished run's log lines and the tenant feed from the first event", async () => {
    const url = ctx.stack.graphqlUrl;
    const run = await startWorkflow(url, dev, { workflow: 'watched', input: { n: 8 } });
    await waitForRun(url, dev, run.id, ['SUCCEEDED']);
    const logs = await collect<{ runId: string; stepId: string | null; message: string }>(
      open(),
      'subscription($id: ID!, $after: String) { runLogs(runId: $id, after: $after) { eventId runId stepId message } }',
      { id: run.id, after: '0' },
      (events) => events.some((e) => e.stepId === 'note'),
    );
    assert.deepEqual(logs.errors, []);
    assert.deepEqual(
      logs.events.map((e) => [e.runId, e.stepId, e.message]),
      [[run.id, 'note', 'n is 8']],
    );
    const feed = await collect<RunEvent>(
      open(),
      'subscription($after: String) { runs(after: $after) { eventId kind runId status } }',
      { after: '0' },
      (events) => events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
    );
    assert.deepEqual(feed.errors, []);
    assert.ok(
      feed.events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
      JSON.stringify(feed.events),
    );
  });

  it('refuses a malformed after with BAD_USER_INPUT saying what is accepted', async () => {
    const url = ctx.stack.graphqlUrl;
    const run = await startWorkflow(url, dev, { workflow: 'watched', input: { n: 1 } });
    const queries = [
      [RUN_UPDATED, { id: run.id }],
      ['subscription($id: ID!, $after: String) { runLogs(runId: $id, after: $after) { eventId } }', { id: run.id }],
      ['subscription($after: String) { runs(after: $after) { eventId } }', {}],
    ] as const;
    for (const [query, variables] of queries) {
      for (const bad of ['', 'start', '-1', '00', '0-', '1.5', '0-0-0', ' 0', '99999999999999999999-0']) {
        const outcome = await collect<RunEvent>(open(), query, { ...variables, after: bad }, () => true, 5_000);
        assert.deepEqual(outcome.events, [], bad);
        const error = outcome.errors[0];
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', `${JSON.stringify(bad)}: ${JSON.stringify(outcome.errors)}`);
        assert.equal(error.extensions.field, 'after');
        assert.match(error.message, /"0" to start from the first event, or the eventId of an event received before/);
      }
    }
  });

  it('refuses a creation-date filter on the runs feed instead of ignoring it', async () => {
    for (const filter of [{ createdAfter: '2020-01-01T00:00:00Z' }, { createdBefore: '2020-01-01T00:00:00Z' }]) {
      const outcome = await collect<RunEvent>(open(), 'subscription($f: RunFilter) { runs(filter: $f) { eventId } }', { f: filter }, () => true, 5_000);
      const error = outcome.errors[0];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(outcome));
      assert.equal(error.extensions.field, `filter.${Object.keys(filter)[0]}`);
    }
    // The filters it does support still work.
    const run = await startWorkflow(ctx.stack.graphqlUrl, dev, { workflow: 'watched', input: { n: 2 } });
    const feed = await collect<RunEvent>(
      open(),
      'subscription($f: RunFilter) { runs(filter: $f, after: "0") { runId status } }',
      { f: { workflow: 'watched', status: ['SUCCEEDED'] } },
      (events) => events.some((e) => e.runId === run.id),
    );
    assert.deepEqual(feed.errors, []);
    assert.ok(feed.events.every((e) => e.status === 'SUCCEEDED'));
    dataOf(await gql(ctx.stack.graphqlUrl, '{ runs(filter: { createdAfter: "2020-01-01T00:00:00Z" }, first: 1) { nodes { id } } }', { token: dev }));
  });
});
