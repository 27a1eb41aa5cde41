import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { expansionRefusal, refusedDocument } from './operation-limits.ts';

/**
 * Refuses, between parsing and validation, a document whose fragments expand past
 * MAX_EXPANDED_SELECTIONS. Apollo Server validates with graphql-js's specified rules in the same
 * pass as ours, and one of them (MaxIntrospectionDepthRule) walks every expansion anew, so such
 * a document must never reach validation. Apollo turns an error thrown by a hook before
 * validation into INTERNAL, so the parsed document is swapped for a stand-in that fails
 * validation with the refusal (a BAD_USER_INPUT, like any other limit). Runs once per distinct
 * document: Apollo caches documents that passed validation.
 */
export function useExpansionGuard<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart(requestContext) {
          return async (error) => {
            const document = requestContext.document;
            if (error !== undefined || document === undefined) return;
            const refusal = expansionRefusal(requestContext.schema, document);
            // The request context is Apollo's own object; `document` is typed readonly for plugins, yet validation reads it from there.
            if (refusal !== undefined) (requestContext as { document?: DocumentNode }).document = refusedDocument(refusal);
          };
        },
      };
    },
  };
}
