import type { ServerResponse } from 'node:http';
import { TansuError } from '../errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** A request that ends before GraphQL runs still answers in GraphQL's error shape. */
export function sendGraphQLError(res: ServerResponse, error: TansuError, requestId?: string): void {
  const extensions: Record<string, unknown> = { code: error.code };
  if (requestId !== undefined) extensions.requestId = requestId;
  if (error.extensions.field !== undefined) extensions.field = error.extensions.field;
  sendJson(res, error.status, { errors: [{ message: error.message, extensions }] });
}
