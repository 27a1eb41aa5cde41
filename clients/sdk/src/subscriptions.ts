import type { TadaDocumentNode } from 'gql.tada';
import { createClient, type Client } from 'graphql-ws';
import { TansuError, errorFromResponse, type GraphQLErrorEntry } from './errors.ts';
import { documentText } from './transport.ts';

/** What a subscription calls: each event's data, a final error, or the server's end of it. */
export interface SubscriptionHandlers<Result> {
  next(data: Result): void;
  error?(error: TansuError): void;
  complete?(): void;
}

export interface SubscribeOptions {
  /**
   * Resume after a dropped connection from the last event received (on by default): the
   * subscription is sent again with `after` set to that event's `eventId`, so nothing is
   * missed or repeated. The document must select `eventId` on its root field.
   */
  resume?: boolean;
}

// Close codes of the router: the token expired (or was refused), the caller may not, too many sockets.
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4429;
const CLOSE_TOO_BIG = 1009;

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' && 'reason' in value;

/** The event id a subscription's event carries on its one root field, when it selects one. */
function eventIdOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const root = Object.values(data)[0] as { eventId?: unknown } | undefined;
  return typeof root?.eventId === 'string' ? root.eventId : undefined;
}

/**
 * Subscriptions over one graphql-ws socket per client. A socket that drops (network, a
 * restarted router, an expired token) is opened again with a fresh token after a short,
 * growing delay, and each subscription resumes after its last event.
 */
export function createSubscriber(deps: {
  url: string;
  accessToken: (options?: { force?: boolean }) => Promise<string | undefined>;
  webSocketImpl?: unknown;
  /** The socket opened (true) or closed (false). */
  onSocket?: (open: boolean) => void;
}) {
  let socket: { send(data: string): void } | undefined;
  const client: Client = createClient({
    url: deps.url,
    lazy: true,
    // Reconnecting is ours: each subscription comes back with its own `after`.
    retryAttempts: 0,
    webSocketImpl: deps.webSocketImpl,
    connectionParams: async () => {
      const token = await deps.accessToken();
      return token === undefined ? {} : { authorization: `Bearer ${token}` };
    },
    on: {
      connected: (opened) => {
        socket = opened as { send(data: string): void };
        deps.onSocket?.(true);
      },
      closed: () => {
        socket = undefined;
        deps.onSocket?.(false);
      },
    },
  });

  function subscribe<Result, Variables>(
    document: TadaDocumentNode<Result, Variables>,
    variables: Variables,
    handlers: SubscriptionHandlers<Result>,
    options: SubscribeOptions = {},
  ): () => void {
    const resume = options.resume !== false;
    let after: string | undefined;
    let stopped = false;
    let failures = 0;
    let cancel: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const fail = (error: TansuError) => {
      stopped = true;
      handlers.error?.(error);
    };

    const attempt = () => {
      if (stopped) return;
      const vars = { ...(variables as Record<string, unknown>), ...(resume && after !== undefined ? { after } : {}) };
      cancel = client.subscribe<Result>(
        { query: documentText(document), variables: vars },
        {
          next: (result) => {
            if (result.errors !== undefined && result.errors.length > 0) return fail(errorFromResponse(result.errors as GraphQLErrorEntry[]));
            if (result.data === undefined || result.data === null) return;
            failures = 0;
            after = eventIdOf(result.data) ?? after;
            handlers.next(result.data);
          },
          error: (error: unknown) => {
            if (stopped) return;
            if (Array.isArray(error)) return fail(errorFromResponse(error as GraphQLErrorEntry[]));
            if (isCloseEvent(error)) {
              if (error.code === CLOSE_FORBIDDEN) return fail(new TansuError('FORBIDDEN', error.reason || 'The connection was refused'));
              if (error.code === CLOSE_TOO_MANY) return fail(new TansuError('RATE_LIMITED', error.reason || 'Too many connections'));
              if (error.code === CLOSE_TOO_BIG) return fail(new TansuError('PAYLOAD_TOO_LARGE', error.reason || 'The message was too large'));
              if (error.code === CLOSE_UNAUTHORIZED) {
                // An expired or refused token: refresh before trying again; a refused refresh ends it.
                void deps
                  .accessToken({ force: true })
                  .then((token) => (token === undefined ? fail(new TansuError('UNAUTHENTICATED', error.reason || 'Sign in again')) : retry()))
                  .catch((refreshError: unknown) => (refreshError instanceof TansuError ? retry() : fail(new TansuError('NETWORK', String(refreshError)))));
                return;
              }
            }
            retry();
          },
          complete: () => {
            if (stopped) return;
            stopped = true;
            handlers.complete?.();
          },
        },
      );
    };

    const retry = () => {
      if (stopped) return;
      failures += 1;
      const delayMs = Math.min(10_000, 250 * 2 ** Math.min(failures - 1, 6)) * (0.5 + Math.random() / 2);
      timer = setTimeout(attempt, delayMs);
    };

    attempt();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      cancel?.();
    };
  }

  return {
    subscribe,
    /** Hands the open socket a refreshed token, so the router does not close it at the old one's expiry. */
    renewToken(accessToken: string): void {
      socket?.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${accessToken}` } }));
    },
    dispose: () => client.dispose(),
  };
}
