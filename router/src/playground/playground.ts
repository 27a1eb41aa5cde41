import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface PlaygroundOptions {
  /** Path of the GraphQL endpoint, e.g. `/graphql`; the page is served there to browsers. */
  endpoint: string;
  /** Path prefix of the playground's static files, e.g. `/graphql/assets`. */
  assetsPath: string;
}

export interface Playground {
  /** Answers the request and returns true when it is the playground page or one of its assets. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const TOKEN_STORAGE_KEY = 'tansu.playground.token';

// Styles need 'unsafe-inline': GraphiQL's dependencies inject <style> tags at runtime and
// set style attributes; its fonts are embedded as data: URLs in the stylesheet.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
#tansu-bar { display: flex; gap: 0.5rem; align-items: center; padding: 0.4rem 0.75rem; font-size: 13px;
  border-bottom: 1px solid #d0d4db; background: #f6f7f9; color: #1b2230; }
#tansu-bar label { display: flex; gap: 0.5rem; align-items: center; flex: 1; max-width: 48rem; }
#tansu-bar input { flex: 1; font-family: ui-monospace, monospace; font-size: 12px; padding: 0.25rem 0.4rem; }
#tansu-bar .tansu-title { font-weight: 600; margin-right: 0.75rem; }
#graphiql { flex: 1; min-height: 0; }
@media (prefers-color-scheme: dark) {
  #tansu-bar { background: #0f1420; color: #dfe3ea; border-bottom-color: #2a3142; }
}
`;

function pageScript(endpoint: string): string {
  // Plain browser JavaScript served as a file so the CSP can forbid inline scripts. Queries and
  // mutations go over HTTP; subscriptions over graphql-ws at the same URL (ws:// or wss://),
  // authenticated in connection_init as the router expects ({ authorization: "Bearer …" }).
  return `(function () {
  'use strict';
  var ENDPOINT = ${JSON.stringify(endpoint)};
  var TOKEN_KEY = ${JSON.stringify(TOKEN_STORAGE_KEY)};
  var WS_URL = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + ENDPOINT;
  var graphql = GraphiQL.GraphQL;
  var input = document.getElementById('tansu-token');
  var clear = document.getElementById('tansu-token-clear');

  function load() { try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } }
  function save(value) {
    try { if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY); } catch (e) {}
  }
  function token() { return input.value.trim().replace(/^Bearer\\s+/i, ''); }

  input.value = load();
  input.addEventListener('input', function () { save(token()); });
  clear.addEventListener('click', function () { input.value = ''; save(''); input.focus(); });

  /** Headers for a request: the token field, then whatever GraphiQL's header editor says (it wins). */
  function headersFor(options) {
    var headers = {};
    var bearer = token();
    if (bearer) headers.authorization = 'Bearer ' + bearer;
    var extra = (options && options.headers) || {};
    Object.keys(extra).forEach(function (name) { headers[name.toLowerCase()] = String(extra[name]); });
    return headers;
  }

  function isSubscription(params) {
    try {
      var operation = graphql.getOperationAST(graphql.parse(params.query), params.operationName || undefined);
      return operation !== null && operation !== undefined && operation.operation === 'subscription';
    } catch (e) {
      // Not parseable: the endpoint says what is wrong.
      return false;
    }
  }

  // One socket, opened on the first subscription and reopened when the credentials change:
  // the router authenticates a socket once, when it opens.
  var socket = null;
  function socketFor(headers) {
    var params = {};
    if (headers.authorization) params.authorization = headers.authorization;
    if (headers['x-tenant-id']) params['x-tenant-id'] = headers['x-tenant-id'];
    var key = JSON.stringify(params);
    if (socket && socket.key === key) return socket.client;
    if (socket) socket.client.dispose();
    socket = { key: key, client: graphqlWs.createClient({ url: WS_URL, connectionParams: params, retryAttempts: 0 }) };
    return socket.client;
  }

  function subscribe(params, headers) {
    var client = socketFor(headers);
    var payload = { query: params.query, variables: params.variables || undefined, operationName: params.operationName || undefined };
    return {
      subscribe: function (observer) {
        var dispose = client.subscribe(payload, {
          next: function (value) { observer.next(value); },
          complete: function () { observer.complete(); },
          error: function (error) {
            // A refused socket ends with a close event, a refused operation with its errors: both shown as results.
            if (Array.isArray(error)) observer.next({ errors: error });
            else if (error && typeof error.code === 'number') observer.next({ errors: [{ message: 'WebSocket closed (' + error.code + (error.reason ? ': ' + error.reason : '') + ')' }] });
            else { observer.error(error); return; }
            observer.complete();
          }
        });
        return { unsubscribe: dispose };
      }
    };
  }

