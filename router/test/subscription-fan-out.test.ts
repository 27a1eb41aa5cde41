import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, stringifyMessage } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '@tansu/platform/logger';
import { createRouter, type Router } from '../src/create-router.ts';

// Identical subscriptions share one upstream subscription (a fan): each event is serialised
// once and written to every socket in one go. What a client receives must not change: the
// frames graphql-ws would have sent, in order, and a client that stops reading is still ended.

const TICKS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Tick @key(fields: "seq") { seq: Int! label: String! }
  type Query { lastTick: Tick }
  type Subscription { ticks(topic: String!): Tick! }
`;
const NOTES_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Tick @key(fields: "seq") { seq: Int! note: String! }
  type Query { noteCount: Int! }
`;
const LOCAL = 'subscription($topic: String!) { ticks(topic: $topic) { seq label } }';
const FEDERATED = 'subscription($topic: String!) { ticks(topic: $topic) { seq label note } }';

interface Tick {
  seq: number;
  label: string | null;
}

/** The ticks subgraph's event source: the test publishes, every open subscription of the topic receives. */
function createTopics() {
  const listeners = new Map<string, Set<{ push(tick: Tick | undefined): void }>>();
  const opened = new Map<string, number>();
  return {
    opened: (topic: string) => opened.get(topic) ?? 0,
    publish(topic: string, tick: Tick) {
      for (const listener of listeners.get(topic) ?? []) listener.push(tick);
    },
    end(topic: string) {
      for (const listener of listeners.get(topic) ?? []) listener.push(undefined);
    },
    subscribe(topic: string): AsyncIterableIterator<{ ticks: Tick }> {
      opened.set(topic, (opened.get(topic) ?? 0) + 1);
      const queue: (Tick | undefined)[] = [];
      let wake: (() => void) | undefined;
      const listener = {
        push(tick: Tick | undefined) {
          queue.push(tick);
          wake?.();
        },
      };
      const set = listeners.get(topic) ?? new Set();
      set.add(listener);
      listeners.set(topic, set);
      const iterator: AsyncIterableIterator<{ ticks: Tick }> = {
        async next() {
          while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          const tick = queue.shift();
          if (tick === undefined) return iterator.return!();
          return { value: { ticks: tick }, done: false };
        },
        async return() {
          set.delete(listener);
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
  };
}

interface Frame {
  /** The text exactly as it arrived. */
  raw: string;
  message: { id?: string; type: string; payload?: unknown };
}

/** A graphql-ws client that keeps every frame exactly as it arrived. */
async function rawClient(url: string) {
  const socket = new WebSocket(url, GRAPHQL_TRANSPORT_WS_PROTOCOL);
  const frames: Frame[] = [];
  socket.on('message', (data) => {
    const raw = String(data);
    frames.push({ raw, message: JSON.parse(raw) as Frame['message'] });
  });
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: MessageType.ConnectionInit }));
  await until('the connection to be acknowledged', () => frames.length > 0);
  assert.deepEqual(frames.shift()!.message, { type: MessageType.ConnectionAck });
  return {
    socket,
    subscribe(id: string, query: string, variables: Record<string, unknown>) {
      socket.send(JSON.stringify({ id, type: MessageType.Subscribe, payload: { query, variables } }));
    },
    /** The frames of one subscription in arrival order. */
    of: (id: string) => frames.filter((f) => f.message.id === id),
  };
}
type RawClient = Awaited<ReturnType<typeof rawClient>>;

