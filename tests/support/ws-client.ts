import { createClient as createGraphQLWsClient, type Client, type ClientOptions } from 'graphql-ws';
import { internalErrors, recordInternalAnswer } from './request-guard.ts';

/** graphql-ws closes with this when the server failed, not the client. */
const INTERNAL_CLOSE_CODES = new Set([1011, 4500]);

/**
 * graphql-ws's client that reports to the request guard every INTERNAL answer (in a `next` or
 * `error` message) and every close for a server fault, unless the test passes `expectInternal`.
 */
export function createClient(options: ClientOptions & { expectInternal?: boolean }): Client {
  const { expectInternal, ...clientOptions } = options;
  if (expectInternal === true) return createGraphQLWsClient(clientOptions);
  const on = clientOptions.on ?? {};
  return createGraphQLWsClient({
    ...clientOptions,
    on: {
      ...on,
      message: (message) => {
        // `error` messages carry a list of errors, `next` messages an execution result.
        const payload: unknown = 'payload' in message ? message.payload : undefined;
        const errors = Array.isArray(payload) ? payload : (payload as { errors?: [] } | undefined)?.errors;
        const internal = internalErrors(errors);
        if (internal.length > 0) recordInternalAnswer(`over WebSocket (${message.type})`, internal);
        on.message?.(message);
      },
      closed: (event) => {
        const code = (event as { code?: number } | undefined)?.code;
        if (code !== undefined && INTERNAL_CLOSE_CODES.has(code))
          recordInternalAnswer('over WebSocket', [{ message: `socket closed with ${code}: ${String((event as { reason?: string }).reason)}` }]);
        on.closed?.(event);
      },
    },
  });
}
