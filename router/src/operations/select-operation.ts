import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { errors } from '@tansu/platform/errors';

function operationsOf(document: DocumentNode): OperationDefinitionNode[] {
  return document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

const listed = (operations: OperationDefinitionNode[]) => operations.map((o) => (o.name === undefined ? '(unnamed)' : o.name.value)).join(', ');

/**
 * The operation a request runs: the only one in the document, or the one `operationName`
 * names. Anything else is the client's mistake, and the message says how to mend it.
 */
export function selectOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode {
  const operations = operationsOf(document);
  if (operationName == null || operationName === '') {
    if (operations.length === 1) return operations[0]!;
    if (operations.length === 0) throw errors.badRequest('The document holds no operation: send a query, mutation or subscription');
    throw errors.badRequest(`The document holds ${operations.length} operations (${listed(operations)}): name the one to run in operationName`);
  }
  const named = operations.find((o) => o.name?.value === operationName);
  if (named === undefined) throw errors.badRequest(`No operation named "${operationName.slice(0, 100)}" in the document; it holds ${listed(operations)}`);
  return named;
}
