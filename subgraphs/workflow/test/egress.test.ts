import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Json, MappingScope } from '@tansu/subgraph-workflow/definitions/mapping';
import type { StepDefinition } from '@tansu/subgraph-workflow/definitions/workflow-definition';
import { isBlockedAddress } from '@tansu/platform/http/egress';
import { createStepRunners, StepError, type StepContext } from '@tansu/subgraph-workflow/engine/step-runners';

describe('isBlockedAddress', () => {
  const blocked = [
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12::1',
    'fe80::1',
    'FE80::abcd',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
  ];
  const allowed = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '11.0.0.1', '193.168.1.1', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'];

  for (const address of blocked) {
    it(`blocks ${address}`, () => assert.equal(isBlockedAddress(address), true));
  }
  for (const address of allowed) {
    it(`allows ${address}`, () => assert.equal(isBlockedAddress(address), false));
  }

  it('blocks anything that is not an IP address', () => {
    for (const value of ['not-an-ip', '', 'localhost', '127.0.0.1.nip.io', '256.1.1.1', '[::1]']) assert.equal(isBlockedAddress(value), true, value);
  });

  it(
    'blocks non-canonical spellings of blocked IPv6 addresses',
    () => {
      for (const address of ['0:0:0:0:0:0:0:1', '0::1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::ffff:a00:1']) assert.equal(isBlockedAddress(address), true, address);
    },
  );
});

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const RETRY = { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, backoffFactor: 1, nonRetryable: [] };

function context(config: Record<string, Json>, options: { type?: StepDefinition['type']; timeoutMs?: number; signal?: AbortSignal; scope?: Partial<MappingScope> } = {}): StepContext {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    def: { id: 's', type: options.type ?? 'http', needs: [], with: config, timeoutMs, retry: RETRY },
    scope: { input: {}, steps: {}, run: { id: 'r' }, ...options.scope },
    idempotencyKey: 'r:s',
    signal: options.signal ?? AbortSignal.timeout(timeoutMs),
  };
}

