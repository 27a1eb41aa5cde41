import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { TansuError, createTansuClient, graphql, memoryStore, type ResultOf } from '@tansu/client';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';
import { useTestStack } from '../../../tests/support/test-stack.ts';
import { createWorkflow } from '../../../tests/support/workflows.ts';

// Access tokens live 30 s, the shortest the platform allows: the first one expires mid-test.
const ctx = useTestStack({ TANSU_ACCESS_TOKEN_TTL: '30' });

const RUNS = graphql(`
  subscription SdkRenewalRuns($after: String) {
    runs(after: $after) {
      eventId
      kind
      runId
      status
    }
  }
`);

const START = graphql(`
  mutation SdkRenewalStart($input: StartWorkflowInput!) {
    startWorkflow(input: $input) {
      id
    }
  }
`);

type RunEvent = ResultOf<typeof RUNS>['runs'];

/** The platform's WebSocket, recording each socket the client opens and the code each one closed with. */
function recordingWebSocket() {
  let opened = 0;
  const closes: number[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      opened += 1;
      this.addEventListener('close', (event) => closes.push(event.code));
    }
  }
  return { impl: RecordingWebSocket, opened: () => opened, closes };
}

describe('a long-lived subscription', () => {
  it('outlives the access token it opened with: the session refreshes on its own and hands the socket the new token', async (t) => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const sockets = recordingWebSocket();
    // Due for a refresh when 10 s are left; nothing but the open socket asks for it.
    const store = memoryStore();
    const client = createTansuClient({ url, tenant: 'acme', store, webSocketImpl: sockets.impl, refreshMarginSeconds: 10 });
    t.after(() => client.close());
    const first = await client.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    const firstExpiry = decodeJwt(first.accessToken).exp! * 1000;
    await createWorkflow(url, first.accessToken, 'renewal', [{ id: 'only', type: 'delay', with: { ms: 0 } }]);

    const received: { event: RunEvent; at: number }[] = [];
    let failure: TansuError | undefined;
    client.subscribe(RUNS, { after: '0' }, { next: (data) => received.push({ event: data.runs, at: Date.now() }), error: (error) => (failure = error) });
    const succeeded = async (runId: string) => {
      for (let i = 0; i < 200 && failure === undefined; i++) {
        const found = received.find(({ event }) => event.runId === runId && event.kind === 'RUN' && event.status === 'SUCCEEDED');
        if (found !== undefined) return found.at;
        await sleep(50);
      }
      assert.fail(`no SUCCEEDED event for run ${runId}: ${failure?.message ?? JSON.stringify(received.map((r) => r.event))}`);
    };

    const before = (await client.request(START, { input: { workflow: 'renewal' } })).startWorkflow.id;
    await succeeded(before);
    assert.equal(sockets.opened(), 1);

    // Past the first token's expiry, with no request in between: a socket still on it would have been closed (4401).
    await sleep(Math.max(0, firstExpiry + 2_000 - Date.now()));
    const renewed = (await store.load())?.accessToken;
    assert.notEqual(renewed, first.accessToken, 'the session refreshed while only a subscription was open');
    assert.ok(decodeJwt(renewed!).exp! * 1000 > firstExpiry + 5_000);
    const after = (await client.request(START, { input: { workflow: 'renewal' } })).startWorkflow.id;
    assert.ok((await succeeded(after)) > firstExpiry);
    assert.equal(failure, undefined);
    assert.deepEqual(sockets.closes, [], 'the socket was never closed');
    assert.equal(sockets.opened(), 1, 'every event came over the socket opened with the first token');
  });
});
