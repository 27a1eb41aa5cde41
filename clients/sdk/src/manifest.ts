import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { documentText, sha256Hex } from './transport.ts';

export interface PersistedManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string | null; type: 'query' | 'mutation' | 'subscription'; body: string }[];
}

/** The id the router knows a registered document by: the SHA-256 of the exact text the SDK sends. */
export async function documentId(document: DocumentNode): Promise<string> {
  return sha256Hex(documentText(document));
}

/**
 * The manifest `tansu schema documents --client NAME --manifest FILE` registers: every
 * operation an app sends, so a router in persisted-only mode runs them and nothing else.
 */
export async function persistedManifest(documents: Iterable<DocumentNode>): Promise<PersistedManifest> {
  const operations = new Map<string, PersistedManifest['operations'][number]>();
  for (const document of documents) {
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    if (operation === undefined) continue;
    const id = await documentId(document);
    operations.set(id, { id, name: operation.name?.value ?? null, type: operation.operation, body: documentText(document) });
  }
  return { format: 'apollo-persisted-query-manifest', version: 1, operations: [...operations.values()].sort((a, b) => a.id.localeCompare(b.id)) };
}
