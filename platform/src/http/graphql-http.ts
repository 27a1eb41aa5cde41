import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { parseJsonBody, readBody } from './read-body.ts';

/** Hands one HTTP request to Apollo Server and writes its answer; body limits apply first. */
export async function executeGraphQLOverHttp<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  options: { maxBodyBytes: number; context: () => Promise<TContext>; prepareBody?: (body: unknown) => unknown; prepareSearch?: (search: string) => void },
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const parsed = method === 'POST' ? parseJsonBody(await readBody(req, options.maxBodyBytes)) : undefined;
  // A chance to turn a persisted document's id into its text (or refuse) before Apollo reads it.
  const body = options.prepareBody === undefined ? parsed : options.prepareBody(parsed);
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  // A GET carries its operation in the URL: the same gate applies.
  if (method !== 'POST') options.prepareSearch?.(queryStart >= 0 ? url.slice(queryStart) : '');
  const result = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method, headers, search: queryStart >= 0 ? url.slice(queryStart) : '', body },
    context: options.context,
  });
  res.statusCode = result.status ?? 200;
  for (const [name, value] of result.headers) res.setHeader(name, value);
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}
