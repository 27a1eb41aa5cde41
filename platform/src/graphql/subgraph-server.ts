import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse } from 'graphql';
import { CONTEXT_HEADER, type CallerContext, type ContextTokenCodec } from '../context-token.ts';
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
  logger: Logger;
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
}): Promise<SubgraphServer> {
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema([{ typeDefs: parse(options.typeDefs), resolvers: options.resolvers }]),
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
    const logger = options.logger.child({ requestId, tenantId: caller.tenantId, traceId: traceFrom(req.headers.traceparent).traceId });
    await executeGraphQLOverHttp(apollo, req, res, {
      maxBodyBytes: options.maxBodyBytes,
      context: async () => options.makeContext({ caller, requestId, logger }),
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

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    async close() {
      await closeServer(server);
      await apollo.stop();
    },
  };
}
