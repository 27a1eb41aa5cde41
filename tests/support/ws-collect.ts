import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createClient } from './ws-client.ts';

/** A graphql-ws client of the router's /graphql, signed in with `token` (anonymous without one). */
export function routerWsClient(graphqlUrl: string, token: string | undefined, connectionParams: Record<string, string> = {}): Client {
  return createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: token === undefined ? connectionParams : { ...connectionParams, authorization: `Bearer ${token}` },
  });
}

export interface Collected<T> {
  events: T[];
  /** GraphQL errors the subscription answered with, or the socket's close event. */
  errors: unknown[];
  done: Promise<void>;
}

/** Collects the events of one subscription until `until` says stop, it ends, or `ms` pass. */
export function collect<T>(c: Client, query: string, variables: Record<string, unknown>, until: (events: T[]) => boolean, ms = 15_000): Collected<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const unsubscribe = c.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors !== undefined) errors.push(...value.errors);
          const payload = value.data === null || value.data === undefined ? undefined : Object.values(value.data)[0];
          if (payload !== undefined) events.push(payload);
          if (until(events)) {
            clearTimeout(timer);
            unsubscribe();
            resolve();
          }
        },
        error: (error) => {
          if (Array.isArray(error)) errors.push(...(error as unknown[]));
          else errors.push(error);
          clearTimeout(timer);
          resolve();
        },
        complete: () => {
          clearTimeout(timer);
          resolve();
        },
      },
    );
  });
  return { events, errors, done };
}
