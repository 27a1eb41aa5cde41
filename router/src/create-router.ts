import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { ContextTokenCodec } from '@tansu/platform/context-token';
import type { Limits } from '@tansu/platform/config';
import { TansuError, errors } from '@tansu/platform/errors';
import type { Logger } from '@tansu/platform/logger';
import { createErrorFormatter, errorReportingPlugin } from '@tansu/platform/graphql/format-error';
import { executeGraphQLOverHttp } from '@tansu/platform/http/graphql-http';
import { sendGraphQLError, sendJson } from '@tansu/platform/http/respond';
import type { TenantStatusWatcher } from '@tansu/tenant-core/contracts/tenant-status';
import type { RequestQuota } from '@tansu/tenant-core/contracts/request-quota';
import type { SessionRevocations } from '@tansu/tenant-core/contracts/session-revocations';
import type { RateLimiter } from '@tansu/platform/rate-limit';
import { createAdmission, type AdmissionStep } from './admission/admission.ts';
import { useAnonymousLimit, useAuthentication, useRequestQuota, useSessionRevocation, useTenantHeader, useTenantStatus } from './admission/steps.ts';
import { useOperationRules } from './operations/use-operation-rules.ts';
import { useLocalIntrospection } from './operations/use-local-introspection.ts';
import { useExpansionGuard } from './limits/use-expansion-guard.ts';
import { clientAddress } from './http/client-address.ts';
import type { UsageRecorder } from './usage/usage-recorder.ts';
import type { PersistedDocuments } from './http/persisted-documents.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { createPublicOperationCheck, usePublicOperations } from './auth/public-operations.ts';
import { SubgraphDataSource } from './gateway/subgraph-data-source.ts';
import { createCors } from './http/cors.ts';
import { createIdentityProxy } from './http/identity-proxy.ts';
import { operationLimitsRule } from './limits/operation-limits.ts';
import { useVariableCostLimit } from './limits/use-variable-cost-limit.ts';
import { createRouterMetrics } from './observability/metrics.ts';
import { createConsoleFiles } from './console/console-files.ts';
import { createPlayground } from './playground/playground.ts';
import { createFederatedSubscriptions } from './subscriptions/federated-subscriptions.ts';
import { serveGraphQLOverWebSocket } from './subscriptions/graphql-ws-server.ts';
import { createRouterContext, type RouterContext } from './router-context.ts';
import { closeServer, listen } from '@tansu/platform/http/listen';

export interface RouterOptions {
  supergraphSdl: string;
  /** Subgraph URLs by subgraph name, replacing those written in the supergraph. */
  subgraphUrls?: Record<string, string>;
  /** Without an authenticator every caller is anonymous and unrestricted (standalone `--no-auth`). */
  authenticator: Authenticator | undefined;
  /** Signs the forwarded context; without it subgraphs receive none. */
  codec: ContextTokenCodec | undefined;
  limits: Limits;
  playground: boolean;
  /** Browser origins allowed to call the endpoint (`*` for any); none when empty. */
  corsOrigins?: readonly string[];
  identityUrl?: string;
  /** The public base URL; the identity proxy tells the issuer it (clients' X-Forwarded-* are dropped). */
  publicUrl?: string;
  /** Suspended and deleted tenants; their tokens are refused. */
  tenantStatus?: TenantStatusWatcher;
  /** Each tenant's requests per minute under its plan; without it requests are not counted. */
  requestQuota?: RequestQuota;
  /** Registered operations, served by id (and, in persisted-only mode, the only ones that run). */
  persistedDocuments?: PersistedDocuments;
  /** Records which schema coordinates operations use, for usage-aware schema checks. */
  usage?: UsageRecorder;
  /** Proxies in front that append to X-Forwarded-For (0: the socket's address is the client's). */
  trustedProxyHops?: number;
  /** Users whose earlier tokens were ended (disabled, password reset, roles changed). */
  sessionRevocations?: SessionRevocations;
  /** Requests without a token per client address and minute (all routers together). */
  anonymousLimit?: { limiter: RateLimiter; perMinute: number };
  readinessChecks?: Record<string, () => Promise<boolean>>;
  /** The web console's built files, served at /console. */
  consoleDir?: string;
  logger: Logger;
}

