import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { errors } from '@tansu/platform/errors';
import type { RouterContext } from '../router-context.ts';

/** Root fields an anonymous caller may use: signing up and in (every step of it), and the flows that arrive by email. */
export const DEFAULT_PUBLIC_FIELDS: Record<string, readonly string[]> = {
  query: ['__typename'],
  mutation: [
    'signUp',
    'signIn',
    'refreshToken',
    'verifyEmail',
    'sendVerificationEmail',
    'requestPasswordReset',
    'resetPassword',
    'acceptInvitation',
    'verifyMfa',
    'enrollTotp',
    'confirmTotp',
    'startPasskeySignIn',
    'finishPasskeySignIn',
    '__typename',
  ],
  subscription: [],
};

/** The root fields a selection reaches, through inline fragments and spreads. */
export function rootFields(selectionSet: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) names.push(...rootFields(selection.selectionSet, fragments, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments[selection.name.value];
      if (fragment !== undefined) names.push(...rootFields(fragment.selectionSet, fragments, seen));
    }
  }
  return names;
}

export interface PublicOperationOptions {
  allowIntrospection: boolean;
  publicFields?: Record<string, readonly string[]>;
}

/** Throws UNAUTHENTICATED when an anonymous caller's operation touches a root field outside the allow-list. */
export function createPublicOperationCheck(options: PublicOperationOptions) {
  const allowed = options.publicFields ?? DEFAULT_PUBLIC_FIELDS;
  const introspection = options.allowIntrospection ? ['__schema', '__type'] : [];
  return (operation: OperationDefinitionNode, document: DocumentNode): void => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    const permitted = [...(allowed[operation.operation] ?? []), ...(operation.operation === 'query' ? introspection : [])];
    for (const field of rootFields(operation.selectionSet, fragments)) {
      if (!permitted.includes(field)) throw errors.unauthenticated(`Sign in to use "${field}"`);
    }
  };
}

/** Refuses any operation of an anonymous caller that touches a field outside the allow-list. */
export function usePublicOperations(options: PublicOperationOptions): ApolloServerPlugin<RouterContext> {
  const check = createPublicOperationCheck(options);
  return {
    async requestDidStart({ contextValue }) {
      if (contextValue.caller.tenantId !== undefined) return;
      return {
        async didResolveOperation({ operation, document }) {
          if (operation !== undefined) check(operation, document);
        },
      };
    },
  };
}
