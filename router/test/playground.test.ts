import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import * as graphqlModule from 'graphql';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, graphql } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
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
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
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

  const references = (): string[] => [...page.body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? '');

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

interface Observer {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}
type Fetcher = (
  params: { query: string; operationName?: string },
  options?: { headers?: Record<string, string> },
) => Promise<unknown> | { subscribe(observer: Observer): { unsubscribe(): void } };

/**
 * What the page wires, run for real: the served playground.js and graphql-ws browser build
 * executed in a context that stands in for the browser (DOM, React and GraphiQL stubbed, real
 * fetch and WebSocket), against a server that answers GraphQL over HTTP and graphql-ws at the
 * page's own /graphql, as the router does.
 */
describe('GraphQL playground wiring', () => {
  let server: Server;
  let wss: WebSocketServer;
  let origin: string;
  let fetcher: Fetcher;
  const token = { value: '', addEventListener: () => undefined, focus: () => undefined };
  const sockets: { url: string | undefined; params: unknown }[] = [];
  const posts: { authorization: string | undefined; tenant: string | undefined }[] = [];

  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        greetings: {
          type: GraphQLString,
          subscribe: async function* () {
            yield { greetings: 'hi' };
            yield { greetings: 'there' };
          },
        },
      },
    }),
  });

  before(async () => {
    const playground = createPlayground({ endpoint: '/graphql', assetsPath: '/graphql/assets' });
    server = createServer((req, res) => {
      if (playground.handle(req, res)) return;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        posts.push({ authorization: req.headers.authorization, tenant: req.headers['x-tenant-id'] as string | undefined });
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string };
        void graphql({ schema, source: body.query }).then((result) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(result));
        });
      });
    });
    wss = new WebSocketServer({ server, path: '/graphql' });
    useServer(
      {
        schema,
        onConnect: (ctx) => {
          sockets.push({ url: ctx.extra.request.url, params: ctx.connectionParams });
          return ctx.connectionParams?.authorization !== 'Bearer refused';
        },
      },
      wss,
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;

    const page = await get(port, '/graphql', { accept: 'text/html' });
    const scripts = [...page.body.matchAll(/<script src="([^"]*)"/g)].map((match) => match[1] ?? '');
    const source = async (name: string) => {
      const ref = scripts.find((src) => src.startsWith(`/graphql/assets/${name}?`));
      assert.ok(ref, `the page loads ${name}`);
      return (await get(port, ref)).body;
    };
    let rendered: { fetcher: Fetcher } | undefined;
    const elements: Record<string, unknown> = { 'tansu-token': token, 'tansu-token-clear': { addEventListener: () => undefined }, graphiql: {} };
    const stored = new Map([['tansu.playground.token', 'stored-token']]);
    const browser = vm.createContext({
      location: { protocol: 'http:', host: `127.0.0.1:${port}` },
      document: { getElementById: (id: string) => elements[id] },
      localStorage: {
        getItem: (key: string) => stored.get(key) ?? null,
        setItem: (key: string, value: string) => stored.set(key, value),
        removeItem: (key: string) => stored.delete(key),
      },
      Headers,
      fetch: (url: string, init: RequestInit) => fetch(new URL(url, origin), init),
      WebSocket,
      setTimeout,
      clearTimeout,
      React: { createElement: (_component: unknown, props: { fetcher: Fetcher }) => ({ props }) },
      ReactDOM: { createRoot: () => ({ render: (element: { props: { fetcher: Fetcher } }) => (rendered = element.props) }) },
      GraphiQL: Object.assign(() => null, { GraphQL: graphqlModule }),
    });
    // In page order: graphql-ws defines `graphqlWs`, then the page script renders GraphiQL.
    vm.runInContext(await source('graphql-ws.min.js'), browser);
    vm.runInContext(await source('playground.js'), browser);
    assert.ok(rendered, 'GraphiQL was rendered');
    assert.equal(token.value, 'stored-token', 'the token field starts with the stored token');
    fetcher = rendered.fetcher;
  });

  after(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.close();
    await once(server, 'close');
  });

  function results(params: { query: string }, options?: { headers?: Record<string, string> }): Promise<unknown[]> {
    const observable = fetcher(params, options);
    assert.ok(!(observable instanceof Promise) && 'subscribe' in observable, 'a subscription is an observable, not an HTTP request');
    return new Promise((resolve, reject) => {
      const seen: unknown[] = [];
      observable.subscribe({ next: (value) => seen.push(JSON.parse(JSON.stringify(value))), error: reject, complete: () => resolve(seen) });
    });
  }

  it('subscribes over graphql-ws at the same URL, sending the token field as connectionParams.authorization', async () => {
    token.value = 'Bearer abc';
    assert.deepEqual(await results({ query: 'subscription Greet { greetings }' }), [{ data: { greetings: 'hi' } }, { data: { greetings: 'there' } }]);
    assert.deepEqual(sockets.at(-1), { url: '/graphql', params: { authorization: 'Bearer abc' } });
  });

  it("reconnects with the header editor's Authorization and tenant when they differ from the open socket's", async () => {
    token.value = 'abc';
    await results({ query: 'subscription { greetings }' }, { headers: { Authorization: 'Bearer xyz', 'X-Tenant-Id': 'acme' } });
    assert.deepEqual(sockets.at(-1)?.params, { authorization: 'Bearer xyz', 'x-tenant-id': 'acme' });
  });

  it('shows a refused socket as an error result', async () => {
    token.value = 'refused';
    const [result] = await results({ query: 'subscription { greetings }' });
    assert.deepEqual(result, { errors: [{ message: 'WebSocket closed (4403: Forbidden)' }] });
  });

  it('sends queries over HTTP POST to the endpoint with the same token', async () => {
    token.value = 'abc';
    const result = await fetcher({ query: 'query Hello { hello }', operationName: 'Hello' });
    assert.deepEqual(JSON.parse(JSON.stringify(result)), { data: { hello: 'world' } });
    assert.deepEqual(posts.at(-1), { authorization: 'Bearer abc', tenant: undefined });
    // The header editor wins over the token field.
    await fetcher({ query: '{ hello }' }, { headers: { authorization: 'Bearer other', 'x-tenant-id': 'acme' } });
    assert.deepEqual(posts.at(-1), { authorization: 'Bearer other', tenant: 'acme' });
  });

  it('serves the graphql-ws browser build of the version the router runs', async () => {
    const port = Number(new URL(origin).port);
    const page = await get(port, '/graphql', { accept: 'text/html' });
    const { version } = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('graphql-ws/package.json'), 'utf8')) as { version: string };
    assert.match(page.body, new RegExp(`src="/graphql/assets/graphql-ws\\.min\\.js\\?v=${version.replaceAll('.', '\\.')}"`));
  });
});