export interface Router {
  readonly server: Server;
  /**
   * Switches to a newly published supergraph: requests already running finish on the one they
   * started with, open subscriptions keep their plans, new ones use the new supergraph.
   */
  updateSupergraph(supergraphSdl: string): void;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

const TENANT_HEADER = 'x-tenant-id';

/** The admission pipeline both transports run, with the steps this router's options ask for. */
function admissionFor(options: RouterOptions) {
  const steps: AdmissionStep[] = [useTenantHeader()];
  if (options.tenantStatus !== undefined) steps.push(useTenantStatus(options.tenantStatus));
  if (options.sessionRevocations !== undefined) steps.push(useSessionRevocation(options.sessionRevocations));
  // Counting steps last: a refused request spends nothing.
  if (options.anonymousLimit !== undefined && options.authenticator !== undefined)
    steps.push(useAnonymousLimit(options.anonymousLimit.limiter, options.anonymousLimit.perMinute));
  if (options.requestQuota !== undefined) steps.push(useRequestQuota(options.requestQuota));
  return createAdmission({ authenticate: useAuthentication(options.authenticator), steps });
}

/** The one endpoint: authentication, tenant context, limits, and the federated gateway. */
export async function createRouter(options: RouterOptions): Promise<Router> {
  const { logger, limits } = options;
  const dataSources = new Map<string, SubgraphDataSource>();
  const subgraphUrls = new Map<string, string>();
  let pushSupergraph: ((sdl: string) => void) | undefined;
  // Apollo's own notices go through our log, at their own levels, never straight to the console.
  const apolloLogger = logger.child({ component: 'apollo' });
  const gateway = new ApolloGateway({
    logger: apolloLogger,
    // The hook form lets a published supergraph replace this one while the router runs.
    supergraphSdl: async ({ update }) => {
      pushSupergraph = update;
      return { supergraphSdl: options.supergraphSdl };
    },
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls?.[name] ?? url ?? '';
      const source = new SubgraphDataSource({ url: target });
      // A published supergraph may move a subgraph: the old pool drains once requests using it are done.
      const replaced = dataSources.get(name);
      if (replaced !== undefined) setTimeout(() => void replaced.close().catch(() => undefined), 60_000).unref();
      dataSources.set(name, source);
      subgraphUrls.set(name, target);
      return source;
    },
  });
  const admission = admissionFor(options);
  const plugins = [
    errorReportingPlugin<RouterContext>(),
    ApolloServerPluginLandingPageDisabled(),
    useExpansionGuard<RouterContext>(),
    useOperationRules<RouterContext>(),
    useVariableCostLimit<RouterContext>(limits.maxCost),
    useLocalIntrospection<RouterContext>(),
  ];
  // Anonymous callers reach only the public operations (unless authentication is off altogether).
  const publicCheck = options.authenticator === undefined ? undefined : createPublicOperationCheck({ allowIntrospection: options.playground });
  if (options.authenticator !== undefined) plugins.push(usePublicOperations({ allowIntrospection: options.playground }));
  if (options.usage !== undefined) plugins.push(options.usage.plugin);
  const apollo = new ApolloServer<RouterContext>({
    logger: apolloLogger,
    // Our lifecycle stops the process on a signal, in order; Apollo's own handler would re-raise it.
    stopOnTerminationSignals: false,
    gateway,
    formatError: createErrorFormatter({ trustUpstream: true }),
    plugins,
    validationRules: [operationLimitsRule(limits)],
    // The parser gives up on absurd documents before any rule has to walk them.
    parseOptions: { maxTokens: 20_000 },
    introspection: options.playground,
    // Without introspection, "Did you mean …" would still spell out the schema.
    hideSchemaDetailsFromClientErrors: !options.playground,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // Operations are registered through the schema registry, never on the fly by whoever calls.
    persistedQueries: false,
  });
  await apollo.start();