  async function post(params, headers) {
    var request = new Headers({
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json'
    });
    Object.keys(headers).forEach(function (name) { request.set(name, headers[name]); });
    var response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: request,
      body: JSON.stringify(params),
      credentials: 'same-origin'
    });
    var text = await response.text();
    try {
      return JSON.parse(text);
    } catch (e) {
      return { errors: [{ message: 'HTTP ' + response.status + ': ' + (text.slice(0, 500) || response.statusText) }] };
    }
  }

  function fetcher(params, options) {
    var headers = headersFor(options);
    return isSubscription(params) ? subscribe(params, headers) : post(params, headers);
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
`;
}

interface Asset {
  contentType: string;
  version: string;
  /** Set for files read lazily from disk; in-memory assets carry only `body`. */
  file?: string;
  body?: Promise<Buffer>;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function createPlayground(options: PlaygroundOptions): Playground {
  const endpoint = trimSlash(options.endpoint);
  const assetsPath = trimSlash(options.assetsPath);
  const require = createRequire(import.meta.url);

  // React's `exports` map hides umd/, so files are located relative to each package.json.
  const fromPackage = (pkg: string, file: string, contentType: string): Asset => {
    const manifest = require.resolve(`${pkg}/package.json`);
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    return { contentType, version, file: join(dirname(manifest), file) };
  };
  const inMemory = (text: string, contentType: string): Asset => {
    const body = Buffer.from(text, 'utf8');
    const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
    return { contentType, version, body: Promise.resolve(body) };
  };

  // The whitelist: nothing outside this map is ever served.
  const assets = new Map<string, Asset>([
    ['react.production.min.js', fromPackage('react', 'umd/react.production.min.js', JS)],
    ['react-dom.production.min.js', fromPackage('react-dom', 'umd/react-dom.production.min.js', JS)],
    ['graphiql.min.js', fromPackage('graphiql', 'graphiql.min.js', JS)],
    ['graphiql.min.css', fromPackage('graphiql', 'graphiql.min.css', CSS)],
    // The same graphql-ws as the router's: its browser build defines the global `graphqlWs`.
    ['graphql-ws.min.js', fromPackage('graphql-ws', 'umd/graphql-ws.min.js', JS)],
    ['playground.js', inMemory(pageScript(endpoint), JS)],
    ['playground.css', inMemory(PAGE_CSS, CSS)],
  ]);

  // Versioned URLs let browsers cache assets for a day yet pick up upgrades at once.
  const url = (name: string): string => {
    const asset = assets.get(name);
    if (!asset) throw new Error(`unknown playground asset ${name}`);
    return escapeAttr(`${assetsPath}/${name}?v=${asset.version}`);
  };

  const html = Buffer.from(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tansu GraphQL playground</title>
<link rel="stylesheet" href="${url('graphiql.min.css')}">
<link rel="stylesheet" href="${url('playground.css')}">
</head>
<body>
<div id="tansu-bar">
<span class="tansu-title">Tansu</span>
<label for="tansu-token">Bearer token
<input id="tansu-token" type="password" autocomplete="off" spellcheck="false" placeholder="paste an access token to send it as Authorization: Bearer …">
</label>
<button id="tansu-token-clear" type="button">Clear</button>
</div>
<div id="graphiql">Loading…</div>
<script src="${url('react.production.min.js')}"></script>
<script src="${url('react-dom.production.min.js')}"></script>
<script src="${url('graphiql.min.js')}"></script>
<script src="${url('graphql-ws.min.js')}"></script>
<script src="${url('playground.js')}"></script>
</body>
</html>
`,
    'utf8',
  );

  const sendPage = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': html.length,
      'cache-control': 'no-store',
      // The same URL answers GraphQL GET requests for non-browser clients.
      vary: 'Accept',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  };

  const sendAsset = (req: IncomingMessage, res: ServerResponse, asset: Asset): void => {
    asset.body ??= readFile(asset.file ?? '');
    asset.body.then(
      (body) => {
        res.writeHead(200, {
          'content-type': asset.contentType,
          'content-length': body.length,
          'cache-control': 'public, max-age=86400',
          'x-content-type-options': 'nosniff',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        // Forget the failure so a later request can retry the read.
        if (asset.file) asset.body = undefined;
        if (res.headersSent) {
          res.destroy(error instanceof Error ? error : undefined);
          return;
        }
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('playground asset unavailable\n');
      },
    );
  };

  return {
    handle(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        return false;
      }
      if (pathname === endpoint) {
        if (!(req.headers.accept ?? '').includes('text/html')) return false;
        sendPage(req, res);
        return true;
      }
      const prefix = `${assetsPath}/`;
      if (!pathname.startsWith(prefix)) return false;
      const asset = assets.get(pathname.slice(prefix.length));
      if (!asset) return false;
      sendAsset(req, res, asset);
      return true;
    },
  };
}
