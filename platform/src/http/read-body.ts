import type { IncomingMessage } from 'node:http';
import { errors } from '../errors.ts';

/**
 * Reads a request body, refusing it as soon as it passes the limit. The rest of a refused
 * body is drained, never left half-read: the connection stays usable for the answer (and,
 * unless the answer closes it, for the next request).
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw errors.payloadTooLarge(limitBytes);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      stop();
      req.resume();
      reject(errors.payloadTooLarge(limitBytes));
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Deeper JSON than this is refused: later serialisation would overflow the stack. */
export const MAX_JSON_DEPTH = 64;

function tooDeep(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw errors.badRequest('Request body is not valid JSON');
  }
  if (tooDeep(body, MAX_JSON_DEPTH)) throw errors.badRequest(`Request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}
