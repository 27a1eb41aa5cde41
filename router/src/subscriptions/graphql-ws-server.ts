import type { Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import { decodeJwt } from 'jose';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CallerContext, ContextTokenCodec } from '@tansu/platform/context-token';
import { TansuError, errors, type ErrorCode } from '@tansu/platform/errors';
import type { Limits } from '@tansu/platform/config';
import { createErrorFormatter } from '@tansu/platform/graphql/format-error';
import type { Logger } from '@tansu/platform/logger';
import type { TenantStatusWatcher } from '@tansu/tenant-core/contracts/tenant-status';
import type { SessionRevocations } from '@tansu/tenant-core/contracts/session-revocations';
import type { Admission, AdmissionRequest } from '../admission/admission.ts';
import { clientAddress } from '../http/client-address.ts';
import type { PersistedDocuments } from '../http/persisted-documents.ts';
import { costWithVariables, operationLimitsRule } from '../limits/operation-limits.ts';
import { selectOperation } from '../operations/select-operation.ts';
import { createRouterContext, type RouterContext } from '../router-context.ts';
import type { UsageRecorder } from '../usage/usage-recorder.ts';
import { deliverToSocket } from './deliver-to-socket.ts';
import type { FederatedSubscriptions } from './federated-subscriptions.ts';
import { createNextFrames } from './next-frames.ts';
import type { SocketWriter } from './socket-writer.ts';
import { serveGraphQLWs } from './ws-transport.ts';

/** Close codes of the graphql-ws protocol family, by the error that closed the socket. */
export const CLOSE_BAD_REQUEST = 4400;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_TOO_MANY = 4429;
export const CLOSE_INTERNAL = 4500;
const MAX_TIMER_MS = 2_147_483_647;
/** Contexts signed for operations on a socket outlive one HTTP request's: a subscription's upstream connects with it. */
const SOCKET_CONTEXT_TTL_SECONDS = 300;
const MAX_PARSE_TOKENS = 20_000;

interface Connection {
  socket: WebSocket;
  /** The credential the socket authenticates with now (a ping may replace it with a fresh token). */
  authorization: string | undefined;
  caller: CallerContext;
  /** Sockets are counted per user, or per address without a token. */
  holder: string;
  tenantHeader: string | undefined;
  clientIp: string | undefined;
  userAgent: string | undefined;
  /** The trace the client's upgrade request belonged to, continued by its operations. */
  traceparent: string | undefined;
  expiry: NodeJS.Timeout | undefined;
}

/** What onSubscribe hands to execute/subscribe: the admitted context, the text Apollo re-reads, and where a subscription's events go. */
interface OperationContext {
  context: RouterContext;
  query: string;
  id: string;
  writer: SocketWriter;
}

function bearerOf(params: Record<string, unknown> | undefined, header: string | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? header;
  if (typeof value !== 'string' || value === '') return undefined;
  return /^bearer /i.test(value) ? value : `Bearer ${value}`;
}

function closeCodeOf(code: ErrorCode): number {
  if (code === 'UNAUTHENTICATED') return CLOSE_UNAUTHORIZED;
  if (code === 'FORBIDDEN') return CLOSE_FORBIDDEN;
  if (code === 'RATE_LIMITED' || code === 'QUOTA_EXCEEDED') return CLOSE_TOO_MANY;
  return code === 'INTERNAL' ? CLOSE_INTERNAL : CLOSE_BAD_REQUEST;
}

/** Close reasons are limited to 123 bytes by the protocol. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123
    ? message
    : `${Buffer.from(message)
        .subarray(0, 119)
        .toString('utf8')
        .replace(/\uFFFD$/, '')}...`;
}

/** "Did you mean …" lists schema names: dropped where the schema is not public. */
function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}

/**
 * GraphQL over WebSocket (graphql-ws) on the router's /graphql, admitted exactly as HTTP
 * is: the socket's `connection_init` runs the admission pipeline (payload
 * `{ authorization: "Bearer …" }`, or none for the public operations), and so does every
 * operation on it, so a revoked session, a suspended tenant, a spent quota or an address
 * over its limit is refused here as it is over HTTP. A token that expires closes the socket
 * (4401) unless the client sent a fresh one first in a ping (`{ authorization }`) for the
 * same tenant and user; ending a user's sessions closes their sockets at once.
 * Subscriptions run through the federated planner; queries and mutations through Apollo.
 */
