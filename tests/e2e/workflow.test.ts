import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp } from '../support/graphql-client.ts';
import { RUN_FIELDS, createWorkflow, getRun, startWorkflow, waitForRun, type RunView } from '../support/workflows.ts';

// Workflow http steps call a server of this test on loopback, which production refuses.
const ctx = useTestStack({ TANSU_EGRESS_ALLOW_PRIVATE: 'true' });

interface Received {
  path: string;
  idempotencyKey: string | undefined;
  body: string;
}

describe('durable workflows through the router', () => {
  let seed: TwoTenants;
  let acmeDev: string;
  let globexDev: string;
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let flakyFailuresLeft = 0;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', idempotencyKey: req.headers['idempotency-key'] as string | undefined, body });
        if (req.url?.startsWith('/flaky') && flakyFailuresLeft > 0) {
          flakyFailuresLeft -= 1;
          res.writeHead(503).end('busy');
          return;
        }
        if (req.url?.startsWith('/broken')) return void res.writeHead(500).end('broken');
        if (req.url?.startsWith('/missing')) return void res.writeHead(404).end('missing');
        if (req.url?.startsWith('/slow')) return void setTimeout(() => res.writeHead(200).end('{}'), 1_500);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: body.length > 0 ? JSON.parse(body) : null, path: req.url }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    // Signed-up users are viewers; the platform admin makes one developer in each tenant.
    for (const [tenant, user] of [
      ['acme', seed.alice],
      ['globex', seed.bob],
    ] as const) {
      await setRole(url, seed.admin.accessToken, tenant, user.user.id, 'DEVELOPER');
    }
    acmeDev = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    globexDev = (await signIn(url, 'globex', 'bob@globex.test', 'bob-password')).accessToken;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses viewers, and invalid definitions naming the step', async () => {
    const url = ctx.stack.graphqlUrl;
    const op = 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }';
    // A user who signs up is a viewer.
    const viewer = await signUp(url, 'acme', 'victor@acme.test', 'victor-password');
    assert.deepEqual(viewer.user.roles, ['VIEWER']);
    expectError(
      await gql(url, op, { token: viewer.accessToken, variables: { i: { name: 'x', steps: [{ id: 'a', type: 'log', with: { message: 'm' } }] } } }),
      'FORBIDDEN',
    );
    const cyclic = await gql(url, op, {
      token: acmeDev,
      variables: {
        i: {
          name: 'cyclic',
          steps: [
            { id: 'a', type: 'log', needs: ['b'], with: { message: 'a' } },
            { id: 'b', type: 'log', needs: ['a'], with: { message: 'b' } },
          ],
        },
      },
    });
    assert.match(expectError(cyclic, 'BAD_USER_INPUT').message, /dependency cycle: (a -> b -> a|b -> a -> b)/);
    const badRef = await gql(url, op, {
      token: acmeDev,
      variables: {
        i: {
          name: 'badref',
          steps: [
            { id: 'a', type: 'log', with: { message: 'a' } },
            { id: 'b', type: 'transform', with: { output: '$.steps.a.output' } },
          ],
        },
      },
    });
    assert.match(expectError(badRef, 'BAD_USER_INPUT').message, /step "b".*does not wait for/);
    const unknownType = await gql(url, op, { token: acmeDev, variables: { i: { name: 'u', steps: [{ id: 'a', type: 'teleport' }] } } });
    assert.match(expectError(unknownType, 'BAD_USER_INPUT').message, /^steps\[0\]\.type \(step "a"\): must be one of/);
  });

  it('refuses an unknown option, naming its path and the option meant, and stores nothing', async () => {
    const url = ctx.stack.graphqlUrl;
    const op = 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }';
    const steps = [
      { id: 'prepare', type: 'transform', with: { output: 1 } },
      { id: 'fetch', type: 'http', needs: ['prepare'], with: { url: `${base}/hello` }, retry: { max: 2 } },
    ];
    const error = expectError(await gql(url, op, { token: acmeDev, variables: { i: { name: 'typo', steps } } }), 'BAD_USER_INPUT');
    assert.equal(error.message, 'steps[1].retry.max (step "fetch"): unknown option; did you mean maxAttempts?');
    assert.equal(error.extensions?.field, 'steps[1].retry.max');
    const wrongPlace = expectError(
      await gql(url, op, {
        token: acmeDev,
        variables: { i: { name: 'typo', steps: [{ id: 'fetch', type: 'http', with: { url: `${base}/hello`, timeoutMs: 5_000 } }] } },
      }),
      'BAD_USER_INPUT',
    );
    assert.equal(wrongPlace.extensions?.field, 'steps[0].with.timeoutMs');
    assert.match(wrongPlace.message, /it belongs beside with, at steps\[0\]\.timeoutMs/);
    assert.equal(dataOf(await gql<{ workflow: unknown }>(url, '{ workflow(name: "typo") { id } }', { token: acmeDev })).workflow, null);
    // Spelt as documented, the same definition is stored with the policy it asked for.
    steps[1]!.retry = { maxAttempts: 2 } as never;
    await createWorkflow(url, acmeDev, 'typo', steps);
    const stored = dataOf(
      await gql<{ workflow: { steps: { id: string; retry: { maxAttempts: number } }[] } }>(url, '{ workflow(name: "typo") { steps } }', { token: acmeDev }),
    ).workflow;
    assert.equal(stored.steps.find((step) => step.id === 'fetch')?.retry.maxAttempts, 2);
  });

  it('gives concurrent creates of one name consecutive versions', async () => {
    const url = ctx.stack.graphqlUrl;
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, n) => createWorkflow(url, acmeDev, 'raced', [{ id: 'only', type: 'log', with: { message: `v${n}` } }])),
    );
    assert.deepEqual(created.map((def) => def.version).sort(), [1, 2, 3, 4]);
  });

  it('runs a three-step workflow to SUCCEEDED, passing data between steps', async () => {
    const url = ctx.stack.graphqlUrl;
    const def = await createWorkflow(url, acmeDev, 'greet', [
      { id: 'shape', type: 'transform', with: { output: { who: '$.input.name', count: '$.input.count' } } },
      { id: 'call', type: 'http', needs: ['shape'], with: { url: `${base}/hello`, method: 'POST', body: '$.steps.shape.output' } },
      { id: 'note', type: 'log', needs: ['call'], with: { message: 'said hello to {{ $.steps.call.output.body.echoed.who }}' } },
    ]);
    assert.equal(def.version, 1);
    const started = await startWorkflow(url, acmeDev, { workflow: 'greet', input: { name: 'Ada', count: 3 } });
    assert.ok(['QUEUED', 'RUNNING'].includes(started.status));
    const run = await waitForRun(url, acmeDev, started.id, ['SUCCEEDED', 'FAILED']);
    assert.equal(run.status, 'SUCCEEDED', JSON.stringify(run));
    assert.deepEqual(
      run.steps.map((s) => [s.id, s.status, s.attempt]),
      [
        ['shape', 'SUCCEEDED', 1],
        ['call', 'SUCCEEDED', 1],
        ['note', 'SUCCEEDED', 1],
      ],
    );
    assert.deepEqual(run.output, { note: { message: 'said hello to Ada' } });
    const call = received.find((r) => r.path === '/hello');
    assert.deepEqual(JSON.parse(call!.body), { who: 'Ada', count: 3 });
    assert.equal(call!.idempotencyKey, `${run.id}:call`);

    const details = await gql<{ run: { startedBy: { id: string }; logs: { edges: { message: string; stepId: string }[] } } }>(
      url,
      'query($id: ID!) { run(id: $id) { startedBy { id } logs(first: 10) { edges { message stepId } } } }',
      { token: acmeDev, variables: { id: run.id } },
    );
    const data = dataOf(details).run;
    assert.equal(data.startedBy.id, seed.alice.user.id);
    assert.ok(data.logs.edges.some((l) => l.stepId === 'note' && l.message === 'said hello to Ada'));
  });

  it('resolves who started a run from the identity subgraph', async () => {
    const url = ctx.stack.graphqlUrl;
    const runs = await gql<{ runs: { nodes: { startedBy: { id: string; email: string } }[] } }>(
      url,
      '{ runs(first: 1) { nodes { startedBy { id email } } } }',
      { token: acmeDev },
    );
    assert.deepEqual(dataOf(runs).runs.nodes[0]?.startedBy, { id: seed.alice.user.id, email: 'alice@acme.test' });
  });

  it('returns the same run for the same idempotency key', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'once', [{ id: 'only', type: 'log', with: { message: 'once' } }]);
    const [a, b] = await Promise.all([
      startWorkflow(url, acmeDev, { workflow: 'once', idempotencyKey: 'order-42' }),
      startWorkflow(url, acmeDev, { workflow: 'once', idempotencyKey: 'order-42' }),
    ]);
    const c = await startWorkflow(url, acmeDev, { workflow: 'once', idempotencyKey: 'order-42' });
    assert.equal(a.id, b.id);
    assert.equal(a.id, c.id);
    const list = await gql<{ runs: { nodes: { id: string }[] } }>(url, '{ runs(filter: { workflow: "once" }, first: 10) { nodes { id } } }', {
      token: acmeDev,
    });
    assert.equal(dataOf(list).runs.nodes.length, 1);
    // The same key in another tenant is another run.
    await createWorkflow(url, globexDev, 'once', [{ id: 'only', type: 'log', with: { message: 'once' } }]);
    const other = await startWorkflow(url, globexDev, { workflow: 'once', idempotencyKey: 'order-42' });
    assert.notEqual(other.id, a.id);
  });

  it('starts many runs in one call, honouring idempotency keys', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'batch', [{ id: 'only', type: 'transform', with: { output: '$.input.n' } }]);
    const op = 'mutation($i: StartWorkflowsInput!) { startWorkflows(input: $i) { id idempotencyKey input } }';
    const first = dataOf(
      await gql<{ startWorkflows: { id: string; idempotencyKey: string | null; input: { n: number } }[] }>(url, op, {
        token: acmeDev,
        variables: {
          i: { workflow: 'batch', runs: [{ input: { n: 1 }, idempotencyKey: 'b-1' }, { input: { n: 2 } }, { input: { n: 3 }, idempotencyKey: 'b-1' }] },
        },
      }),
    ).startWorkflows;
    assert.equal(first.length, 3);
    assert.equal(first[0]!.id, first[2]!.id, 'one key, one run, even within a batch');
    assert.notEqual(first[0]!.id, first[1]!.id);
    const again = dataOf(
      await gql<{ startWorkflows: { id: string }[] }>(url, op, { token: acmeDev, variables: { i: { workflow: 'batch', runs: [{ idempotencyKey: 'b-1' }] } } }),
    ).startWorkflows;
    assert.equal(again[0]!.id, first[0]!.id);
    const done = await waitForRun(url, acmeDev, first[1]!.id, ['SUCCEEDED', 'FAILED']);
    assert.deepEqual(done.output, { only: 2 });
    const tooMany = await gql(url, op, { token: acmeDev, variables: { i: { workflow: 'batch', runs: Array.from({ length: 101 }, () => ({})) } } });
    assert.equal(expectError(tooMany, 'BAD_USER_INPUT').extensions?.field, 'runs');
  });

  it('cancels a running run', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'slow', [
      { id: 'first', type: 'log', with: { message: 'start' } },
      { id: 'sleep', type: 'delay', needs: ['first'], with: { ms: 600_000 } },
      { id: 'never', type: 'log', needs: ['sleep'], with: { message: 'unreachable' } },
    ]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'slow' });
    await waitForRun(url, acmeDev, run.id, ['RUNNING']);
    const cancelled = dataOf(
      await gql<{ cancelRun: RunView }>(url, `mutation($id: ID!) { cancelRun(id: $id) { ${RUN_FIELDS} } }`, { token: acmeDev, variables: { id: run.id } }),
    ).cancelRun;
    assert.equal(cancelled.status, 'CANCELLED');
    assert.deepEqual(
      cancelled.steps.map((s) => s.status),
      ['SUCCEEDED', 'CANCELLED', 'CANCELLED'],
    );
    expectError(await gql(url, 'mutation($id: ID!) { cancelRun(id: $id) { id } }', { token: acmeDev, variables: { id: run.id } }), 'CONFLICT');
  });

  it('retries a failing step with backoff, dead-letters the run, and replays it', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'flaky', [
      { id: 'call', type: 'http', with: { url: `${base}/flaky` }, retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 } },
    ]);
    flakyFailuresLeft = 10;
    const run = await startWorkflow(url, acmeDev, { workflow: 'flaky' });
    const failed = await waitForRun(url, acmeDev, run.id, ['FAILED', 'SUCCEEDED']);
    assert.equal(failed.status, 'FAILED');
    assert.deepEqual(
      failed.steps[0]?.attempts.map((a) => a.status),
      ['FAILED', 'FAILED', 'FAILED'],
    );
    const replayedAttempts = () =>
      waitForRun(url, acmeDev, run.id, ['SUCCEEDED', 'FAILED']).then((r) => r.steps[0]!.attempts.map((a) => [a.attempt, a.status]));
    assert.equal(failed.steps[0]?.errorCode, 'HTTP_5XX');
    const dead = await gql<{ deadLetterRuns: { nodes: { id: string }[] } }>(url, '{ deadLetterRuns(first: 20) { nodes { id } } }', { token: acmeDev });
    assert.ok(dataOf(dead).deadLetterRuns.nodes.some((n) => n.id === run.id));

    flakyFailuresLeft = 0;
    const replay = await gql<{ retryRun: { status: string } }>(url, 'mutation($id: ID!) { retryRun(id: $id) { status } }', {
      token: acmeDev,
      variables: { id: run.id },
    });
    assert.equal(dataOf(replay).retryRun.status, 'RUNNING');
    const done = await waitForRun(url, acmeDev, run.id, ['SUCCEEDED', 'FAILED']);
    assert.equal(done.status, 'SUCCEEDED');
    // The replay keeps counting: the history of the first pass stays as it was.
    assert.deepEqual(await replayedAttempts(), [
      [1, 'FAILED'],
      [2, 'FAILED'],
      [3, 'FAILED'],
      [4, 'SUCCEEDED'],
    ]);
    const dead2 = await gql<{ deadLetterRuns: { nodes: { id: string }[] } }>(url, '{ deadLetterRuns(first: 20) { nodes { id } } }', { token: acmeDev });
    assert.ok(!dataOf(dead2).deadLetterRuns.nodes.some((n) => n.id === run.id));
  });

  it('cancels steps still running when a sibling fails, freeing the tenant', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'split', [
      { id: 'slow', type: 'http', with: { url: `${base}/slow` }, timeoutMs: 10_000 },
      { id: 'bad', type: 'http', with: { url: `${base}/missing-404` }, retry: { maxAttempts: 1 } },
    ]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'split' });
    const failed = await waitForRun(url, acmeDev, run.id, ['FAILED', 'SUCCEEDED']);
    assert.equal(failed.status, 'FAILED');
    assert.deepEqual(Object.fromEntries(failed.steps.map((s) => [s.id, s.status])), { slow: 'CANCELLED', bad: 'FAILED' });
    const open = await ctx.stack.systemDb.global((em) =>
      em.execute<{ n: number }[]>(`select count(*)::int as n from workflow.steps where run_id = ? and status in ('RUNNING', 'DISPATCHED')`, [run.id]),
    );
    assert.equal(open[0]?.n, 0);
  });

  it('refuses an idempotency key already used by another workflow', async () => {
    const url = ctx.stack.graphqlUrl;
    await startWorkflow(url, acmeDev, { workflow: 'once', idempotencyKey: 'shared-key' });
    expectError(
      await gql(url, 'mutation { startWorkflow(input: { workflow: "batch", idempotencyKey: "shared-key" }) { id } }', { token: acmeDev }),
      'CONFLICT',
    );
  });

  it('does not retry errors the policy marks as final', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'final', [
      { id: 'call', type: 'http', with: { url: `${base}/broken` }, retry: { maxAttempts: 5, initialDelayMs: 10, nonRetryable: ['HTTP_5XX'] } },
    ]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'final' });
    const failed = await waitForRun(url, acmeDev, run.id, ['FAILED', 'SUCCEEDED']);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.steps[0]?.attempts.length, 1);
  });

  it('wakes a waitForEvent step with a matching event only', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'approval', [
      { id: 'wait', type: 'waitForEvent', with: { event: 'order.approved', match: { orderId: '$.input.orderId' } } },
      { id: 'after', type: 'transform', needs: ['wait'], with: { output: { by: '$.steps.wait.output.by' } } },
    ]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'approval', input: { orderId: 'o-1' } });
    await waitForRun(url, acmeDev, run.id, ['QUEUED', 'RUNNING']);
    const send = (token: string, payload: unknown) =>
      gql<{ sendEvent: { resumedSteps: number } }>(url, 'mutation($i: SendEventInput!) { sendEvent(input: $i) { resumedSteps } }', {
        token,
        variables: { i: { event: 'order.approved', payload } },
      });
    assert.equal(dataOf(await send(acmeDev, { orderId: 'o-2', by: 'eve' })).sendEvent.resumedSteps, 0);
    // Another tenant's event never reaches acme's runs.
    assert.equal(dataOf(await send(globexDev, { orderId: 'o-1', by: 'mallory' })).sendEvent.resumedSteps, 0);
    assert.equal(dataOf(await send(acmeDev, { orderId: 'o-1', by: 'grace' })).sendEvent.resumedSteps, 1);
    const done = await waitForRun(url, acmeDev, run.id, ['SUCCEEDED', 'FAILED']);
    assert.deepEqual(done.output, { after: { by: 'grace' } });
  });

  it('waits for an event whose name the run input gives', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'named-wait', [{ id: 'wait', type: 'waitForEvent', with: { event: 'order.{{ $.input.orderId }}.paid' } }]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'named-wait', input: { orderId: 'o-9' } });
    await waitForRun(url, acmeDev, run.id, ['RUNNING']);
    const send = (event: string) =>
      gql<{ sendEvent: { resumedSteps: number } }>(url, 'mutation($i: SendEventInput!) { sendEvent(input: $i) { resumedSteps } }', {
        token: acmeDev,
        variables: { i: { event, payload: { ok: true } } },
      });
    assert.equal(dataOf(await send('order.{{ $.input.orderId }}.paid')).sendEvent.resumedSteps, 0);
    assert.equal(dataOf(await send('order.o-9.paid')).sendEvent.resumedSteps, 1);
    assert.deepEqual((await waitForRun(url, acmeDev, run.id, ['SUCCEEDED', 'FAILED'])).output, { wait: { ok: true } });
  });

  it('times out a wait that no event ends', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'impatient', [{ id: 'wait', type: 'waitForEvent', with: { event: 'never', timeoutMs: 200 } }]);
    const run = await startWorkflow(url, acmeDev, { workflow: 'impatient' });
    const done = await waitForRun(url, acmeDev, run.id, ['TIMED_OUT', 'FAILED', 'SUCCEEDED']);
    assert.equal(done.status, 'TIMED_OUT');
  });

  it('keeps runs invisible and untouchable to another tenant', async () => {
    const url = ctx.stack.graphqlUrl;
    const run = await startWorkflow(url, acmeDev, { workflow: 'once', idempotencyKey: 'isolation-check' });
    assert.equal(await getRun(url, globexDev, run.id), null);
    for (const op of ['cancelRun', 'retryRun']) {
      expectError(await gql(url, `mutation($id: ID!) { ${op}(id: $id) { id } }`, { token: globexDev, variables: { id: run.id } }), 'NOT_FOUND');
    }
    const list = await gql<{ runs: { nodes: { id: string }[] } }>(url, '{ runs(first: 100) { nodes { id } } }', { token: globexDev });
    assert.ok(!dataOf(list).runs.nodes.some((n) => n.id === run.id));
    expectError(await gql(url, 'mutation { startWorkflow(input: { workflow: "greet" }) { id } }', { token: globexDev }), 'NOT_FOUND');
  });

  it('gives clear errors for bad input', async () => {
    const url = ctx.stack.graphqlUrl;
    expectError(await gql(url, 'mutation { startWorkflow(input: { workflow: "nope" }) { id } }', { token: acmeDev }), 'NOT_FOUND');
    const big = await gql(url, 'mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) { id } }', {
      token: acmeDev,
      variables: { i: { workflow: 'once', input: { blob: 'x'.repeat(70_000) } } },
    });
    expectError(big, 'PAYLOAD_TOO_LARGE');
    assert.equal(expectError(await gql(url, '{ runs(after: "garbage") { nodes { id } } }', { token: acmeDev }), 'BAD_USER_INPUT').extensions?.field, 'after');
    assert.equal(await getRun(url, acmeDev, 'not-a-uuid'), null);
    expectError(await gql(url, '{ runs(first: 1000) { nodes { id } } }', { token: acmeDev }), 'BAD_USER_INPUT');
    expectError(await gql(url, '{ runs(filter: { createdAfter: "-010000-01-01T00:00:00Z" }) { nodes { id } } }', { token: acmeDev }), 'BAD_USER_INPUT');
    // Text Postgres cannot hold is refused naming the field, before anything is written.
    const nul = await gql(url, 'mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) { id } }', {
      token: acmeDev,
      variables: { i: { workflow: 'once', input: { list: ['ok', 'a\u0000b'] } } },
    });
    assert.equal(expectError(nul, 'BAD_USER_INPUT').extensions?.field, 'input.list[1]');
    const batchKey = await gql(url, 'mutation($i: StartWorkflowsInput!) { startWorkflows(input: $i) { id } }', {
      token: acmeDev,
      variables: { i: { workflow: 'once', runs: [{}, { idempotencyKey: 'k\ud800' }] } },
    });
    assert.equal(expectError(batchKey, 'BAD_USER_INPUT').extensions?.field, 'runs[1].idempotencyKey');
    const payload = await gql(url, 'mutation($i: SendEventInput!) { sendEvent(input: $i) { resumedSteps } }', {
      token: acmeDev,
      variables: { i: { event: 'x', payload: { 'bad\u0000key': 1 } } },
    });
    assert.equal(expectError(payload, 'BAD_USER_INPUT').extensions?.field, 'payload["bad\\u0000key"]');
    assert.equal(
      expectError(await gql(url, 'query($n: String!) { workflow(name: $n) { id } }', { token: acmeDev, variables: { n: 'x\u0000' } }), 'BAD_USER_INPUT')
        .extensions?.field,
      'name',
    );
    assert.equal(
      expectError(
        await gql(url, 'query($w: String) { runs(filter: { workflow: $w }) { nodes { id } } }', { token: acmeDev, variables: { w: 'x\u0000' } }),
        'BAD_USER_INPUT',
      ).extensions?.field,
      'filter.workflow',
    );
    const definition = await gql(url, 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', {
      token: acmeDev,
      variables: { i: { name: 'nul', steps: [{ id: 'l', type: 'log', with: { message: 'a\u0000' } }] } },
    });
    assert.equal(expectError(definition, 'BAD_USER_INPUT').extensions?.field, 'steps[0].with.message');
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const nested = await gql(url, 'mutation($i: StartWorkflowInput!) { startWorkflow(input: $i) { id } }', {
      token: acmeDev,
      variables: { i: { workflow: 'once', input: deep } },
    });
    expectError(nested, 'BAD_USER_INPUT', 400);
  });

  it('pages through runs started together in one call without skipping any', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, acmeDev, 'together', [{ id: 'only', type: 'transform', with: { output: 1 } }]);
    const started = dataOf(
      await gql<{ startWorkflows: { id: string }[] }>(url, 'mutation($i: StartWorkflowsInput!) { startWorkflows(input: $i) { id } }', {
        token: acmeDev,
        variables: { i: { workflow: 'together', runs: Array.from({ length: 5 }, (_, n) => ({ input: { n } })) } },
      }),
    ).startWorkflows;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: Awaited<ReturnType<typeof gql<{ runs: { nodes: { id: string }[]; endCursor: string | null; hasMore: boolean } }>>> = await gql(
        url,
        'query($after: String) { runs(filter: { workflow: "together" }, first: 1, after: $after) { nodes { id } endCursor hasMore } }',
        { token: acmeDev, variables: { after } },
      );
      const pageData = dataOf(res).runs;
      seen.push(...pageData.nodes.map((n) => n.id));
      if (!pageData.hasMore) break;
      after = pageData.endCursor;
    }
    // One transaction, one creation time: the order within it is the id's.
    assert.deepEqual(
      seen,
      started
        .map((run) => run.id)
        .sort()
        .reverse(),
    );
  });

  it('pages through runs with a cursor', async () => {
    const url = ctx.stack.graphqlUrl;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: Awaited<ReturnType<typeof gql<{ runs: { nodes: { id: string }[]; endCursor: string | null; hasMore: boolean } }>>> = await gql(
        url,
        'query($after: String) { runs(first: 2, after: $after) { nodes { id } endCursor hasMore } }',
        { token: acmeDev, variables: { after } },
      );
      const pageData = dataOf(res).runs;
      seen.push(...pageData.nodes.map((n) => n.id));
      if (!pageData.hasMore) break;
      after = pageData.endCursor;
    }
    const all = dataOf(await gql<{ runs: { nodes: { id: string }[] } }>(url, '{ runs(first: 100) { nodes { id } } }', { token: acmeDev })).runs.nodes.map(
      (n) => n.id,
    );
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen).size, seen.length);
  });
});
