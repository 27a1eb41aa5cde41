import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, gql, signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';
import { mintAccessToken } from '../support/tokens.ts';
import { collect, routerWsClient } from '../support/ws-collect.ts';

// Live run updates through the router: graphql-ws in, planner-driven fetches across subgraphs.
const ctx = useTestStack();

interface RunEvent {
  eventId: string;
  kind: string;
  status: string | null;
  stepId: string | null;
  stepStatus: string | null;
  run: { id: string; startedBy: { email: string } | null } | null;
}

const RUN_UPDATED = `subscription($id: ID!, $after: String) {
  runUpdated(runId: $id, after: $after) { eventId kind status stepId stepStatus run { id startedBy { email } } }
}`;

function wsUrl(): string {
  return ctx.stack.graphqlUrl.replace(/^http/, 'ws');
}

describe('subscriptions through the router', () => {
  let seed: TwoTenants;
  let acmeDev: string;
  let globexDev: string;
  const clients: Client[] = [];
  const open = (token: string | undefined) => {
    const c = routerWsClient(ctx.stack.graphqlUrl, token);
    clients.push(c);
    return c;
  };

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    for (const [tenant, user] of [
      ['acme', seed.alice],
      ['globex', seed.bob],
    ] as const) {
      await setRole(url, seed.admin.accessToken, tenant, user.user.id, 'DEVELOPER');
    }
    acmeDev = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    globexDev = (await signIn(url, 'globex', 'bob@globex.test', 'bob-password')).accessToken;
    await createWorkflow(url, globexDev, 'gated-g', [{ id: 'one', type: 'transform', with: { output: 1 } }]);
    await createWorkflow(url, acmeDev, 'gated', [
      { id: 'gate', type: 'waitForEvent', with: { event: 'go', match: { run: '$.run.id' } } },
      { id: 'one', type: 'transform', needs: ['gate'], with: { output: 1 } },
      { id: 'two', type: 'log', needs: ['one'], with: { message: 'done' } },
    ]);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  const go = (runId: string) =>
    gql(ctx.stack.graphqlUrl, 'mutation($i: SendEventInput!) { sendEvent(input: $i) { resumedSteps } }', {
      token: acmeDev,
      variables: { i: { event: 'go', payload: { run: runId } } },
    });

  it('delivers every state change of a run in order, with fields from other subgraphs', async () => {
    const run = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    // From the stream's start, so the trail is whole however fast the relay was.
    const sub = collect<RunEvent>(open(acmeDev), RUN_UPDATED, { id: run.id, after: '0-0' }, (events) =>
      events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED'),
    );
    await sleep(300);
    dataOf(await go(run.id));
    await sub.done;
    assert.deepEqual(sub.errors, []);
    const trail = sub.events.map((e) => (e.kind === 'RUN' ? `run:${e.status}` : `${e.stepId}:${e.stepStatus}`));
    assert.deepEqual(trail, [
      'run:QUEUED',
      'gate:WAITING',
      'run:RUNNING',
      'gate:SUCCEEDED',
      // transform and log steps run inline, within the transaction that made them ready.
      'one:SUCCEEDED',
      'two:SUCCEEDED',
      'run:SUCCEEDED',
    ]);
    assert.ok(sub.events.every((e) => e.run?.id === run.id && e.run.startedBy?.email === 'alice@acme.test'));
  });

  it('catches a reconnecting client up from its last event id', async () => {
    const run = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    const first = collect<RunEvent>(open(acmeDev), RUN_UPDATED, { id: run.id, after: '0-0' }, (events) => events.length >= 2);
    await sleep(300);
    dataOf(await go(run.id));
    await first.done;
    await waitForRun(ctx.stack.graphqlUrl, acmeDev, run.id, ['SUCCEEDED']);
    // Everything after the second event, replayed in order, though it all happened while away.
    const resumed = collect<RunEvent>(open(acmeDev), RUN_UPDATED, { id: run.id, after: first.events[1]!.eventId }, (events) =>
      events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED'),
    );
    await resumed.done;
    const all = collect<RunEvent>(open(acmeDev), RUN_UPDATED, { id: run.id, after: '0-0' }, (events) =>
      events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED'),
    );
    await all.done;
    const ids = (events: RunEvent[]) => events.map((e) => e.eventId);
    assert.deepEqual(ids(resumed.events), ids(all.events).slice(ids(all.events).indexOf(first.events[1]!.eventId) + 1));
    assert.ok(resumed.events.length >= 2);
  });

  it('gives the tenant a live feed of its runs, and nothing of another tenant', async () => {
    let runId = '';
    let acmeDone = false;
    const feed = 'subscription($after: String) { runs(after: $after) { eventId runId status } }';
    const acmeFeed = collect<RunEvent & { runId: string }>(open(acmeDev), feed, { after: '0-0' }, (events) =>
      events.some((e) => e.runId === runId && e.status === 'SUCCEEDED'),
    );
    // globex listens until acme's run has finished: anything leaking would have arrived by then.
    const globexFeed = collect<RunEvent & { runId: string }>(open(globexDev), feed, { after: '0-0' }, () => acmeDone, 20_000);
    await sleep(300);
    const run = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    runId = run.id;
    dataOf(await go(run.id));
    await acmeFeed.done;
    acmeDone = true;
    // One more event for globex's own feed, so its `until` is checked after acme finished.
    const globexRun = await startWorkflow(ctx.stack.graphqlUrl, globexDev, { workflow: 'gated-g' });
    await globexFeed.done;
    assert.ok(globexFeed.events.every((e) => e.runId === globexRun.id));
    assert.ok(acmeFeed.events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'));
    assert.ok(!globexFeed.events.some((e) => e.runId === run.id), 'acme run reached globex');
  });

  it("hands a page of runs the feed's position, from which no later change is missed", async () => {
    const url = ctx.stack.graphqlUrl;
    const page = dataOf(
      await gql<{ runs: { live: string | null; nodes: { id: string }[] } }>(url, '{ runs(first: 5) { live nodes { id } } }', { token: acmeDev }),
    ).runs;
    assert.match(page.live ?? '', /^\d+-\d+$/);
    // Started and finished after the page was read, before anyone subscribed.
    const run = await startWorkflow(url, acmeDev, { workflow: 'gated' });
    dataOf(await go(run.id));
    await waitForRun(url, acmeDev, run.id, ['SUCCEEDED']);
    const feed = collect<RunEvent & { runId: string }>(
      open(acmeDev),
      'subscription($after: String) { runs(after: $after) { eventId runId status } }',
      { after: page.live },
      (events) => events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
    );
    await feed.done;
    assert.deepEqual(feed.errors, []);
    assert.ok(
      feed.events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
      JSON.stringify(feed.events),
    );
  });

  it('refuses another tenant subscribing to a run, even with its id', async () => {
    const run = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    const spy = collect<RunEvent>(open(globexDev), RUN_UPDATED, { id: run.id }, () => false, 2_000);
    await sleep(200);
    dataOf(await go(run.id));
    await spy.done;
    assert.deepEqual(spy.events, []);
    assert.ok(JSON.stringify(spy.errors).includes('NOT_FOUND'), JSON.stringify(spy.errors));
  });

  it("keeps a user's other subscription alive when one of them ends", async () => {
    const c = open(acmeDev);
    const runA = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    const runB = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    const a = collect<RunEvent>(c, RUN_UPDATED, { id: runA.id, after: '0-0' }, (events) => events.length >= 1);
    const b = collect<RunEvent>(c, RUN_UPDATED, { id: runB.id, after: '0-0' }, (events) => events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED'));
    await a.done;
    await sleep(300);
    dataOf(await go(runB.id));
    await b.done;
    assert.ok(
      b.events.some((e) => e.kind === 'RUN' && e.status === 'SUCCEEDED'),
      JSON.stringify(b),
    );
  });

  it('refuses an event id out of range', async () => {
    const run = await startWorkflow(ctx.stack.graphqlUrl, acmeDev, { workflow: 'gated' });
    const sub = collect<RunEvent>(open(acmeDev), RUN_UPDATED, { id: run.id, after: '99999999999999999999-0' }, () => false, 3_000);
    await sub.done;
    assert.match(JSON.stringify(sub.errors), /BAD_USER_INPUT/);
  });

  it('closes a connection whose token is invalid with 4401', async () => {
    const code = await new Promise<number>((resolve) => {
      const c = routerWsClient(ctx.stack.graphqlUrl, 'not-a-token');
      clients.push(c);
      c.on('closed', (event) => resolve((event as { code: number }).code));
      c.subscribe({ query: 'subscription { runs { eventId } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    });
    assert.equal(code, 4401);
  });

  it('refuses a subscription without a token as HTTP refuses a private field', async () => {
    const c = routerWsClient(ctx.stack.graphqlUrl, undefined);
    clients.push(c);
    const errors = await new Promise<unknown>((resolve) => {
      c.subscribe({ query: 'subscription { runs { eventId } }' }, { next: () => undefined, error: resolve, complete: () => resolve(undefined) });
    });
    assert.match(JSON.stringify(errors), /UNAUTHENTICATED/);
    assert.match(JSON.stringify(errors), /Sign in to use \\"runs\\"/);
  });

  it('replays every state of a finished run on the runs feed, not only its latest', async () => {
    const url = ctx.stack.graphqlUrl;
    const run = await startWorkflow(url, acmeDev, { workflow: 'gated' });
    dataOf(await go(run.id));
    await waitForRun(url, acmeDev, run.id, ['SUCCEEDED']);
    const feed = collect<RunEvent & { runId: string }>(
      open(acmeDev),
      'subscription($after: String) { runs(after: $after) { eventId runId status } }',
      { after: '0' },
      (events) => events.some((e) => e.runId === run.id && e.status === 'SUCCEEDED'),
    );
    await feed.done;
    assert.deepEqual(feed.errors, []);
    const trail = feed.events.filter((e) => e.runId === run.id);
    assert.deepEqual(
      trail.map((e) => e.status),
      ['QUEUED', 'RUNNING', 'SUCCEEDED'],
    );
    const ids = feed.events.map((e) => e.eventId);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
  });

  describe('token lifetime on a long connection', () => {
    const shortToken = (seconds: number) => mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['DEVELOPER'], expiresInSeconds: seconds });

    function raw(token: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
      return new Promise((resolve, reject) => {
        const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
        const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        socket.on('message', (data) => {
          if (JSON.parse(String(data)).type === 'connection_ack') resolve({ socket, closed });
        });
        socket.on('error', reject);
        socket.on('close', (code) => reject(new Error(`closed with ${code} before the connection was acknowledged`)));
      });
    }

    it('closes with 4401 when the token expires', async () => {
      const { closed } = await raw(await shortToken(5));
      assert.equal(await Promise.race([closed, sleep(15_000).then(() => -1)]), 4401);
    });

    it('stays open when the client refreshes its token in a ping', async () => {
      const fresh = await shortToken(600);
      const { socket, closed } = await raw(await shortToken(5));
      socket.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${fresh}` } }));
      const outcome = await Promise.race([closed, sleep(7_000).then(() => 'open')]);
      assert.equal(outcome, 'open');
      socket.close();
    });
  });
});
