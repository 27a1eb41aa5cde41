import WebSocket from 'ws';
import { internalErrors, recordInternalAnswer } from './request-guard.ts';
import { createClient } from './ws-client.ts';

/** One operation as a client sends it, over either transport. */
export interface Operation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
}

export interface CallOptions {
  /** The whole Authorization value, or a token (sent as `Bearer …`). */
  authorization?: string;
  token?: string;
  /** Sent on the HTTP request, and on the WebSocket's upgrade request. */
  headers?: Record<string, string>;
}

/** What a client saw: the first error's code and message, or the data. */
export interface Outcome {
  code: string | undefined;
  message: string | undefined;
  data?: unknown;
  /** HTTP status, or the WebSocket's close code when the socket was closed. */
  status?: number;
  closeCode?: number;
}

/** Close codes the router uses, read back as the error code HTTP gives for the same refusal. */
const CODE_OF_CLOSE: Record<number, string> = {
  4400: 'BAD_USER_INPUT',
  4401: 'UNAUTHENTICATED',
  4403: 'FORBIDDEN',
  4429: 'RATE_LIMITED',
  4500: 'INTERNAL',
  1009: 'PAYLOAD_TOO_LARGE',
};

const authorizationOf = (options: CallOptions) => options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`);

function outcomeOf(body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | undefined): Outcome {
  const error = body?.errors?.[0];
  return { code: error?.extensions?.code as string | undefined, message: error?.message, data: body?.data };
}

export async function overHttp(url: string, operation: Operation, options: CallOptions = {}): Promise<Outcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const authorization = authorizationOf(options);
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(operation) });
  const text = await response.text();
  let body: Parameters<typeof outcomeOf>[0];
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { code: undefined, message: text.slice(0, 200), status: response.status };
  }
  const internal = internalErrors(body?.errors);
  if (internal.length > 0) recordInternalAnswer(`over HTTP: ${operation.query.slice(0, 80)}`, internal);
  return { ...outcomeOf(body), status: response.status };
}

/**
 * Runs one operation on a fresh graphql-ws connection and reports its first answer: a result,
 * an error message for the operation, or the close of the socket.
 */
export function overWebSocket(url: string, operation: Operation, options: CallOptions = {}): Promise<Outcome> {
  const headers = options.headers ?? {};
  // The upgrade request carries the headers (X-Forwarded-For, x-tenant-id) as a browser's would carry cookies.
  class WithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const authorization = authorizationOf(options);
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WithHeaders,
    retryAttempts: 0,
    lazy: true,
    connectionParams: authorization === undefined ? {} : { authorization },
  });
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      void client.dispose();
      resolve(outcome);
    };
    client.subscribe(operation as { query: string }, {
      next: (value) => settle(outcomeOf(value as Parameters<typeof outcomeOf>[0])),
      error: (error) => {
        if (Array.isArray(error)) return settle(outcomeOf({ errors: error as { message: string; extensions?: Record<string, unknown> }[] }));
        // The socket closed: its close code says why.
        const close = error as { code?: unknown; reason?: unknown };
        if (typeof close.code === 'number')
          return settle({ code: CODE_OF_CLOSE[close.code] ?? `CLOSED_${close.code}`, message: String(close.reason ?? ''), closeCode: close.code });
        settle({ code: 'TRANSPORT', message: String(error) });
      },
      complete: () => settle({ code: undefined, message: undefined }),
    });
  });
}

export const TRANSPORTS = { http: overHttp, ws: overWebSocket } as const;
