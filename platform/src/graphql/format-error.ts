import type { GraphQLFormattedError } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { PUBLIC_EXTENSIONS, TansuError, isErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** Apollo's own codes for a request the client got wrong. */
const CLIENT_FAULT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const INTERNAL_MESSAGE = 'Internal server error';

/** Extensions a client may see besides the code: which field, which limit, when to retry. */

/**
 * One formatter per server. Exposed catalogue errors pass through; Apollo's client-fault
 * codes become BAD_USER_INPUT; everything else is masked as INTERNAL. With `trustUpstream`
 * (the router) catalogue codes already decided by a subgraph pass through as they are.
 */
export function createErrorFormatter(options: { trustUpstream: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof TansuError && original.expose) {
      const extensions: Record<string, unknown> = { code: original.code };
      for (const key of PUBLIC_EXTENSIONS) if (original.extensions[key] !== undefined) extensions[key] = original.extensions[key];
      return { ...base, message: original.message, extensions };
    }
    const code = formatted.extensions?.code;
    if (options.trustUpstream && isErrorCode(code) && !(original instanceof TansuError)) {
      const extensions: Record<string, unknown> = { code };
      for (const key of [...PUBLIC_EXTENSIONS, 'requestId']) {
        if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
      }
      return { ...base, message: code === 'INTERNAL' ? INTERNAL_MESSAGE : formatted.message, extensions };
    }
    if (typeof code === 'string' && CLIENT_FAULT_CODES.has(code)) {
      return { ...base, message: formatted.message, extensions: { code: 'BAD_USER_INPUT' } };
    }
    return { ...base, message: INTERNAL_MESSAGE, extensions: { code: 'INTERNAL' } };
  };
}

/** Logs what was masked with its cause, and stamps INTERNAL errors with the request id. */
export function errorReportingPlugin<TContext extends BaseContext & { requestId: string; logger: Logger }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof TansuError && original.expose) continue;
            if (isErrorCode(error.extensions?.code) && error.extensions.code !== 'INTERNAL') continue;
            if (typeof error.extensions?.code === 'string' && CLIENT_FAULT_CODES.has(error.extensions.code)) continue;
            contextValue.logger.error({ err: original, path: error.path }, 'request failed');
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (errors === undefined) return;
          response.body.singleResult.errors = errors.map((e) =>
            e.extensions?.code === 'INTERNAL' && e.extensions.requestId === undefined
              ? { ...e, extensions: { ...e.extensions, requestId: contextValue.requestId } }
              : e,
          );
        },
      };
    },
  };
}
