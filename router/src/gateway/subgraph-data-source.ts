import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { Pool } from 'undici';
import { CLIENT_HEADER, CONTEXT_HEADER } from '@tansu/platform/context-token';
import type { RouterContext } from '../router-context.ts';

interface FetchedResponse {
  status: number;
  /** The raw body: every waiter parses its own copy, since the gateway merges into it. */
  text: string;
  cacheControl: string | undefined;
}

/** Headers object with just what the gateway reads from a subgraph response. */
function responseHeaders(cacheControl: string | undefined) {
  return { get: (name: string) => (name.toLowerCase() === 'cache-control' ? (cacheControl ?? null) : null) };
}

/**
 * Subgraph calls over keep-alive undici pools, with the router's signed context attached.
 * Identical queries in flight at the same moment for the same caller identity share one
 * fetch: the key holds the URL, the body and the caller, never the request id. Mutations
 * are never shared.
 */
export class SubgraphDataSource implements GraphQLDataSource<RouterContext> {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly inFlight = new Map<string, Promise<FetchedResponse>>();

  constructor(options: { url: string; connections?: number }) {
    const url = new URL(options.url);
    // A subgraph that hangs must not hold a request (and its client) for undici's default 300 s.
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    this.path = `${url.pathname}${url.search}`;
  }

  async process(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    // Health checks and schema loading carry no caller; they get no context token.
    const context = 'context' in options ? (options.context as RouterContext | undefined) : undefined;
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (context?.contextToken !== undefined) headers[CONTEXT_HEADER] = context.contextToken;
    if (context !== undefined) {
      headers['x-request-id'] = context.requestId;
      headers.traceparent = context.traceparent;
      if (context.clientToken !== undefined) headers[CLIENT_HEADER] = context.clientToken;
    }
    const shareable = context !== undefined && request.query !== undefined && !request.query.startsWith('mutation');
    let fetched: FetchedResponse;
    if (shareable) {
      const key = `${context.shareKey}\n${body}`;
      let pending = this.inFlight.get(key);
      if (pending === undefined) {
        pending = this.fetch(headers, body).finally(() => this.inFlight.delete(key));
        this.inFlight.set(key, pending);
      }
      fetched = await pending;
    } else {
      fetched = await this.fetch(headers, body);
    }
    const parsed = JSON.parse(fetched.text) as Record<string, unknown>;
    return { ...parsed, http: { status: fetched.status, headers: responseHeaders(fetched.cacheControl) } } as unknown as GatewayGraphQLResponse;
  }

  private async fetch(headers: Record<string, string>, body: string): Promise<FetchedResponse> {
    const response = await this.pool.request({ path: this.path, method: 'POST', headers, body });
    const text = await response.body.text();
    const contentType = String(response.headers['content-type'] ?? '');
    let parsed: unknown;
    if (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const isGraphQLBody = typeof parsed === 'object' && parsed !== null && ('data' in parsed || 'errors' in parsed);
    if (!isGraphQLBody) {
      const code = response.statusCode === 401 ? 'UNAUTHENTICATED' : response.statusCode === 403 ? 'FORBIDDEN' : 'INTERNAL';
      throw new GraphQLError(`Subgraph answered ${response.statusCode}`, { extensions: { code } });
    }
    const cacheControl = response.headers['cache-control'];
    return { status: response.statusCode, text, cacheControl: typeof cacheControl === 'string' ? cacheControl : undefined };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