async function stepError(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StepError, `expected a StepError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the step to fail');
}

describe('step runners', () => {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      switch (path) {
        case '/status/500':
        case '/status/404':
        case '/status/429': {
          res.writeHead(Number(path.slice('/status/'.length)), { 'content-type': 'application/json' });
          res.end('{"error":"nope"}');
          return;
        }
        case '/hang':
          return; // never answers
        case '/redirect':
          res.writeHead(302, { location: '/redirect-target' });
          res.end();
          return;
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(2 * 1024 * 1024) });
          res.end('x'.repeat(2 * 1024 * 1024));
          return;
        case '/big-chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('x'.repeat(700 * 1024));
          res.end('y'.repeat(700 * 1024));
          return;
        case '/big-stalled':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('x'.repeat(1_200_000)); // more than 1 MiB, then never ends
          return;
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial'); // headers and a little body, then nothing
          return;
        case '/text':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('just text');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ hello: 'world', path }));
      }
    });
  });
  let base = '';
  const denied = createStepRunners({ allowPrivateEgress: false });
  const allowed = createStepRunners({ allowPrivateEgress: true });
  const requestsTo = (path: string) => received.filter((request) => new URL(request.url, 'http://x').pathname === path);

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await Promise.all([denied.close(), allowed.close(), new Promise<void>((resolve) => server.close(() => resolve()))]);
  });

  describe('egress guard', () => {
    it(
      'refuses a literal loopback IP when private egress is not allowed',
      async () => {
        const error = await stepError(denied.run(context({ url: `${base}/ip-literal-probe` })));
        assert.equal(error.failure.code, 'EGRESS_DENIED');
        assert.equal(error.failure.retryable, false);
        assert.equal(requestsTo('/ip-literal-probe').length, 0, 'the server must not receive the request');
      },
    );

    it(
      'refuses a literal IPv6 loopback when private egress is not allowed',
      async () => {
        const port = new URL(base).port;
        const error = await stepError(denied.run(context({ url: `http://[::1]:${port}/ipv6-literal-probe` })));
        assert.equal(error.failure.code, 'EGRESS_DENIED');
      },
    );

    it('refuses localhost when private egress is not allowed', async () => {
      const port = new URL(base).port;
      const error = await stepError(denied.run(context({ url: `http://localhost:${port}/localhost-probe` })));
      assert.equal(error.failure.code, 'EGRESS_DENIED');
      assert.equal(error.failure.retryable, false);
      assert.equal(requestsTo('/localhost-probe').length, 0, 'the server must not receive the request');
    });

    it('refuses non-http schemes even when private egress is allowed', async () => {
      const error = await stepError(allowed.run(context({ url: 'file:///etc/passwd' })));
      assert.equal(error.failure.code, 'EGRESS_DENIED');
      assert.equal(error.failure.retryable, false);
    });

    it('fails with BAD_MAPPING when the url does not resolve to a URL', async () => {
      const error = await stepError(allowed.run(context({ url: '$.input.missing' })));
      assert.equal(error.failure.code, 'BAD_MAPPING');
      assert.equal(error.failure.retryable, false);
    });
  });

  describe('http runner', () => {
    it('returns status and parsed JSON body and sends the idempotency key', async () => {
      const output = await allowed.run(context({ url: `${base}/json-ok` }));
      assert.deepEqual(output, { status: 200, body: { hello: 'world', path: '/json-ok' } });
      const [request] = requestsTo('/json-ok');
      assert.ok(request !== undefined, 'the server received the request');
      assert.equal(request.method, 'GET');
      assert.equal(request.headers['idempotency-key'], 'r:s');
    });

    it('returns a non-JSON body as text', async () => {
      assert.deepEqual(await allowed.run(context({ url: `${base}/text` })), { status: 200, body: 'just text' });
    });

    it('sends an object body as JSON with content-type application/json, resolving mappings', async () => {
      const output = await allowed.run(
        context(
          { url: '{{ $.input.base }}/echo?user={{ $.input.user }}', method: 'post', headers: { 'X-Trace': '$.run.id' }, body: { user: '$.input.user', n: 3, nested: { ok: true } } },
          { scope: { input: { base, user: 'ada' } } },
        ),
      );
      assert.deepEqual(output, { status: 200, body: { hello: 'world', path: '/echo' } });
      const [request] = requestsTo('/echo');
      assert.ok(request !== undefined, 'the server received the request');
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/echo?user=ada');
      assert.match(request.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(request.headers['x-trace'], 'r');
      assert.equal(request.headers['idempotency-key'], 'r:s');
      assert.deepEqual(JSON.parse(request.body), { user: 'ada', n: 3, nested: { ok: true } });
    });

    it('keeps a content-type given in headers', async () => {
      await allowed.run(context({ url: `${base}/custom-type`, method: 'PUT', headers: { 'Content-Type': 'application/vnd.x+json' }, body: { a: 1 } }));
      const [request] = requestsTo('/custom-type');
      assert.ok(request !== undefined);
      assert.equal(request.headers['content-type'], 'application/vnd.x+json');
    });

    it('fails a 500 answer with HTTP_5XX, retryable', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/status/500` })));
      assert.equal(error.failure.code, 'HTTP_5XX');
      assert.equal(error.failure.retryable, true);
    });

    it('fails a 404 answer with HTTP_4XX, not retryable', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/status/404` })));
      assert.equal(error.failure.code, 'HTTP_4XX');
      assert.equal(error.failure.retryable, false);
    });

    it('fails a 429 answer with HTTP_429, retryable', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/status/429` })));
      assert.equal(error.failure.code, 'HTTP_429');
      assert.equal(error.failure.retryable, true);
    });

    it('fails with TIMEOUT when the server does not answer in time', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/hang` }, { timeoutMs: 100, signal: AbortSignal.timeout(100) })));
      assert.equal(error.failure.code, 'TIMEOUT');
      assert.equal(error.failure.retryable, true);
      assert.equal(requestsTo('/hang').length, 1);
    });

    it(
      'fails with TIMEOUT when the body stalls after the headers',
      async () => {
        const error = await stepError(allowed.run(context({ url: `${base}/slow-body` }, { timeoutMs: 300, signal: AbortSignal.timeout(300) })));
        assert.equal(error.failure.code, 'TIMEOUT');
      },
    );

    it('does not follow redirects', async () => {
      const output = (await allowed.run(context({ url: `${base}/redirect` }))) as { status: number };
      assert.equal(output.status, 302);
      assert.equal(requestsTo('/redirect').length, 1);
      assert.equal(requestsTo('/redirect-target').length, 0, 'the redirect target must not be requested');
    });

    it('fails with RESPONSE_TOO_LARGE for a declared length over 1 MiB', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/big` })));
      assert.equal(error.failure.code, 'RESPONSE_TOO_LARGE');
      assert.equal(error.failure.retryable, false);
    });

    it('fails with RESPONSE_TOO_LARGE for a chunked body over 1 MiB', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/big-chunked` })));
      assert.equal(error.failure.code, 'RESPONSE_TOO_LARGE');
    });

    it(
      'stops reading as soon as an undeclared body passes 1 MiB',
      async () => {
        const error = await stepError(allowed.run(context({ url: `${base}/big-stalled` }, { timeoutMs: 1_000, signal: AbortSignal.timeout(1_000) })));
        assert.equal(error.failure.code, 'RESPONSE_TOO_LARGE');
      },
    );
  });

  describe('other runners', () => {
    it('leaves transform and log to the engine, which runs them inline', async () => {
      for (const type of ['transform', 'log'] as const) {
        const error = await stepError(allowed.run(context({ output: 1, message: 'm' }, { type })));
        assert.equal(error.failure.code, 'INTERNAL');
      }
    });

    it('delay reports the resolved wait', async () => {
      assert.deepEqual(await allowed.run(context({ ms: '$.input.wait' }, { type: 'delay', scope: { input: { wait: 250 } } })), { waitedMs: 250 });
    });

    it('waitForEvent cannot be run by a worker', async () => {
      const error = await stepError(allowed.run(context({ event: 'paid' }, { type: 'waitForEvent' })));
      assert.equal(error.failure.code, 'INTERNAL');
      assert.equal(error.failure.retryable, false);
    });
  });
});