export function serveGraphQLOverWebSocket(deps: {
  server: Server;
  apollo: ApolloServer<RouterContext>;
  schema: GraphQLSchema;
  subscriptions: FederatedSubscriptions;
  admission: Admission;
  /** Whether anonymous callers may subscribe to this root field (the public-operation allow-list). */
  checkPublic: ((operation: OperationDefinitionNode, document: DocumentNode) => void) | undefined;
  codec: ContextTokenCodec | undefined;
  tenantStatus?: TenantStatusWatcher;
  sessionRevocations?: SessionRevocations;
  usage?: UsageRecorder;
  persistedDocuments?: PersistedDocuments;
  /** Whether error messages may name schema elements the client did not write ("Did you mean …"). */
  schemaDetailsInErrors: boolean;
  trustedProxyHops: number;
  limits: Limits;
  logger: Logger;
}): () => Promise<void> {
  const wss = new WebSocketServer({ server: deps.server, path: '/graphql', maxPayload: deps.limits.maxBodyBytes });
  const connections = new WeakMap<WebSocket, Connection>();
  /** Open sockets by holder (user or address) and by tenant, so a revocation or suspension can close them at once. */
  const byHolder = new Map<string, Set<Connection>>();
  const byTenant = new Map<string, Set<Connection>>();
  const add = (index: Map<string, Set<Connection>>, key: string, connection: Connection) => {
    const open = index.get(key) ?? new Set<Connection>();
    open.add(connection);
    index.set(key, open);
  };
  const remove = (index: Map<string, Set<Connection>>, key: string, connection: Connection) => {
    const open = index.get(key);
    open?.delete(connection);
    if (open?.size === 0) index.delete(key);
  };
  deps.tenantStatus?.onBlocked((tenantId) => {
    for (const connection of byTenant.get(tenantId) ?? []) connection.socket.close(CLOSE_FORBIDDEN, 'Tenant suspended');
  });
  deps.sessionRevocations?.onRevoked((tenantId, userId) => {
    for (const connection of byHolder.get(`${tenantId}:${userId}`) ?? []) {
      const revocation = deps.sessionRevocations?.revocationOf(connection.caller);
      if (revocation === undefined) continue;
      connection.socket.close(
        CLOSE_UNAUTHORIZED,
        revocation.reason === 'roles' ? 'Roles changed: refresh the token and reconnect' : 'Session ended: sign in again',
      );
    }
  });
  const formatError = createErrorFormatter({ trustUpstream: true });
  // Ours first: it refuses a document whose fragments explode before graphql-js's rules walk them.
  const rules = [operationLimitsRule(deps.limits), ...specifiedRules];
  /** Validation results per schema and document text, as Apollo keeps them for HTTP. */
  let validated = new WeakMap<GraphQLSchema, Map<string, readonly GraphQLError[]>>();

  function validateSubscription(schema: GraphQLSchema, query: string, document: DocumentNode): readonly GraphQLError[] {
    let cache = validated.get(schema);
    if (cache === undefined) validated.set(schema, (cache = new Map()));
    let result = cache.get(query);
    if (result === undefined) {
      result = validate(schema, document, rules);
      if (cache.size >= 1_000) cache.delete(cache.keys().next().value!);
      cache.set(query, result);
    }
    return result;
  }

  /**
   * An error as the client sees it: catalogue codes kept, parse and validation errors (no code,
   * no cause: the client's document is what is wrong) BAD_USER_INPUT, anything else INTERNAL
   * and logged with its cause.
   */
  function present(error: GraphQLError): GraphQLFormattedError {
    const e =
      error.extensions.code === undefined && error.originalError == null && !(error instanceof TansuError)
        ? errors.badRequest(deps.schemaDetailsInErrors ? error.message : withoutSuggestions(error.message))
        : error;
    const formatted = formatError(e.toJSON(), e);
    if (formatted.extensions?.code === 'INTERNAL') deps.logger.error({ err: error.originalError ?? error }, 'WebSocket operation failed');
    return formatted;
  }

  /** What onSubscribe answers with: graphql-ws sends GraphQLErrors (formatted in onError). */
  function asErrors(error: unknown): GraphQLError[] {
    if (Array.isArray(error)) return error.flatMap(asErrors);
    if (error instanceof GraphQLError) return [error];
    return [new GraphQLError('Internal server error', { originalError: error instanceof Error ? error : new Error(String(error)) })];
  }

  function scheduleExpiry(connection: Connection): void {
    if (connection.expiry !== undefined) clearTimeout(connection.expiry);
    connection.expiry = undefined;
    if (connection.authorization === undefined) return;
    let exp: number | undefined;
    try {
      exp = decodeJwt(connection.authorization.replace(/^bearer +/i, '')).exp;
    } catch {
      return;
    }
    if (exp === undefined) return;
    connection.expiry = setTimeout(
      () => connection.socket.close(CLOSE_UNAUTHORIZED, 'Token expired'),
      Math.min(MAX_TIMER_MS, Math.max(0, exp * 1000 - Date.now())),
    );
    connection.expiry.unref();
  }

  function admissionRequest(connection: Pick<Connection, 'authorization' | 'tenantHeader' | 'clientIp' | 'userAgent'>, counted: boolean): AdmissionRequest {
    return {
      transport: 'ws',
      counted,
      authorization: connection.authorization === undefined ? [] : [connection.authorization],
      tenantHeader: connection.tenantHeader,
      clientIp: connection.clientIp,
      userAgent: connection.userAgent,
    };
  }

  /** A Next message's payload: Apollo's results are formatted already; an upstream subscription's errors are re-checked here. */
  function nextPayload(result: ExecutionResult): ExecutionResult | FormattedExecutionResult {
    if (result.errors === undefined) return result;
    return {
      ...result,
      errors: result.errors.map((error) => (error instanceof GraphQLError ? formatError(error.toJSON(), error) : (error as GraphQLFormattedError))),
    };
  }
  const nextFrames = createNextFrames(nextPayload);

  function refuseConnection(socket: WebSocket, error: unknown): false {
    const formatted = present(asErrors(error)[0]!);
    socket.close(closeCodeOf((formatted.extensions?.code as ErrorCode | undefined) ?? 'INTERNAL'), closeReason(formatted.message));
    return false;
  }

  const disposable = serveGraphQLWs(
    {
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const tenantHeader = ctx.connectionParams?.['x-tenant-id'] ?? request.headers['x-tenant-id'];
        const traceparent = request.headers.traceparent;
        const userAgent = request.headers['user-agent'];
        const pending = {
          authorization: bearerOf(ctx.connectionParams, request.headers.authorization),
          tenantHeader: typeof tenantHeader === 'string' ? tenantHeader : undefined,
          clientIp: clientAddress(request, deps.trustedProxyHops),
          userAgent: typeof userAgent === 'string' ? userAgent : undefined,
        };
        let caller: CallerContext;
        try {
          ({ caller } = await deps.admission.admit(admissionRequest(pending, false)));
        } catch (error) {
          return refuseConnection(socket, error);
        }
        const holder = caller.tenantId === undefined ? `address:${pending.clientIp ?? 'unknown'}` : `${caller.tenantId}:${caller.subject}`;
        if ((byHolder.get(holder)?.size ?? 0) >= deps.limits.maxSocketsPerUser) {
          return refuseConnection(socket, errors.rateLimited(`Too many open connections for this user (${deps.limits.maxSocketsPerUser}); close one first`));
        }
        const connection: Connection = {
          socket,
          caller,
          holder,
          ...pending,
          traceparent: typeof traceparent === 'string' ? traceparent : undefined,
          expiry: undefined,
        };
        connections.set(socket, connection);
        add(byHolder, holder, connection);
        if (caller.tenantId !== undefined) add(byTenant, caller.tenantId, connection);
        scheduleExpiry(connection);
        return true;
      },
      onPing: async (ctx, payload) => {
        const connection = connections.get(ctx.extra.socket);
        const authorization = bearerOf(payload, undefined);
        if (connection === undefined || authorization === undefined) return;
        try {
          const { caller } = await deps.admission.admit(admissionRequest({ ...connection, authorization }, false));
          if (caller.tenantId !== connection.caller.tenantId || caller.subject !== connection.caller.subject) {
            ctx.extra.socket.close(CLOSE_FORBIDDEN, 'A refreshed token must belong to the same user');
            return;
          }
          connection.authorization = authorization;
          connection.caller = caller;
          scheduleExpiry(connection);
        } catch (error) {
          refuseConnection(ctx.extra.socket, error);
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx.extra.socket);
        if (connection === undefined) return asErrors(errors.unauthenticated('Not connected'));
        // graphql-ws lists this operation among the socket's open ones already.
        if (Object.keys(ctx.subscriptions).length > deps.limits.maxSubscriptionsPerSocket) {
          return asErrors(errors.rateLimited(`Too many operations open on this connection (${deps.limits.maxSubscriptionsPerSocket}); complete one first`));
        }
        try {
          const admitted = await deps.admission.admit(admissionRequest(connection, true));
          const body = (deps.persistedDocuments?.prepare(payload) ?? payload) as { query?: unknown };
          const query = typeof body.query === 'string' ? body.query : '';
          if (query === '') throw errors.badRequest('Send an operation: a non-empty query, or the documentId of a registered one');
          const document = parse(query, { maxTokens: MAX_PARSE_TOKENS });
          const operation = selectOperation(document, payload.operationName);
          const context = createRouterContext(
            admitted,
            { requestId: randomUUID(), traceparent: connection.traceparent, clientIp: connection.clientIp, userAgent: connection.userAgent },
            { codec: deps.codec, logger: deps.logger, contextTtlSeconds: SOCKET_CONTEXT_TTL_SECONDS },
          );
          const variableValues = payload.variables ?? {};
          const contextValue: OperationContext = { context, query, id, writer: ctx.extra.writer };
          const args = { schema: deps.schema, document, operationName: operation.name?.value, variableValues, contextValue };
          // Queries and mutations go through Apollo, which validates, counts and guards them as for HTTP.
          if (operation.operation !== 'subscription') return args;
          if (admitted.caller.tenantId === undefined) deps.checkPublic?.(operation, document);
          const invalid = validateSubscription(deps.schema, query, document);
          if (invalid.length > 0) return asErrors(invalid);
          if ((operation.variableDefinitions?.length ?? 0) > 0) {
            const cost = costWithVariables(deps.schema, document, operation, variableValues);
            if (cost > deps.limits.maxCost)
              throw new TansuError('BAD_USER_INPUT', `Query cost ${cost} exceeds the budget of ${deps.limits.maxCost}`, { extensions: { limit: 'cost' } });
          }
          deps.usage?.record(deps.schema, createHash('sha256').update(query).digest('hex'), document, operation.name?.value);
          return args;
        } catch (error) {
          return asErrors(error);
        }
      },
      subscribe: (args) => {
        const { context, id, writer } = args.contextValue as OperationContext;
        const request = {
          document: args.document,
          operationName: args.operationName ?? undefined,
          variables: args.variableValues as Record<string, unknown>,
          context,
          connection: writer,
        };
        return deliverToSocket((consumer) => deps.subscriptions.subscribe(request, consumer), nextFrames.of(id), writer);
      },
      execute: async (args) => {
        const { context, query } = args.contextValue as OperationContext;
        const response = await deps.apollo.executeOperation(
          { query, variables: args.variableValues as Record<string, unknown>, operationName: args.operationName ?? undefined },
          { contextValue: context },
        );
        return (
          response.body.kind === 'single' ? response.body.singleResult : { errors: [errors.badRequest('Incremental delivery is not supported over WebSocket')] }
        ) as ExecutionResult;
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors === undefined ? undefined : nextPayload(result)),
      onError: (_ctx, _id, _payload, errorList) => errorList.map(present),
      onClose: async (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        if (connection === undefined) return;
        if (connection.expiry !== undefined) clearTimeout(connection.expiry);
        remove(byHolder, connection.holder, connection);
        if (connection.caller.tenantId !== undefined) remove(byTenant, connection.caller.tenantId, connection);
      },
    },
    wss,
    deps.logger,
  );
  return async () => {
    validated = new WeakMap();
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
