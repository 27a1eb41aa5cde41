import type { Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import { decodeJwt } from 'jose';
import { GraphQLError, getOperationAST, parse, print, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CallerContext, ContextTokenCodec } from '@tansu/platform/context-token';
import { TansuError } from '@tansu/platform/errors';
import type { Limits } from '@tansu/platform/config';
import { createErrorFormatter } from '@tansu/platform/graphql/format-error';
import type { Logger } from '@tansu/platform/logger';
import type { TenantStatusWatcher } from '@tansu/platform/tenants/tenant-status';
import type { SessionRevocations } from '@tansu/platform/tenants/session-revocations';
import type { UsageRecorder } from '../usage/usage-recorder.ts';
import type { PersistedDocuments } from '../http/persisted-documents.ts';
import { traceFrom } from '@tansu/platform/trace-context';
import type { Authenticator } from '../auth/authenticator.ts';
import { operationLimitsRule } from '../limits/operation-limits.ts';
import type { RouterContext } from '../router-context.ts';
import type { FederatedSubscriptions } from './federated-subscriptions.ts';

/** Close codes of the graphql-ws protocol family: authentication, then authorization. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
const MAX_TIMER_MS = 2_147_483_647;

interface Connection {
  caller: CallerContext;
  subject: string | undefined;
  expiry: NodeJS.Timeout | undefined;
  /** The trace the client's upgrade request belonged to, continued by its operations. */
  traceparent: string | undefined;
}

