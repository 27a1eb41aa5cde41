import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { CLIENT_HEADER, type ContextTokenCodec } from '@tansu/platform/context-token';
import { readBody } from '@tansu/platform/http/read-body';
import { sendJson } from '@tansu/platform/http/respond';
import { clientAddress } from './client-address.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
]);

/** `/identity/*` (JWKS, and the issuer's endpoints) forwarded to the identity service. */
export function createIdentityProxy(options: {
  identityUrl: string;
  maxBodyBytes: number;
  publicUrl?: string;
  trustedProxyHops?: number;
  codec?: ContextTokenCodec;
}) {
  const { identityUrl, maxBodyBytes, publicUrl, trustedProxyHops = 0, codec } = options;
  const publicOrigin = publicUrl === undefined ? undefined : new URL(publicUrl);
  const target = new URL(identityUrl);
  const pool = new Pool(target.origin, { connections: 16, keepAliveTimeout: 30_000 });
  return {
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !HOP_BY_HOP.has(name) && !name.startsWith('x-tansu-') && !name.startsWith('x-forwarded-')) headers[name] = value;
      }
      // The issuer builds its URLs from these: they say where the public endpoint is, never the client.
      if (publicOrigin !== undefined) {
        headers['x-forwarded-host'] = publicOrigin.host;
        headers['x-forwarded-proto'] = publicOrigin.protocol.replace(':', '');
      }
      // The end user's address, signed, for the issuer's rate limits and audit (clients cannot send x-tansu-* headers).
      if (codec !== undefined) headers[CLIENT_HEADER] = codec.signClient({ ip: clientAddress(req, trustedProxyHops), userAgent: req.headers['user-agent'] });
      const body = method === 'POST' ? await readBody(req, maxBodyBytes) : null;
      const upstream = await pool.request({ path: req.url ?? '/', method, headers, body });
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(upstream.statusCode, out);
      for await (const chunk of upstream.body) res.write(chunk);
      res.end();
    },
    close: () => pool.close(),
  };
}
