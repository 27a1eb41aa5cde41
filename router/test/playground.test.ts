import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPlayground } from '../src/playground/playground.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// node:http sends the path verbatim, unlike fetch which would normalise `..` away before sending.
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GraphQL playground', () => {
  let server: Server;
  let port: number;
  let page: RawResponse;

  before(async () => {
    const playground = createPlayground({ endpoint: '/graphql', assetsPath: '/graphql/assets' });
    server = createServer((req, res) => {
      if (playground.handle(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('fallback');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    page = await get(port, '/graphql', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
  });

  after(async () => {
    server.close();
    await once(server, 'close');
  });

  const references = (): string[] =>
    [...page.body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? '');

  it('serves an HTML page to browsers with a strict content security policy', () => {
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<div id="graphiql">/);
    assert.match(page.body, /id="tansu-token"/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /https?:/);
  });

  it('references only local assets', () => {
    const refs = references();
    assert.ok(refs.length >= 4, `expected script and stylesheet references, got ${refs.join(', ')}`);
    for (const ref of refs) {
      assert.doesNotMatch(ref, /^(?:[a-z]+:)?\/\//i, `external reference ${ref}`);
      assert.ok(ref.startsWith('/graphql/assets/'), `unexpected reference ${ref}`);
    }
    assert.doesNotMatch(page.body, /https?:\/\//);
    assert.doesNotMatch(page.body, /<script>/, 'no inline script');
  });

  it('serves every referenced asset with its content type', async () => {
    for (const ref of references()) {
      const res = await get(port, ref);
      assert.equal(res.status, 200, ref);
      const expected = ref.split('?')[0]?.endsWith('.css') ? /^text\/css/ : /^text\/javascript/;
      assert.match(String(res.headers['content-type']), expected, ref);
      assert.equal(res.headers['cache-control'], 'public, max-age=86400', ref);
      assert.ok(res.body.length > 200, `${ref} body is only ${res.body.length} bytes`);
    }
  });

  it('serves the GraphiQL bundle and React from node_modules', async () => {
    const graphiql = await get(port, '/graphql/assets/graphiql.min.js');
    assert.ok(graphiql.body.length > 100_000);
    assert.match(graphiql.body, /window\.GraphiQL/);
    const react = await get(port, '/graphql/assets/react.production.min.js');
    assert.match(react.body, /React/);
  });

  it('leaves non-browser GraphQL requests to the router', async () => {
    const res = await get(port, '/graphql?query=%7B__typename%7D', { accept: 'application/json' });
    assert.equal(res.body, 'fallback');
  });

  it('does not serve unknown assets', async () => {
    for (const path of ['/graphql/assets/', '/graphql/assets/nope.js', '/graphql/assets/graphiql.min.js.map']) {
      const res = await get(port, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body, 'fallback', path);
    }
  });

  it('does not serve paths that try to escape the asset directory', async () => {
    for (const path of [
      '/graphql/assets/../../package.json',
      '/graphql/assets/%2e%2e/%2e%2e/package.json',
      '/graphql/assets/%2E%2E%2F%2E%2E%2Fpackage.json',
      '/graphql/assets/..%2f..%2fpackage.json',
      '/graphql/assets/..\\..\\package.json',
      '/graphql/assets/graphiql.min.js/../../../../package.json',
      '/graphql/assets//etc/passwd',
    ]) {
      const res = await get(port, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body, 'fallback', path);
    }
  });
});
