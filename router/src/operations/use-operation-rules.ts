import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { errors } from '@tansu/platform/errors';
import { selectOperation } from './select-operation.ts';

export const SUBSCRIPTIONS_OVER_WEBSOCKET =
  'Subscriptions run over WebSocket: connect a graphql-ws client to this same URL (ws:// or wss://) and subscribe there';

/**
 * What Apollo leaves to the executor, refused with a client error before it gets there: a
 * document whose operation cannot be told, and subscriptions sent over HTTP.
 */
export function useOperationRules<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          const chosen = operation ?? selectOperation(document, request.operationName);
          if (chosen.operation === 'subscription') throw errors.badRequest(SUBSCRIPTIONS_OVER_WEBSOCKET);
        },
      };
    },
  };
}
