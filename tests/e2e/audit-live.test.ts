import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp } from '../support/graphql-client.ts';
import { collect, routerWsClient } from '../support/ws-collect.ts';

// The audit log's live feed through the router: graphql-ws in, the tenancy subgraph's stream reader behind it.
const ctx = useTestStack();

interface Entry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  detail: string | null;
}

interface AuditEvent {
  eventId: string;
  entry: Entry;
}

const ENTRY = 'id at actorId action target outcome ip userAgent detail';
const FEED = `subscription($f: AuditFilter, $after: String) { auditLog(filter: $f, after: $after) { eventId entry { ${ENTRY} } } }`;
const LOG = `query($f: AuditFilter) { auditLog(filter: $f, first: 50) { entries { ${ENTRY} } } }`;
const FAILED_SIGN_IN = { action: 'auth.sign_in', outcome: 'FAILURE' };

/** The code and message of the first error a subscription was refused with. */
function refusal(errors: unknown[]): { code: unknown; message: unknown } {
  const first = errors[0] as { message?: unknown; extensions?: { code?: unknown } } | undefined;
  return { code: first?.extensions?.code, message: first?.message };
}

describe('the audit log, live', () => {
  let seed: TwoTenants;
  let owner: string;
  let ownerId: string;
  let viewer: string;
  const clients: Client[] = [];
  const open = (token: string | undefined) => {
    const c = routerWsClient(ctx.stack.graphqlUrl, token);
    clients.push(c);
    return c;
  };
  /** A refused sign-in: an `auth.sign_in` FAILURE entry in acme's log whose target is `email`. */
  const failSignIn = async (email: string) => {
    const res = await gql(ctx.stack.graphqlUrl, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
      variables: { i: { tenant: 'acme', email, password: 'not-the-password' } },
    });
    expectError(res, 'UNAUTHENTICATED');
  };
  const targets = (events: AuditEvent[]) => events.map((e) => e.entry.target);

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    const signedIn = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    owner = signedIn.accessToken;
    ownerId = signedIn.user.id;
    viewer = (await signUp(url, 'acme', 'carol@acme.test', 'carol-password')).accessToken;
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it('delivers an entry recorded after subscribing, as the query shows it, and only of the action asked for', async () => {
    const sub = collect<AuditEvent>(open(owner), FEED, { f: { action: 'user.invited' } }, (events) => events.length >= 1);
    await sleep(300);
    // A live feed starts once the subgraph listens: act until an entry arrives (the first try, as a rule).
    const invited: string[] = [];
    for (let i = 0; i < 10 && sub.events.length === 0 && sub.errors.length === 0; i++) {
      // Recorded first: were the filter ignored, this would be the event delivered.
      await failSignIn(`ghost-live-${i}@acme.test`);
      invited.push(`dana-${i}@acme.test`);
      dataOf(
        await gql(ctx.stack.graphqlUrl, 'mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }', {
          token: owner,
          variables: { i: { email: invited.at(-1), role: 'VIEWER' } },
        }),
      );
      await Promise.race([sub.done, sleep(1_000)]);
    }
    await sub.done;
    assert.deepEqual(sub.errors, []);
    assert.equal(sub.events.length, 1, JSON.stringify(sub.events));
    const [event] = sub.events;
    assert.match(event!.eventId, /^\d+-\d+$/);
    const { entry } = event!;
    assert.equal(entry.action, 'user.invited');
    assert.equal(entry.actorId, ownerId);
    assert.ok(invited.includes(entry.target ?? ''), `${entry.target} was not invited`);
    assert.equal(entry.outcome, 'SUCCESS');
    assert.deepEqual(JSON.parse(entry.detail ?? 'null'), { role: 'VIEWER' });
    assert.ok(entry.ip, 'the client address is recorded');
    assert.ok(entry.userAgent, 'the user agent is recorded');
    // Exactly what the query shows of the same entry.
    const listed = dataOf(
      await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, LOG, { token: owner, variables: { f: { action: 'user.invited' } } }),
    ).auditLog.entries;
    assert.deepEqual(
      entry,
      listed.find((e) => e.id === entry.id),
    );
  });

  it('applies every field of the filter, the time range included, as the query does', async () => {
    await failSignIn('ghost-early@acme.test');
    await sleep(20);
    const boundary = new Date().toISOString();
    await sleep(20);
    // From the first kept event: the range, not the start, leaves earlier entries out.
    const since = collect<AuditEvent>(open(owner), FEED, { f: { ...FAILED_SIGN_IN, since: boundary }, after: '0' }, (events) =>
      targets(events).includes('ghost-late@acme.test'),
    );
    await signIn(ctx.stack.graphqlUrl, 'acme', 'alice@acme.test', 'alice-password');
    await failSignIn('ghost-late@acme.test');
    await since.done;
    assert.deepEqual(since.errors, []);
    assert.deepEqual(targets(since.events), ['ghost-late@acme.test']);
    // Everything is on the stream now: a feed of the earlier range replays only its part.
    const until = collect<AuditEvent>(open(owner), FEED, { f: { ...FAILED_SIGN_IN, until: boundary }, after: '0' }, () => false, 1_500);
    await until.done;
    assert.deepEqual(until.errors, []);
    assert.ok(targets(until.events).includes('ghost-early@acme.test'), JSON.stringify(targets(until.events)));
    assert.ok(!targets(until.events).includes('ghost-late@acme.test'));
    assert.ok(until.events.every((e) => e.entry.action === 'auth.sign_in' && e.entry.outcome === 'FAILURE' && e.entry.at < boundary));
    // The query draws the same line.
    const listed = dataOf(
      await gql<{ auditLog: { entries: Entry[] } }>(ctx.stack.graphqlUrl, LOG, { token: owner, variables: { f: { ...FAILED_SIGN_IN, until: boundary } } }),
    ).auditLog.entries;
    assert.deepEqual(
      until.events.map((e) => e.entry),
      [...listed].reverse(),
    );
    // By actor: alice's successful sign-in is hers, the refused ones of unknown addresses are nobody's.
    const byActor = collect<AuditEvent>(open(owner), FEED, { f: { actorId: ownerId, since: boundary }, after: '0' }, () => false, 1_500);
    await byActor.done;
    assert.deepEqual(
      byActor.events.map((e) => `${e.entry.action}:${e.entry.outcome}`),
      ['auth.sign_in:SUCCESS'],
    );
  });

  it('resumes after a dropped socket from the last event id: what was missed, nothing twice', async () => {
    await failSignIn('ghost-r1@acme.test');
    const dropped = open(owner);
    const first = collect<AuditEvent>(dropped, FEED, { f: FAILED_SIGN_IN, after: '0' }, (events) => targets(events).includes('ghost-r1@acme.test'));
    await first.done;
    await dropped.dispose();
    const last = first.events.at(-1)!;
    assert.equal(last.entry.target, 'ghost-r1@acme.test');
    // While away: two entries the filter keeps, one it does not.
    await failSignIn('ghost-r2@acme.test');
    await signUp(ctx.stack.graphqlUrl, 'acme', 'erin@acme.test', 'erin-password');
    await failSignIn('ghost-r3@acme.test');
    const resumed = collect<AuditEvent>(open(owner), FEED, { f: FAILED_SIGN_IN, after: last.eventId }, (events) =>
      targets(events).includes('ghost-r3@acme.test'),
    );
    await resumed.done;
    assert.deepEqual(resumed.errors, []);
    assert.deepEqual(targets(resumed.events), ['ghost-r2@acme.test', 'ghost-r3@acme.test']);
    // The same events as a replay from the start shows after that id, in the same order.
    const all = collect<AuditEvent>(open(owner), FEED, { f: FAILED_SIGN_IN, after: '0' }, (events) => targets(events).includes('ghost-r3@acme.test'));
    await all.done;
    const ids = all.events.map((e) => e.eventId);
    assert.deepEqual(
      resumed.events.map((e) => e.eventId),
      ids.slice(ids.indexOf(last.eventId) + 1),
    );
    assert.equal(new Set(ids).size, ids.length, 'an event was delivered twice');
    assert.equal(new Set(all.events.map((e) => e.entry.id)).size, all.events.length, 'an entry was delivered twice');
  });

  it("hands a page of the log the feed's position, from which nothing recorded afterwards is missed", async () => {
    await failSignIn('ghost-p1@acme.test');
    const page = dataOf(
      await gql<{ auditLog: { live: string | null; entries: Entry[] } }>(
        ctx.stack.graphqlUrl,
        `query($f: AuditFilter) { auditLog(filter: $f, first: 50) { live entries { ${ENTRY} } } }`,
        {
          token: owner,
          variables: { f: FAILED_SIGN_IN },
        },
      ),
    ).auditLog;
    assert.match(page.live ?? '', /^\d+-\d+$/);
    assert.ok(page.entries.some((e) => e.target === 'ghost-p1@acme.test'));
    // Recorded after the page was read and before anyone subscribed: a live-only feed opened now would miss it.
    await failSignIn('ghost-p2@acme.test');
    const fromPage = collect<AuditEvent>(open(owner), FEED, { f: FAILED_SIGN_IN, after: page.live }, (events) =>
      targets(events).includes('ghost-p2@acme.test'),
    );
    await fromPage.done;
    assert.deepEqual(fromPage.errors, []);
    assert.ok(targets(fromPage.events).includes('ghost-p2@acme.test'), JSON.stringify(targets(fromPage.events)));
    // Anything else it delivers the page holds already (same entry id): the reader drops it.
    const held = new Set(page.entries.map((e) => e.id));
    assert.deepEqual(
      fromPage.events.filter((e) => e.entry.target !== 'ghost-p2@acme.test' && !held.has(e.entry.id)),
      [],
    );
  });

  it('refuses a member without the role with the code and message the query gives', async () => {
    const http = expectError(await gql(ctx.stack.graphqlUrl, LOG, { token: viewer }), 'FORBIDDEN');
    const sub = collect<AuditEvent>(open(viewer), FEED, {}, () => false, 10_000);
    await sub.done;
    assert.deepEqual(sub.events, []);
    assert.deepEqual(refusal(sub.errors), { code: 'FORBIDDEN', message: http.message });
    // And globex's viewer, whose tenant is another, the same way.
    const globex = collect<AuditEvent>(open(seed.bob.accessToken), FEED, {}, () => false, 10_000);
    await globex.done;
    assert.deepEqual(refusal(globex.errors), { code: 'FORBIDDEN', message: http.message });
  });

  it('refuses an anonymous subscriber as HTTP refuses an anonymous query', async () => {
    expectError(await gql(ctx.stack.graphqlUrl, LOG), 'UNAUTHENTICATED');
    const sub = collect<AuditEvent>(open(undefined), FEED, {}, () => false, 10_000);
    await sub.done;
    assert.equal(refusal(sub.errors).code, 'UNAUTHENTICATED');
  });

  it('names the bad argument, over HTTP and WebSocket alike', async () => {
    for (const f of [{ outcome: 'MAYBE' }, { since: 'yesterday' }]) {
      const http = expectError(await gql(ctx.stack.graphqlUrl, LOG, { token: owner, variables: { f } }), 'BAD_USER_INPUT');
      const sub = collect<AuditEvent>(open(owner), FEED, { f }, () => false, 10_000);
      await sub.done;
      assert.deepEqual(refusal(sub.errors), { code: 'BAD_USER_INPUT', message: http.message });
    }
    const sub = collect<AuditEvent>(open(owner), FEED, { after: 'yesterday' }, () => false, 10_000);
    await sub.done;
    assert.equal(refusal(sub.errors).code, 'BAD_USER_INPUT');
    assert.match(String(refusal(sub.errors).message), /after/);
  });
});
