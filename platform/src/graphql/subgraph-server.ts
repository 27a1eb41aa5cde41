import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CLIENT_HEADER, CONTEXT_HEADER, type CallerContext, type ClientInfo, type ContextTokenCodec } from '../context-token.ts';
import { TansuError, errors } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { sendGraphQLError, sendJson } from '../http/respond.ts';
import { executeGraphQLOverHttp } from '../http/graphql-http.ts';
import { createErrorFormatter, errorReportingPlugin } from './format-error.ts';
import { closeServer, listen } from '../http/listen.ts';
import { traceFrom } from '../trace-context.ts';

export interface SubgraphContext {
  caller: CallerContext;
  requestId: string;
  /** W3C trace context to hand on (same trace as the router's request), for work this request starts. */
  traceparent?: string;
  logger: Logger;
  /** The end user's address and agent, as the router saw them (for rate limits and audit). */
  client: ClientInfo;
}

export type { ClientInfo };

/** The client as the router signed it; unknown when the router sent none. */
function clientInfoOf(req: IncomingMessage, codec: ContextTokenCodec): ClientInfo {
  const header = req.headers[CLIENT_HEADER];
  const client = codec.verifyClient(typeof header === 'string' ? header : undefined);
  return { ip: client?.ip?.slice(0, 64), userAgent: client?.userAgent?.slice(0, 512) };
}

/** Extra HTTP routes a subgraph serves beside /graphql; returns false when not its route. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface SubgraphServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A federated subgraph on node:http. Every GraphQL request must carry the router's signed
 * context; without it the subgraph answers 401 before any resolver runs.
 */
export async function createSubgraphServer<TContext extends SubgraphContext>(options: {
  name: string;
  typeDefs: string;
  // biome-ignore lint: resolver maps are loosely typed by Apollo
  resolvers: GraphQLResolverMap<any>;
  codec: ContextTokenCodec;
  logger: Logger;
  maxBodyBytes: number;
  makeContext: (base: SubgraphContext) => TContext;
  routes?: RouteHandler[];
  ready?: () => Promise<boolean>;
  /** Serve the schema's subscriptions over graphql-ws on /graphql. */
  subscriptions?: boolean;
}): Promise<SubgraphServer> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(options.typeDefs), resolvers: options.resolvers }]);
  const apollo = new ApolloServer<TContext>({
    // Apollo's own notices go through our log, never straight to the console.
    logger: options.logger.child({ component: 'apollo' }),
    // Our lifecycle stops the process on a signal, in order; Apollo's own handler would re-raise it.
    stopOnTerminationSignals: false,
    schema,
    formatError: createErrorFormatter({ trustUpstream: false }),
    plugins: [errorReportingPlugin<TContext>(), ApolloServerPluginInlineTraceDisabled()],
    includeStacktraceInErrorResponses: false,
    introspection: true,
    csrfPrevention: true,
  });
  await apollo.start();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return sendJson(res, 200, { status: 'ok', service: options.name });
    if (path === '/ready') {
      const ok = options.ready === undefined ? true : await options.ready().catch(() => false);
      return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', service: options.name });
    }
    for (const route of options.routes ?? []) if (await route(req, res)) return;
    if (path !== '/graphql' && path !== '/') return sendJson(res, 404, { error: 'not found' });
    const requestIdHeader = req.headers['x-request-id'];
    const requestId = typeof requestIdHeader === 'string' && requestIdHeader.length <= 100 ? requestIdHeader : randomUUID();
    const contextHeader = req.headers[CONTEXT_HEADER];
    const caller = options.codec.verify(typeof contextHeader === 'string' ? contextHeader : undefined);
    const trace = traceFrom(req.headers.traceparent);
    const logger = options.logger.child({ requestId, tenantId: caller.tenantId, traceId: trace.traceId });
    await executeGraphQLOverHttp(apollo, req, res, {
      maxBodyBytes: options.maxBodyBytes,
      context: async () => options.makeContext({ caller, requestId, traceparent: trace.traceparent, logger, client: clientInfoOf(req, options.codec) }),
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof TansuError && error.expose) return sendGraphQLError(res, error);
      options.logger.error({ err: error }, 'subgraph request failed');
      sendGraphQLError(res, errors.internal(error));
    });
  });
  server.keepAliveTimeout = 65_000;
  const stopSubscriptions = options.subscriptions === true ? serveSubscriptions(server, schema, options) : undefined;

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    async close() {
      await stopSubscriptions?.();
      await closeServer(server);
      await apollo.stop();
    },
  };
}

/**
 * graphql-ws on the subgraph's /graphql. The router opens these connections, one per client
 * subscription, with its signed context in the connection parameters; anything else is
 * refused (4403) before a subscription can start.
 */
function serveSubscriptions<TContext extends SubgraphContext>(
  server: Server,
  schema: GraphQLSchema,
  options: { codec: ContextTokenCodec; logger: Logger; makeContext: (base: SubgraphContext) => TContext },
): () => Promise<void> {
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const callers = new WeakMap<object, CallerContext>();
  const disposable = useServer(
    {
      schema,
      onConnect: (ctx) => {
        const token = ctx.connectionParams?.[CONTEXT_HEADER];
        try {
          callers.set(ctx.extra.socket, options.codec.verify(typeof token === 'string' ? token : undefined));
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx, id) => {
        const caller = callers.get(ctx.extra.socket) ?? { roles: [], scopes: [] };
        const requestId = typeof ctx.connectionParams?.requestId === 'string' ? ctx.connectionParams.requestId : id;
        return options.makeContext({
          caller,
          requestId,
          logger: options.logger.child({ requestId, tenantId: caller.tenantId }),
          client: clientInfoOf(ctx.extra.request, options.codec),
        });
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (result.errors === undefined) return;
        const format = createErrorFormatter({ trustUpstream: false });
        return { ...result, errors: result.errors.map((error) => format(error.toJSON(), error)) };
      },
    },
    wss,
  );
  return async () => {
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
