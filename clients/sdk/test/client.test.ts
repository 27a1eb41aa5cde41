import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MfaRequiredError, TansuError, createTansuClient, graphql, memoryStore, type ResultOf, type Session } from '@tansu/client';
import { seedTwoTenants, setRole, type TwoTenants } from '../../../tests/support/seed.ts';
import { enrollTotp, nextTotp } from '../../../tests/support/mfa.ts';
import { createWorkflow } from '../../../tests/support/workflows.ts';
import { dataOf, gql } from '../../../tests/support/graphql-client.ts';
import { PUBLIC_URL, useTestStack } from '../../../tests/support/test-stack.ts';
import { SoftAuthenticator } from '../../../tests/support/soft-authenticator.ts';
import { startDroppingProxy } from './dropping-proxy.ts';

const ctx = useTestStack();

const ME = graphql(`
  query SdkMe {
    me {
      id
      email
      roles
    }
  }
`);

const START = graphql(`
  mutation SdkStart($input: StartWorkflowInput!) {
    startWorkflow(input: $input) {
      id
      status
    }
  }
`);

const RUN_UPDATED = graphql(`
  subscription SdkRunUpdated($runId: ID!, $after: String) {
    runUpdated(runId: $runId, after: $after) {
      eventId
      kind
      status
      stepId
      stepStatus
    }
  }
`);

type RunEvent = ResultOf<typeof RUN_UPDATED>['runUpdated'];

/** Counts the SDK's refresh calls on the wire. */
function countingFetch(): { fetch: typeof fetch; refreshes(): number } {
  let refreshes = 0;
  return {
    fetch: async (input, init) => {
      if (typeof init?.body === 'string' && init.body.includes('TansuRefresh')) refreshes += 1;
      return fetch(input, init);
    },
    refreshes: () => refreshes,
  };
}