async function until(what: string, done: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('subscription fan-out through the router', () => {
  const topics = createTopics();
  let ticksServer: Server;
  let notes: ApolloServer;
  let router: Router;
  let wsUrl: string;
  const clients: RawClient[] = [];
  const open = async () => {
    const client = await rawClient(wsUrl);
    clients.push(client);
    return client;
  };

  before(async () => {
    const ticksSchema = buildSubgraphSchema([
      {
        typeDefs: parse(TICKS_SDL),
        resolvers: {
          Query: { lastTick: () => null },
          Subscription: { ticks: { subscribe: (_: unknown, args: { topic: string }) => topics.subscribe(args.topic) } },
        } as never,
      },
    ]);
    ticksServer = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server: ticksServer, path: '/graphql' });
    useServer({ schema: ticksSchema }, wss);
    ticksServer.listen(0, '127.0.0.1');
    await once(ticksServer, 'listening');
    const ticksUrl = `http://127.0.0.1:${(ticksServer.address() as AddressInfo).port}/graphql`;

    notes = new ApolloServer({
      plugins: [ApolloServerPluginInlineTraceDisabled()],
      schema: buildSubgraphSchema([
        {
          typeDefs: parse(NOTES_SDL),
          resolvers: { Query: { noteCount: () => 0 }, Tick: { __resolveReference: (tick: { seq: number }) => ({ seq: tick.seq, note: `note ${tick.seq}` }) } },
        },
      ]),
    });
    const { url: notesUrl } = await startStandaloneServer(notes, { listen: { port: 0, host: '127.0.0.1' } });

    const composed = composeServices([
      { name: 'ticks', url: ticksUrl, typeDefs: parse(TICKS_SDL) },
      { name: 'notes', url: notesUrl, typeDefs: parse(NOTES_SDL) },
    ]);
    assert.equal(composed.errors, undefined);
    router = await createRouter({
      supergraphSdl: composed.supergraphSdl!,
      authenticator: undefined,
      codec: undefined,
      limits: { maxBodyBytes: 1_000_000, maxDepth: 10, maxAliases: 30, maxCost: 10_000, maxSocketsPerUser: 10, maxSubscriptionsPerSocket: 50 },
      playground: false,
      logger: createLogger({ level: 'silent', service: 'router' }),
    });
    const port = await router.listen(0, '127.0.0.1');
    wsUrl = `ws://127.0.0.1:${port}/graphql`;
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await router.close();
    await notes.stop();
    ticksServer.closeAllConnections();
    ticksServer.close();
  });

  /** Publishes probe ticks until every listed subscription has one: graphql-ws does not acknowledge a subscribe. */
  async function waitUntilSubscribed(topic: string, subscriptions: [RawClient, string][]): Promise<void> {
    for (let probe = -1; !subscriptions.every(([client, id]) => client.of(id).length > 0); probe--) {
      topics.publish(topic, { seq: probe, label: 'probe' });
      await sleep(20);
    }
  }

  it('sends each subscriber of a fan the frames graphql-ws would have sent, in order, under a burst', async () => {
    const topic = 'burst';
    const burst = 300;
    const faulty = 150;
    const sockets = [await open(), await open()];
    const subscriptions: [RawClient, string, string][] = [];
    for (const [s, client] of sockets.entries()) {
      for (let i = 0; i < 10; i++) subscriptions.push([client, `local-${s}-${i}`, LOCAL]);
      for (let i = 0; i < 3; i++) subscriptions.push([client, `federated-${s}-${i}`, FEDERATED]);
    }
    for (const [client, id, query] of subscriptions) client.subscribe(id, query, { topic });
    await waitUntilSubscribed(
      topic,
      subscriptions.map(([client, id]) => [client, id]),
    );
    // One fan per distinct operation, each with one upstream subscription.
    assert.equal(topics.opened(topic), 2);

    for (let seq = 1; seq <= burst; seq++) topics.publish(topic, { seq, label: seq === faulty ? null : `tick ${seq}` });
    topics.end(topic);
    await until('every subscription to complete', () => subscriptions.every(([client, id]) => client.of(id).at(-1)?.message.type === MessageType.Complete));

    for (const [client, id, query] of subscriptions) {
      const frames = client.of(id).filter((f) => !(f.message.type === MessageType.Next && JSON.stringify(f.message.payload).includes('probe')));
      assert.equal(frames.length, burst + 1, `${id}: ${burst} events and Complete`);
      assert.equal(frames.at(-1)!.raw, stringifyMessage({ id, type: MessageType.Complete }));
      for (let seq = 1; seq <= burst; seq++) {
        const { raw, message } = frames[seq - 1]!;
        if (seq === faulty) {
          // A field error upstream: the subgraph's own result passes through, serialised as graphql-ws would.
          const payload = message.payload as { data: null; errors: { message: string; path: (string | number)[] }[] };
          assert.equal(payload.data, null);
          assert.match(payload.errors[0]!.message, /non-nullable field Tick\.label/);
          assert.deepEqual(payload.errors[0]!.path, ['ticks', 'label']);
          assert.equal(raw, stringifyMessage({ id, type: MessageType.Next, payload }));
          continue;
        }
        const tick = query === LOCAL ? { seq, label: `tick ${seq}` } : { seq, label: `tick ${seq}`, note: `note ${seq}` };
        const expected = stringifyMessage({ id, type: MessageType.Next, payload: { data: { ticks: tick } } });
        assert.equal(raw, expected, `${id}: frame ${seq}`);
        assert.deepEqual(message, JSON.parse(expected));
      }
    }
  });

  it('stops only the subscription a client completes, and takes its id again afterwards', async () => {
    const topic = 'complete';
    const client = await open();
    client.subscribe('a', LOCAL, { topic });
    client.subscribe('b', LOCAL, { topic });
    await waitUntilSubscribed(topic, [
      [client, 'a'],
      [client, 'b'],
    ]);
    client.socket.send(JSON.stringify({ id: 'a', type: MessageType.Complete }));
    const seqs = (id: string) =>
      client
        .of(id)
        .filter((f) => f.message.type === MessageType.Next)
        .map((f) => (f.message.payload as { data: { ticks: Tick } }).data.ticks.seq);
    await until('the fan to let go of the completed subscription', () => {
      topics.publish(topic, { seq: 0, label: 'marker' });
      return seqs('b').filter((seq) => seq === 0).length >= 2;
    });
    const aBefore = client.of('a').length;
    topics.publish(topic, { seq: 1, label: 'one' });
    await until('b to get the event', () => seqs('b').includes(1));
    assert.equal(client.of('a').length, aBefore, 'nothing more for a completed subscription');
    assert.ok(!client.of('a').some((f) => f.message.type === MessageType.Complete), 'the server does not echo a client-side complete');
    assert.equal(topics.opened(topic), 1, 'b kept the upstream open');

    client.subscribe('a', LOCAL, { topic });
    await until('a to be subscribed again', () => {
      topics.publish(topic, { seq: 2, label: 'two' });
      return seqs('a').includes(2);
    });
    assert.deepEqual(
      seqs('b').filter((seq) => seq > 0),
      seqs('b')
        .filter((seq) => seq > 0)
        .sort((x, y) => x - y),
    );
  });

  it('ends a subscriber whose client stopped reading, without holding up the others', async () => {
    const topic = 'slow';
    // Large events fill the socket buffers quickly; past them the slow subscriber's queue fills up.
    const label = 'x'.repeat(16 * 1024);
    const events = 4_000;
    const [healthy, slow] = [await open(), await open()];
    healthy.subscribe('h', LOCAL, { topic });
    slow.subscribe('s', LOCAL, { topic });
    await waitUntilSubscribed(topic, [
      [healthy, 'h'],
      [slow, 's'],
    ]);
    slow.socket.pause();
    const seen = () => healthy.of('h').filter((f) => f.message.type === MessageType.Next).length;
    const before = seen();
    for (let seq = 1; seq <= events; seq++) {
      topics.publish(topic, { seq, label });
      // Keep the upstream socket from holding the whole burst in memory at once.
      if (seq % 200 === 0) await until('the healthy subscriber to keep up', () => seen() - before >= seq - 100);
    }
    await until('the healthy subscriber to receive every event', () => seen() - before === events);
    const healthySeqs = healthy
      .of('h')
      .slice(-events)
      .map((f) => (f.message.payload as { data: { ticks: Tick } }).data.ticks.seq);
    assert.deepEqual(
      healthySeqs,
      Array.from({ length: events }, (_, i) => i + 1),
    );

    slow.socket.resume();
    await until('the slow subscription to end', () => slow.of('s').at(-1)?.message.type === MessageType.Complete);
    const frames = slow.of('s');
    const nexts = frames.filter((f) => f.message.type === MessageType.Next);
    const last = nexts.at(-1)!.message.payload as { errors?: { message: string; extensions: { code: string } }[] };
    assert.equal(last.errors?.[0]?.extensions.code, 'RATE_LIMITED');
    assert.match(last.errors[0]!.message, /fell too far behind/);
    // What it did get came in order, without gaps, and stopped well short of the end.
    const got = nexts
      .slice(0, -1)
      .map((f) => (f.message.payload as { data: { ticks: Tick } }).data.ticks.seq)
      .filter((seq) => seq > 0);
    assert.deepEqual(
      got,
      Array.from({ length: got.length }, (_, i) => i + 1),
    );
    assert.ok(got.length < events - 1_000, `the slow subscriber got ${got.length} of ${events}`);
    // The healthy subscriber goes on.
    topics.publish(topic, { seq: events + 1, label: 'after' });
    await until('the healthy subscriber to get the next event', () => seen() - before === events + 1);
  });
});
