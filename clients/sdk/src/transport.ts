import type { TadaDocumentNode } from 'gql.tada';
import { print, type DocumentNode } from 'graphql';
import { TansuError, errorFromResponse, type GraphQLErrorEntry } from './errors.ts';

/** Hex SHA-256 of a text (WebCrypto: browsers and Node alike). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A document's text, printed once. */
const texts = new WeakMap<DocumentNode, string>();
export function documentText(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document);
    texts.set(document, text);
  }
  return text;
}

export interface PostOptions {
  url: string;
  fetch: typeof fetch;
  token?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Name the document by its id (it must be registered) instead of sending its text. */
  persisted?: boolean;
}

/** One GraphQL request over HTTP: the data, or a TansuError typed by the answer's code. */
export async function postGraphQL<Result, Variables>(
  document: TadaDocumentNode<Result, Variables>,
  variables: Variables | undefined,
  options: PostOptions,
): Promise<Result> {
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      body: JSON.stringify({
        ...(options.persisted ? { documentId: `sha256:${await sha256Hex(documentText(document))}` } : { query: documentText(document) }),
        variables: variables ?? {},
      }),
      signal: options.signal,
    });
  } catch (error) {
    throw new TansuError('NETWORK', `No answer from ${options.url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let body: { data?: Result | null; errors?: GraphQLErrorEntry[] };
  try {
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new TansuError(response.status >= 500 ? 'INTERNAL' : 'NETWORK', `The answer (HTTP ${response.status}) was not GraphQL`, {
      status: response.status,
      cause: error,
    });
  }
  if (body.errors !== undefined && body.errors.length > 0) throw errorFromResponse(body.errors, response.status);
  if (body.data === undefined || body.data === null) throw errorFromResponse([], response.status);
  return body.data;
}
