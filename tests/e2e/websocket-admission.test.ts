import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { mintAccessToken } from '../support/tokens.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';
import { createClient } from '../support/ws-client.ts';

// What only a long-lived socket can get wrong: whose rights its shared upstreams carry, how
// many it may hold, and that ending a session ends its sockets too.
const ctx = useTestStack({ TANSU_MAX_SOCKETS_PER_USER: '3', TANSU_MAX_SUBSCRIPTIONS_PER_SOCKET: '3' });

const RUNS = 'subscription { runs { eventId kind } }';

interface Watch {
  client: Client;
  events: unknown[];
  errors: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}

describe('WebSocket admission', () => {
  let seed: TwoTenants;
  const clients: Client[] = [];

  const connect = (token: string): Omit<Watch, 'events' | 'errors'> => {
    let onClosed: (event: { code: number; reason: string }) => void = () => undefined;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
    const client = createClient({
      url: ctx.stack.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    client.on('closed', (event) => onClosed(event as { code: number; reason: string }));
    clients.push(client);
    return { client, closed };
  };

  /** Subscribes and resolves once the subscription is running upstream (or refused). */
  const watch = async (connection: Omit<Watch, 'events' | 'errors'>, query = RUNS): Promise<Watch> => {
    const events: unknown[] = [];
    const errors: unknown[] = [];
    connection.client.subscribe(
      { query },
      {
        next: (value) => (value.errors === undefined ? events.push(value.data) : errors.push(...value.errors)),
        error: (error) => errors.push(error),
        complete: () => undefined,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ...connection, events, errors };
  };

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it("never lets an application's token ride on the upstream its user's own session opened", async () => {
    const developer = await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['DEVELOPER'] });
    const own = await watch(connect(developer));
    const app = await watch(
      connect(await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['DEVELOPER'], clientId: 'dashboard-widget' })),
    );
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, developer, 'shared-upstream', [{ id: 'one', type: 'transform', with: { output: 1 } }]);
    const run = await startWorkflow(url, developer, { workflow: 'shared-upstream', input: { secret: 'not for apps' } });
    await waitForRun(url, developer, run.id, ['SUCCEEDED']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(own.events.length > 0, 'the user sees their runs');
    assert.deepEqual(app.events, [], 'the application was granted no tansu:read scope');
    assert.match(JSON.stringify(app.errors), /FORBIDDEN/);
  });

  it('closes open subscriptions the moment their session is ended', async () => {
    const token = await mintAccessToken(ctx.stack.db, seed.globex, seed.bob.user.id, { roles: ['DEVELOPER'] });
    const watching = await watch(connect(token));
    assert.deepEqual(watching.errors, []);
    await publishSessionRevocation(ctx.stack.redis, ctx.stack.redisNamespace, seed.globex.id, seed.bob.user.id, { now: Date.now() + 1_000 });
    const closed = await watching.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /Session ended/);
  });

  it('tells a socket whose roles changed to refresh its token', async () => {
    const user = await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['VIEWER'] });
    const watching = await watch(connect(user));
    await publishSessionRevocation(ctx.stack.redis, ctx.stack.redisNamespace, seed.acme.id, seed.alice.user.id, { reason: 'roles', now: Date.now() + 1_000 });
    const closed = await watching.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /Roles changed: refresh the token/);
  });

  it('caps the sockets one user holds and the operations one socket runs', async () => {
    const admin = seed.admin.user.id;
    const tokens = await Promise.all(
      [0, 1, 2, 3].map(() => mintAccessToken(ctx.stack.db, { id: seed.admin.user.tenant.id, slug: 'platform' }, admin, { roles: ['OWNER'] })),
    );
    const open = await Promise.all(tokens.slice(0, 3).map(async (token) => watch(connect(token))));
    for (const socket of open) assert.deepEqual(socket.errors, []);
    const fourth = connect(tokens[3]!);
    void watch(fourth);
    const refused = await fourth.closed;
    assert.equal(refused.code, 4429);
    assert.match(refused.reason, /Too many open connections/);

    const socket = open[0]!;
    for (let i = 0; i < 2; i++) await watch(socket);
    const over = await watch(socket);
    assert.match(JSON.stringify(over.errors), /RATE_LIMITED/);
    assert.match(JSON.stringify(over.errors), /Too many operations open on this connection/);
  });
});
