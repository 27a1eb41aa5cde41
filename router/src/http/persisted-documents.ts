import { createHash } from 'node:crypto';
import { TansuError } from '@tansu/platform/errors';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type Body = { query?: unknown; documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown> } & Record<
  string,
  unknown
>;

/** The id a request names: GraphQL-over-HTTP `documentId` ("sha256:…" or bare), or Apollo's `extensions.persistedQuery.sha256Hash`. */
function documentIdOf(body: Body): string | undefined {
  const id = typeof body.documentId === 'string' ? body.documentId : body.extensions?.persistedQuery?.sha256Hash;
  if (typeof id !== 'string') return undefined;
  return id.replace(/^sha256:/, '').toLowerCase();
}

/**
 * Operations clients registered, served by id: a request may name one instead of sending its
 * text. In persisted-only mode nothing else runs: text is accepted only when it is exactly
 * a registered document.
 */
export function createPersistedDocuments(deps: { lookup: (id: string) => string | undefined; only: boolean }) {
  return {
    /** The request body with the registered text in place of the id; refuses what may not run. */
    prepare(body: unknown): unknown {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
      const request = body as Body;
      const id = documentIdOf(request);
      if (typeof request.query === 'string' && request.query !== '') {
        if (deps.only && deps.lookup(sha256(request.query)) === undefined) {
          throw new TansuError('PERSISTED_DOCUMENT_REQUIRED', 'This endpoint runs registered operations only: send the documentId of a registered operation');
        }
        return body;
      }
      if (id === undefined) {
        if (deps.only)
          throw new TansuError('PERSISTED_DOCUMENT_REQUIRED', 'This endpoint runs registered operations only: send the documentId of a registered operation');
        return body;
      }
      const document = deps.lookup(id);
      if (document === undefined) throw new TansuError('PERSISTED_DOCUMENT_NOT_FOUND', `No registered operation has the id ${id.slice(0, 64)}`);
      const { documentId: _id, extensions, ...rest } = request;
      const { persistedQuery: _persisted, ...otherExtensions } = extensions ?? {};
      return { ...rest, query: document, ...(Object.keys(otherExtensions).length > 0 ? { extensions: otherExtensions } : {}) };
    },
    /** A GET request's URL parameters: in persisted-only mode its query text must be a registered document. */
    checkSearch(search: string): void {
      if (!deps.only) return;
      const query = new URLSearchParams(search).get('query');
      if (query === null || deps.lookup(sha256(query)) === undefined) {
        throw new TansuError('PERSISTED_DOCUMENT_REQUIRED', 'This endpoint runs registered operations only: send the documentId of a registered operation');
      }
    },
    /** For the WebSocket path: whether this text may run. */
    allows(query: string): boolean {
      return !deps.only || deps.lookup(sha256(query)) !== undefined;
    },
  };
}
export type PersistedDocuments = ReturnType<typeof createPersistedDocuments>;
