import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { execute, Kind, type FragmentDefinitionNode } from 'graphql';
import { rootFields } from '../auth/public-operations.ts';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

/**
 * Operations that only introspect are answered from the API schema here, with graphql-js,
 * rather than planned through the gateway: no subgraph has anything to add, and the gateway
 * cannot parse every introspection field current tools ask for (`__Type.isOneOf`).
 */
export function useLocalIntrospection<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ operation, document, schema, request, contextValue }) {
          if (operation.operation !== 'query') return null;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          if (!rootFields(operation.selectionSet, fragments).every((field) => INTROSPECTION_FIELDS.has(field))) return null;
          const result = await execute({ schema, document, operationName: request.operationName, variableValues: request.variables, contextValue });
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: result } };
        },
      };
    },
  };
}
