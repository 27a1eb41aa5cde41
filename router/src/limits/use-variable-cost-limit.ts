import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { TansuError } from '@tansu/platform/errors';
import { costWithVariables } from './operation-limits.ts';

/** Re-checks the cost budget with the request's variables (list sizes given as `$first`). */
export function useVariableCostLimit<TContext extends BaseContext>(maxCost: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          if (operation === undefined || (operation.variableDefinitions?.length ?? 0) === 0) return;
          const cost = costWithVariables(schema, document, operation, request.variables);
          if (cost > maxCost) throw new TansuError('BAD_USER_INPUT', `Query cost ${cost} exceeds the budget of ${maxCost}`, { extensions: { limit: 'cost' } });
        },
      };
    },
  };
}
