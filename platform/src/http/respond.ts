import type { ServerResponse } from 'node:http';
import { PUBLIC_EXTENSIONS, TansuError } from '../errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** A request that ends before GraphQL runs still answers in GraphQL's error shape. */
export function sendGraphQLError(res: ServerResponse, error: TansuError, requestId?: string): void {
  const extensions: Record<string, unknown> = { code: error.code };
  if (requestId !== undefined) extensions.requestId = requestId;
  for (const key of PUBLIC_EXTENSIONS) if (error.extensions[key] !== undefined) extensions[key] = error.extensions[key];
  const headers: Record<string, string> = {};
  const retryAfter = error.extensions.retryAfter;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
  // The rest of an oversized body is not worth reading: the connection ends with the answer.
  if (error.status === 413) headers.connection = 'close';
  sendJson(res, error.status, { errors: [{ message: error.message, extensions }] }, headers);
}
