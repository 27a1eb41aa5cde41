// Child process of `bench:workflow`: many graphql-ws subscribers on a tenant's `runs` feed
// through the router. It runs apart from the stack so receiving and parsing 1,000 copies of
// every event is not charged to the router's event loop (the two still share the 2 cores).
// Driven over IPC by run.ts; see the message types below.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export type ToSubscribers =
  | { type: 'open'; url: string; token: string; clients: number; perClient: number; timeoutMs: number }
  /** Wait until every subscriber saw this run succeed: proof that all subscriptions are live. */
  | { type: 'probe'; runId: string; timeoutMs: number }
  /** From now on every event is a sample. */
  | { type: 'measure' }
  | { type: 'expect'; runIds: string[]; timeoutMs: number }
  | { type: 'close' };

export interface SubscriberResult {
  subscribers: number;
  samples: number;
  expectedSamples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Subscribers that did not see every measured run succeed before the deadline. */
  incomplete: number;
  errors: string[];
}

export type FromSubscribers =
  | { type: 'opened'; ms: number }
  | { type: 'probed'; seen: number; total: number }
  | { type: 'result'; result: SubscriberResult }
  | { type: 'failed'; message: string };

interface RunsEvent {
  eventId: string;
  runId: string;
  status: string;
}

interface Subscriber {
  succeeded: Set<string>;
}

const FEED = 'subscription BenchRuns { runs { eventId runId status } }';

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function send(message: FromSubscribers): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const clients: Client[] = [];
  const subscribers: Subscriber[] = [];
  const errors: string[] = [];
  let closing = false;
  let measuring = false;
  let samples: number[] = [];
  let expectedRuns = 0;
  // Re-checked on each event by whatever the parent is waiting for.
  let check: (() => void) | undefined;

  const noteError = (message: string) => {
    if (errors.length < 20) errors.push(message);
    check?.();
  };

  const waitFor = (done: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        check = undefined;
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      check = () => {
        if (done()) finish(true);
      };
      check();
    });

  async function open(message: Extract<ToSubscribers, { type: 'open' }>): Promise<void> {
    const start = performance.now();
    let connected = 0;
    for (let c = 0; c < message.clients; c++) {
      const client = createClient({
        url: message.url,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${message.token}` },
      });
      client.on('connected', () => {
        connected += 1;
        check?.();
      });
      client.on('closed', (event) => {
        if (!closing) noteError(`connection ${c} closed: ${(event as { code?: number }).code ?? '?'} ${(event as { reason?: string }).reason ?? ''}`);
      });
      clients.push(client);
      for (let s = 0; s < message.perClient; s++) {
        const subscriber: Subscriber = { succeeded: new Set() };
        subscribers.push(subscriber);
        client.subscribe<{ runs: RunsEvent }>(
          { query: FEED, operationName: 'BenchRuns' },
          {
            next: (value) => {
              const receivedAt = Date.now();
              const event = value.data?.runs;
              if (event == null) {
                noteError(`subscription error: ${JSON.stringify(value.errors ?? value)}`.slice(0, 300));
                return;
              }
              // Stream ids are `<ms>-<seq>`: the ms is when Redis appended the event.
              if (measuring) samples.push(receivedAt - Number(event.eventId.slice(0, event.eventId.indexOf('-'))));
              if (event.status === 'SUCCEEDED') {
                subscriber.succeeded.add(event.runId);
                check?.();
              }
            },
            error: (error) => noteError(`subscription ended with an error: ${error instanceof Error ? error.message : JSON.stringify(error)}`.slice(0, 300)),
            complete: () => {
              if (!closing) noteError('a subscription completed unexpectedly');
            },
          },
        );
      }
    }
    const ok = await waitFor(() => connected === message.clients || errors.length > 0, message.timeoutMs);
    if (!ok || errors.length > 0) {
      throw new Error(`only ${connected} of ${message.clients} connections were acknowledged${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`);
    }
    send({ type: 'opened', ms: performance.now() - start });
  }

  let closed: Promise<void> | undefined;
  const close = () => {
    closing = true;
    return (closed ??= Promise.all(clients.map((client) => client.dispose())).then(() => undefined));
  };

  process.on('message', (message: ToSubscribers) => {
    void (async () => {
      try {
        switch (message.type) {
          case 'open':
            await open(message);
            break;
          case 'probe': {
            const seen = () => subscribers.filter((s) => s.succeeded.has(message.runId)).length;
            await waitFor(() => seen() === subscribers.length || errors.length > 0, message.timeoutMs);
            if (errors.length > 0) throw new Error(errors.join('; '));
            send({ type: 'probed', seen: seen(), total: subscribers.length });
            break;
          }
          case 'measure':
            samples = [];
            measuring = true;
            break;
          case 'expect': {
            expectedRuns = message.runIds.length;
            const complete = (s: Subscriber) => message.runIds.every((id) => s.succeeded.has(id));
            await waitFor(() => subscribers.every(complete) || errors.length > 0, message.timeoutMs);
            measuring = false;
            const sorted = Float64Array.from(samples).sort();
            const sum = sorted.reduce((a, b) => a + b, 0);
            send({
              type: 'result',
              result: {
                subscribers: subscribers.length,
                samples: sorted.length,
                // The runs feed carries QUEUED, RUNNING and SUCCEEDED of each run.
                expectedSamples: 3 * expectedRuns * subscribers.length,
                p50Ms: percentile(sorted, 50),
                p90Ms: percentile(sorted, 90),
                p99Ms: percentile(sorted, 99),
                maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
                meanMs: sorted.length > 0 ? sum / sorted.length : Number.NaN,
                incomplete: subscribers.filter((s) => !complete(s)).length,
                errors,
              },
            });
            break;
          }
          case 'close':
            await close();
            process.disconnect?.();
            break;
        }
      } catch (error) {
        send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  process.on('disconnect', () => {
    void close().finally(() => process.exit(0));
  });
}

if (process.send !== undefined) void main();