  const codec = options.codec;
  const subscriptionsFor = (supergraphSdl: string) =>
    createFederatedSubscriptions({
      supergraphSdl,
      dataSources: () => Object.fromEntries(dataSources),
      // A subgraph serves subscriptions over graphql-ws at its GraphQL URL.
      subgraphWsUrls: Object.fromEntries([...subgraphUrls].map(([name, url]) => [name, url.replace(/^http/, 'ws')])),
      signContext: codec === undefined ? undefined : (caller) => codec.sign(caller),
    });
  let subscriptions = subscriptionsFor(options.supergraphSdl);
  // Subscriptions follow the gateway: once it has loaded a new supergraph, new subscriptions plan against it.
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    if (coreSupergraphSdl === undefined) return;
    try {
      subscriptions = subscriptionsFor(coreSupergraphSdl);
    } catch (error) {
      logger.error({ err: error }, 'subscriptions could not follow the new supergraph');
    }
  });
  const metrics = createRouterMetrics();
  const cors = createCors(options.corsOrigins ?? []);
  const consoleFiles = options.consoleDir === undefined ? undefined : createConsoleFiles({ dir: options.consoleDir });
  const playground = options.playground ? createPlayground({ endpoint: '/graphql', assetsPath: '/graphql/assets' }) : undefined;
  const identityProxy =
    options.identityUrl === undefined
      ? undefined
      : createIdentityProxy({
          identityUrl: options.identityUrl,
          maxBodyBytes: limits.maxBodyBytes,
          publicUrl: options.publicUrl,
          trustedProxyHops: options.trustedProxyHops,
          codec: options.codec,
        });

  async function ready(): Promise<Record<string, boolean>> {
    const checks = Object.entries(options.readinessChecks ?? {});
    const results = await Promise.all(checks.map(async ([name, check]) => [name, await check().catch(() => false)] as const));
    return { supergraph: true, ...Object.fromEntries(results) };
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    for (const name of Object.keys(req.headers)) if (name.startsWith('x-tansu-')) delete req.headers[name];
    const clientIp = clientAddress(req, options.trustedProxyHops ?? 0);
    const userAgent = req.headers['user-agent'];
    const tenantHeader = req.headers[TENANT_HEADER];
    const admitted = await admission.admit({
      transport: 'http',
      counted: true,
      authorization: req.headersDistinct.authorization ?? [],
      tenantHeader: typeof tenantHeader === 'string' ? tenantHeader : undefined,
      clientIp,
      userAgent,
    });
    const traceparent = req.headers.traceparent;
    const context = createRouterContext(
      admitted,
      { requestId, traceparent: typeof traceparent === 'string' ? traceparent : undefined, clientIp, userAgent },
      { codec: options.codec, logger },
    );
    await executeGraphQLOverHttp(apollo, req, res, {
      maxBodyBytes: limits.maxBodyBytes,
      context: async () => context,
      prepareBody: options.persistedDocuments?.prepare,
      prepareSearch: options.persistedDocuments?.checkSearch,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<string> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (cors(req, res)) return 'preflight';
    if (path === '/graphql') {
      if (playground?.handle(req, res)) return 'playground';
      await handleGraphQL(req, res, requestId);
      return 'graphql';
    }
    if (playground !== undefined && path.startsWith('/graphql/assets/') && playground.handle(req, res)) return 'playground';
    if (path === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return 'health';
    }
    if (path === '/ready') {
      const checks = await ready();
      const ok = Object.values(checks).every(Boolean);
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
      return 'ready';
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return 'metrics';
    }
    if (consoleFiles !== undefined && (path === '/console' || path.startsWith('/console/'))) {
      await consoleFiles.handle(req, res, path);
      return 'console';
    }
    if (identityProxy !== undefined && path.startsWith('/identity/')) {
      await identityProxy.handle(req, res);
      return 'identity';
    }
    sendJson(res, 404, { error: 'not found' });
    return 'not_found';
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    handle(req, res, requestId)
      .then((route) => metrics.observe(route, res.statusCode, (performance.now() - started) / 1000))
      .catch((error: unknown) => {
        metrics.observe('error', error instanceof TansuError ? error.status : 500, (performance.now() - started) / 1000);
        if (res.headersSent) return void res.destroy();
        if (error instanceof TansuError && error.expose) return sendGraphQLError(res, error, requestId);
        logger.error({ err: error, requestId }, 'router request failed');
        sendGraphQLError(res, errors.internal(error), requestId);
      });
  });
  server.keepAliveTimeout = 65_000;
  const stopWebSockets = serveGraphQLOverWebSocket({
    server,
    apollo,
    get schema() {
      return subscriptions.apiSchema;
    },
    get subscriptions() {
      return subscriptions;
    },
    admission,
    checkPublic: publicCheck,
    codec: options.codec,
    tenantStatus: options.tenantStatus,
    sessionRevocations: options.sessionRevocations,
    usage: options.usage,
    persistedDocuments: options.persistedDocuments,
    schemaDetailsInErrors: options.playground,
    trustedProxyHops: options.trustedProxyHops ?? 0,
    limits,
    logger,
  });

  return {
    server,
    updateSupergraph(supergraphSdl) {
      if (pushSupergraph === undefined) throw new Error('the gateway has not started');
      pushSupergraph(supergraphSdl);
    },
    listen: (port, host) => listen(server, port, host),
    async close() {
      await stopWebSockets();
      await closeServer(server);
      await apollo.stop();
      await Promise.all([...dataSources.values()].map((s) => s.close()));
      await identityProxy?.close();
    },
  };
}