describe('the typed client against a real platform', () => {
  let seed: TwoTenants;

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
    await setRole(ctx.stack.graphqlUrl, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
  });

  it('signs in and runs typed operations as the user', async () => {
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
    const session = await client.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    assert.equal(session.user?.email, 'alice@acme.test');
    const data = await client.request(ME);
    // Typed: `data.me` is known to have id, email and roles.
    assert.equal(data.me?.email, 'alice@acme.test');
    assert.deepEqual(data.me?.roles, ['DEVELOPER']);
    client.close();
  });

  it('signs up a new account in the tenant', async () => {
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'globex' });
    await client.auth.signUp({ email: 'carol@globex.test', password: 'carol-password' });
    assert.equal((await client.request(ME)).me?.email, 'carol@globex.test');
    client.close();
  });

  it('throws typed errors that carry the code and its details', async () => {
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
    const wrong = await client.auth.signIn({ email: 'alice@acme.test', password: 'not-her-password' }).catch((error: unknown) => error);
    assert.ok(wrong instanceof TansuError);
    assert.equal(wrong.code, 'UNAUTHENTICATED');
    const bad = await client.auth.signUp({ email: 'not an address', password: 'long-enough-password' }).catch((error: unknown) => error);
    assert.ok(bad instanceof TansuError);
    assert.equal(bad.code, 'BAD_USER_INPUT');
    assert.equal(bad.field, 'email');
    const anonymous = await client.request(START, { input: { workflow: 'nope' } }).catch((error: unknown) => error);
    assert.ok(anonymous instanceof TansuError);
    assert.equal(anonymous.code, 'UNAUTHENTICATED');
    const unreachable = createTansuClient({ url: 'http://127.0.0.1:9/graphql', tenant: 'acme' });
    const network = await unreachable.request(ME).catch((error: unknown) => error);
    assert.ok(network instanceof TansuError);
    assert.equal(network.code, 'NETWORK');
    client.close();
    unreachable.close();
  });

  it('refreshes a session that is due, once for many callers, and keeps working', async () => {
    const counted = countingFetch();
    const store = memoryStore();
    // A margin longer than the token lives: due at once, the way an expiring token is.
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme', store, fetch: counted.fetch, refreshMarginSeconds: 86_400 });
    const first = await client.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    const results = await Promise.all([client.request(ME), client.request(ME), client.request(ME)]);
    assert.ok(results.every((r) => r.me?.email === 'alice@acme.test'));
    assert.equal(counted.refreshes(), 1, 'three requests shared one refresh');
    const refreshed = (await store.load()) as Session;
    assert.notEqual(refreshed.refreshToken, first.refreshToken, 'the refresh token rotated');
    assert.notEqual(refreshed.accessToken, first.accessToken);
    client.close();
  });

  it('refreshes an expired session, and ends it when the platform refuses the refresh', async () => {
    const signedIn = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
    const session = await signedIn.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    signedIn.close();
    const expired = memoryStore({ ...session, expiresAt: Date.now() - 1_000 });
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme', store: expired });
    assert.equal((await client.request(ME)).me?.email, 'alice@acme.test');
    client.close();

    const ended: TansuError[] = [];
    const forged = memoryStore({ ...session, refreshToken: 'not-a-refresh-token', expiresAt: Date.now() - 1_000 });
    const stale = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme', store: forged, onSessionEnd: (error) => ended.push(error) });
    const refused = await stale.request(START, { input: { workflow: 'nope' } }).catch((error: unknown) => error);
    assert.ok(refused instanceof TansuError);
    assert.equal(refused.code, 'UNAUTHENTICATED');
    assert.equal(ended.length, 1);
    assert.equal(await forged.load(), null, 'the session is forgotten');
    stale.close();
  });

  it('finishes a sign-in that needs a second factor', async () => {
    const url = ctx.stack.graphqlUrl;
    const client = createTansuClient({ url, tenant: 'globex' });
    const bob = await client.auth.signIn({ email: 'bob@globex.test', password: 'bob-password' });
    const { secret } = await enrollTotp(url, bob.accessToken);
    const gate = await client.auth.signIn({ email: 'bob@globex.test', password: 'bob-password' }).catch((error: unknown) => error);
    assert.ok(gate instanceof MfaRequiredError, `expected MFA_REQUIRED, got ${String(gate)}`);
    assert.equal(gate.code, 'MFA_REQUIRED');
    assert.equal(gate.enroll, false);
    const session = await client.auth.verifyMfa({ mfaToken: gate.mfaToken, code: await nextTotp(secret) });
    assert.equal(session.user?.email, 'bob@globex.test');
    assert.equal((await client.request(ME)).me?.email, 'bob@globex.test');
    client.close();
  });

  it('signs in with a passkey, without a password', async () => {
    const url = ctx.stack.graphqlUrl;
    const laptop = new SoftAuthenticator(PUBLIC_URL);
    const client = createTansuClient({ url, tenant: 'globex' });
    const dave = await client.auth.signUp({ email: 'dave@globex.test', password: 'dave-password' });
    const started = dataOf(
      await gql<{ startPasskeyRegistration: { challengeId: string; options: string } }>(url, 'mutation { startPasskeyRegistration { challengeId options } }', {
        token: dave.accessToken,
      }),
    ).startPasskeyRegistration;
    dataOf(
      await gql(url, 'mutation($i: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $i) { factor { id } } }', {
        token: dave.accessToken,
        variables: { i: { challengeId: started.challengeId, response: laptop.create(started.options) } },
      }),
    );
    await client.auth.signOut();
    assert.equal(await client.auth.session(), null);
    const session = await client.auth.signInWithPasskey({ authenticate: async (options) => JSON.parse(laptop.get(JSON.stringify(options))) as unknown });
    assert.equal(session.user?.email, 'dave@globex.test');
    assert.equal((await client.request(ME)).me?.email, 'dave@globex.test');
    client.close();
  });

  describe('subscriptions', () => {
    let proxy: Awaited<ReturnType<typeof startDroppingProxy>>;
    before(async () => {
      proxy = await startDroppingProxy(new URL(ctx.stack.routerUrl));
    });
    after(() => proxy.close());

    it('survive a dropped connection without losing or repeating an event', async () => {
      const client = createTansuClient({ url: proxy.url('/graphql'), tenant: 'acme' });
      await client.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
      const token = await client.auth.accessToken();
      assert.ok(token !== undefined);
      await createWorkflow(ctx.stack.graphqlUrl, token, 'sdk-steps', [
        { id: 'a', type: 'delay', with: { ms: 150 } },
        { id: 'b', type: 'delay', with: { ms: 150 }, needs: ['a'] },
        { id: 'c', type: 'delay', with: { ms: 150 }, needs: ['b'] },
        { id: 'd', type: 'delay', with: { ms: 150 }, needs: ['c'] },
      ]);
      const run = (await client.request(START, { input: { workflow: 'sdk-steps' } })).startWorkflow;

      const received: RunEvent[] = [];
      let drops = 0;
      const finished = new Promise<void>((resolve, reject) => {
        client.subscribe(
          RUN_UPDATED,
          { runId: run.id, after: '0' },
          {
            next: (data) => {
              received.push(data.runUpdated);
              // Cut the connection twice, mid-run, right after an event arrived.
              if (drops < 2 && received.length % 3 === 0) drops += proxy.dropAll() > 0 ? 1 : 0;
              if (data.runUpdated.kind === 'RUN' && data.runUpdated.status === 'SUCCEEDED') resolve();
            },
            error: reject,
          },
        );
      });
      await Promise.race([
        finished,
        sleep(20_000).then(() => Promise.reject(new Error(`the run did not finish on the subscription: ${JSON.stringify(received)}`))),
      ]);
      assert.equal(drops, 2, 'the connection was cut twice');

      // Everything the stream holds for the run, read in one go by a client that never dropped.
      const reader = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
      await reader.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
      const all: RunEvent[] = [];
      await new Promise<void>((resolve, reject) => {
        reader.subscribe(
          RUN_UPDATED,
          { runId: run.id, after: '0' },
          {
            next: (data) => {
              all.push(data.runUpdated);
              if (data.runUpdated.kind === 'RUN' && data.runUpdated.status === 'SUCCEEDED') resolve();
            },
            error: reject,
          },
        );
      });
      assert.deepEqual(
        received.map((e) => e.eventId),
        all.map((e) => e.eventId),
      );
      assert.ok(received.filter((e) => e.kind === 'STEP' && e.stepStatus === 'SUCCEEDED').length === 4, 'every step finished on the subscription');
      client.close();
      reader.close();
    });

    it('end with a typed error when the server refuses the operation', async () => {
      const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'acme' });
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe(RUN_UPDATED, { runId: crypto.randomUUID() }, { next: () => resolve(new Error('an event arrived')), error: resolve });
      });
      assert.ok(error instanceof TansuError, String(error));
      assert.equal(error.code, 'UNAUTHENTICATED');
      client.close();
    });
  });
});