function bearerOf(params: Record<string, unknown> | undefined, header: string | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? header;
  if (typeof value !== 'string' || value === '') return undefined;
  return /^bearer /i.test(value) ? value : `Bearer ${value}`;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the router's /graphql. The caller authenticates in
 * `connection_init` (payload `{ authorization: "Bearer …" }`); without a valid token the socket
 * closes with 4401. When the token expires the socket closes with 4401 too, unless the client
 * sent a fresh token first in a ping (`{ authorization }`) for the same tenant and user.
 * Subscriptions run through the federated planner; queries and mutations through Apollo.
 */
export function serveGraphQLOverWebSocket(deps: {
  server: Server;
  apollo: ApolloServer<RouterContext>;
  schema: GraphQLSchema;
  subscriptions: FederatedSubscriptions;
  authenticator: Authenticator | undefined;
  codec: ContextTokenCodec | undefined;
  tenantStatus?: TenantStatusWatcher;
  sessionRevocations?: SessionRevocations;
  usage?: UsageRecorder;
  persistedDocuments?: PersistedDocuments;
  limits: Limits;
  logger: Logger;
}): () => Promise<void> {
  const wss = new WebSocketServer({ server: deps.server, path: '/graphql', maxPayload: deps.limits.maxBodyBytes });
  const connections = new WeakMap<WebSocket, Connection>();
  /** Open sockets by tenant, so a suspension can close them at once. */
  const byTenant = new Map<string, Set<WebSocket>>();
  deps.tenantStatus?.onBlocked((tenantId) => {
    for (const socket of byTenant.get(tenantId) ?? []) socket.close(CLOSE_FORBIDDEN, 'Tenant suspended');
  });
  const formatError = createErrorFormatter({ trustUpstream: true });
  const rules = [...specifiedRules, operationLimitsRule(deps.limits)];

  function scheduleExpiry(socket: WebSocket, connection: Connection, token: string | undefined): void {
    if (connection.expiry !== undefined) clearTimeout(connection.expiry);
    const exp = token === undefined ? undefined : decodeJwt(token.slice(7)).exp;
    if (exp === undefined) return;
    connection.expiry = setTimeout(() => socket.close(CLOSE_UNAUTHORIZED, 'Token expired'), Math.min(MAX_TIMER_MS, Math.max(0, exp * 1000 - Date.now())));
    connection.expiry.unref();
  }

  function contextFor(caller: CallerContext, requestId: string, traceparent: string | undefined): RouterContext {
    const trace = traceFrom(traceparent);
    return {
      caller,
      requestId,
      clientIp: undefined,
      userAgent: undefined,
      traceparent: trace.traceparent,
      logger: deps.logger.child({ requestId, tenantId: caller.tenantId, traceId: trace.traceId }),
      contextToken: deps.codec?.sign(caller, 300),
      clientToken: undefined,
      shareKey: caller.tenantId === undefined ? 'anonymous' : `${caller.tenantId}|${caller.subject}|${caller.roles.join(',')}`,
    };
  }

  const errorResult = (error: unknown): readonly GraphQLError[] => {
    const e = error instanceof GraphQLError ? error : new TansuError('BAD_USER_INPUT', error instanceof Error ? error.message : String(error));
    const formatted = formatError(e.toJSON(), e);
    return [new GraphQLError(formatted.message, { extensions: formatted.extensions })];
  };

  const disposable = useServer<Record<string, unknown>, { socket: WebSocket; request: import('node:http').IncomingMessage }>(
    {
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const token = bearerOf(ctx.connectionParams, ctx.extra.request.headers.authorization);
        let caller: CallerContext = { roles: [], scopes: [] };
        if (deps.authenticator !== undefined) {
          try {
            caller = (await deps.authenticator.authenticate(token)) ?? caller;
          } catch {
            socket.close(CLOSE_UNAUTHORIZED, 'Invalid token');
            return false;
          }
          if (caller.tenantId === undefined) {
            socket.close(CLOSE_UNAUTHORIZED, 'Authentication required');
            return false;
          }
          if (deps.tenantStatus?.isBlocked(caller.tenantId) === true) {
            socket.close(CLOSE_FORBIDDEN, 'Tenant suspended');
            return false;
          }
          if (deps.sessionRevocations?.revocationOf(caller) !== undefined) {
            socket.close(CLOSE_UNAUTHORIZED, 'Session ended');
            return false;
          }
          const tenantHeader = ctx.connectionParams?.['x-tenant-id'] ?? ctx.extra.request.headers['x-tenant-id'];
          if (typeof tenantHeader === 'string' && tenantHeader !== caller.tenantSlug && tenantHeader !== caller.tenantId) {
            socket.close(CLOSE_FORBIDDEN, 'Token belongs to another tenant');
            return false;
          }
        }
        const traceparent = ctx.extra.request.headers.traceparent;
        const connection: Connection = { caller, subject: caller.subject, expiry: undefined, traceparent: typeof traceparent === 'string' ? traceparent : undefined };
        connections.set(socket, connection);
        if (caller.tenantId !== undefined) {
          const open = byTenant.get(caller.tenantId) ?? new Set<WebSocket>();
          open.add(socket);
          byTenant.set(caller.tenantId, open);
        }
        scheduleExpiry(socket, connection, token);
        return true;
      },
      onPing: async (ctx, payload) => {
        const connection = connections.get(ctx.extra.socket);
        const token = bearerOf(payload, undefined);
        if (connection === undefined || token === undefined || deps.authenticator === undefined) return;
        try {
          const caller = await deps.authenticator.authenticate(token);
          if (caller === null || caller.tenantId !== connection.caller.tenantId || caller.subject !== connection.subject) {
            ctx.extra.socket.close(CLOSE_FORBIDDEN, 'A refreshed token must belong to the same user');
            return;
          }
          if (deps.sessionRevocations?.revocationOf(caller) !== undefined) {
            ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Session ended');
            return;
          }
          connection.caller = caller;
          scheduleExpiry(ctx.extra.socket, connection, token);
        } catch {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Invalid token');
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const connection = connections.get(ctx.extra.socket);
        if (connection === undefined) return errorResult(new TansuError('UNAUTHENTICATED', 'Not connected'));
        if (deps.sessionRevocations?.revocationOf(connection.caller) !== undefined) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Session ended');
          return errorResult(new TansuError('UNAUTHENTICATED', 'This session was ended; sign in again'));
        }
        if (deps.persistedDocuments?.allows(payload.query) === false) {
          return errorResult(new TansuError('PERSISTED_DOCUMENT_REQUIRED', 'This endpoint runs registered operations only: subscribe with the exact text of a registered operation'));
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: 20_000 });
        } catch (error) {
          return errorResult(error);
        }
        const errors = validate(deps.schema, document, rules);
        if (errors.length > 0) return errors.map((error) => errorResult(error)[0]!);
        const operation = getOperationAST(document, payload.operationName);
        if (operation == null) return errorResult(new TansuError('BAD_USER_INPUT', 'Name the operation to run'));
        // Queries and mutations sent here run through Apollo, whose plugin counts them; subscriptions do not.
        if (operation.operation === 'subscription') deps.usage?.record(deps.schema, createHash('sha256').update(payload.query).digest('hex'), document, operation.name?.value);
        const context = contextFor(connection.caller, randomUUID(), connection.traceparent);
        return { schema: deps.schema, document, operationName: payload.operationName ?? undefined, variableValues: payload.variables ?? {}, contextValue: context };
      },
      subscribe: (args) => {
        const context = args.contextValue as RouterContext;
        return deps.subscriptions.subscribe({ document: args.document, operationName: args.operationName ?? undefined, variables: args.variableValues as Record<string, unknown>, context });
      },
      execute: async (args) => {
        const response = await deps.apollo.executeOperation(
          { query: print(args.document), variables: args.variableValues as Record<string, unknown>, operationName: args.operationName ?? undefined },
          { contextValue: args.contextValue as RouterContext },
        );
        return (response.body.kind === 'single' ? response.body.singleResult : { errors: [new GraphQLError('Incremental delivery is not supported here')] }) as ExecutionResult;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (result.errors === undefined) return;
        return { ...result, errors: result.errors.map((error) => formatError(error instanceof GraphQLError ? error.toJSON() : (error as never), error)) };
      },
      onClose: async (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        if (connection === undefined) return;
        if (connection.expiry !== undefined) clearTimeout(connection.expiry);
        const tenantId = connection.caller.tenantId;
        if (tenantId !== undefined) {
          const open = byTenant.get(tenantId);
          open?.delete(ctx.extra.socket);
          if (open?.size === 0) byTenant.delete(tenantId);
        }
      },
    },
    wss,
  );
  return async () => {
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
