import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

// The console talks to this router only (its API and its issuers), and is never framed.
const HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * The web console's built files under `/console/`: hashed assets cached for a year, every other
 * path answered with the app's page (its router draws the screen). Local files only, so the
 * console works offline.
 */
export function createConsoleFiles(options: { dir: string }) {
  const root = normalize(options.dir + sep);
  async function send(res: ServerResponse, file: string, cache: string, head: boolean): Promise<boolean> {
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) return false;
    res.writeHead(200, { ...HEADERS, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': cache });
    if (head) res.end();
    else createReadStream(file).pipe(res);
    return true;
  }
  return {
    /** Answers `/console` and everything under it. */
    async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('Method not allowed');
        return;
      }
      if (path === '/console') {
        res.writeHead(308, { location: '/console/' });
        res.end();
        return;
      }
      const head = req.method === 'HEAD';
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice('/console/'.length));
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Bad path');
        return;
      }
      if (relative.startsWith('assets/')) {
        const file = normalize(join(root, relative));
        if (file.startsWith(root) && (await send(res, file, 'public, max-age=31536000, immutable', head))) return;
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Not found');
        return;
      }
      if (await send(res, join(root, 'index.html'), 'no-cache', head)) return;
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The console is not built: run npm run build:console (npm ci does it)');
    },
  };
}
