import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Json, MappingScope } from '@tansu/subgraph-workflow/definitions/mapping';
import type { StepDefinition } from '@tansu/subgraph-workflow/definitions/workflow-definition';
import { isBlockedAddress } from '@tansu/platform/http/egress';
import { createStepRunners, StepError, type StepContext } from '@tansu/subgraph-workflow/engine/step-runners';

describe('isBlockedAddress', () => {
  // [address, why]: every range that is not globally reachable unicast, at both ends.
  const blocked: [string, string][] = [
    ['0.0.0.0', 'this network'],
    ['0.255.255.255', 'this network, last'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private, last'],
    ['100.64.0.0', 'shared address space'],
    ['100.127.255.255', 'shared address space, last'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local metadata'],
    ['169.254.0.0', 'link-local, first'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private, last'],
    ['192.0.0.0', 'IETF protocol assignments'],
    ['192.0.0.8', 'IPv4 dummy address'],
    ['192.0.0.9', 'PCP anycast'],
    ['192.0.0.170', 'NAT64 discovery'],
    ['192.0.0.255', 'IETF protocol assignments, last'],
    ['192.0.2.0', 'TEST-NET-1'],
    ['192.0.2.255', 'TEST-NET-1, last'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.1.1', 'private'],
    ['192.168.255.255', 'private, last'],
    ['198.18.0.0', 'benchmarking'],
    ['198.19.255.255', 'benchmarking, last'],
    ['198.51.100.0', 'TEST-NET-2'],
    ['198.51.100.255', 'TEST-NET-2, last'],
    ['203.0.113.0', 'TEST-NET-3'],
    ['203.0.113.255', 'TEST-NET-3, last'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast, last'],
    ['240.0.0.0', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'limited broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback, long form'],
    ['0::1', 'loopback, other spelling'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback in hex'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata in hex'],
    ['::ffff:a00:1', 'IPv4-mapped private in hex'],
    ['0:0:0:0:0:ffff:c000:201', 'IPv4-mapped TEST-NET-1, long form'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::8.8.8.8', 'IPv4-compatible, refused whatever it embeds'],
    ['::7f00:1', 'IPv4-compatible loopback in hex'],
    ['::ffff:0:8.8.8.8', 'IPv4-translated (SIIT)'],
    ['64:ff9b::127.0.0.1', 'NAT64 to loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 to metadata, in hex'],
    ['64:ff9b::10.1.2.3', 'NAT64 to private'],
    ['64:ff9b::100.64.0.1', 'NAT64 to shared address space'],
    ['64:ff9b:1::8.8.8.8', 'local-use NAT64, refused whatever it embeds'],
    ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'local-use NAT64, last'],
    ['64:ff9b::1:0:0', 'beside the NAT64 /96 (64:ff9b::/32 outside it)'],
    ['100::1', 'discard-only'],
    ['100:0:0:1::1', 'dummy prefix'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo with an embedded server and client'],
    ['2001:1::1', 'PCP anycast'],
    ['2001:2::1', 'benchmarking'],
    ['2001:3::1', 'AMT'],
    ['2001:10::1', 'ORCHID'],
    ['2001:20::1', 'ORCHIDv2'],
    ['2001:30::1', 'drone entity tags'],
    ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', 'IETF protocol assignments, last'],
    ['2001:db8::1', 'documentation'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation, last'],
    ['2002::1', '6to4'],
    ['2002:7f00:1::1', '6to4 embedding loopback'],
    ['2002:808:808::1', '6to4, refused whatever it embeds'],
    ['3fff::1', 'documentation (3fff::/20)'],
    ['3fff:fff:ffff::1', 'documentation (3fff::/20), last'],
    ['5f00::1', 'SRv6 SIDs'],
    ['4000::1', 'unallocated'],
    ['1fff:ffff::1', 'unallocated, just below 2000::/3'],
    ['fc00::1', 'unique local'],
    ['fd12::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['FE80::abcd', 'link-local, upper case'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['2606:4700::1111%1', 'a zone id on a global address'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'global multicast'],
  ];
  const allowed: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['1.0.0.0', 'just after 0/8'],
    ['9.255.255.255', 'just before 10/8'],
    ['11.0.0.1', 'just after 10/8'],
    ['100.63.255.255', 'just before 100.64/10'],
    ['100.128.0.1', 'just after 100.64/10'],
    ['126.255.255.255', 'just before 127/8'],
    ['169.253.255.255', 'just before 169.254/16'],
    ['172.15.255.255', 'just before 172.16/12'],
    ['172.32.0.1', 'just after 172.16/12'],
    ['191.255.255.255', 'just before 192.0.0/24'],
    ['192.0.1.1', 'between 192.0.0/24 and 192.0.2/24'],
    ['192.0.3.1', 'just after 192.0.2/24'],
    ['192.31.196.1', 'AS112 (globally reachable)'],
    ['192.88.98.255', 'just before 192.88.99/24'],
    ['192.167.255.255', 'just before 192.168/16'],
    ['192.169.0.0', 'just after 192.168/16'],
    ['193.168.1.1', 'public'],
    ['198.17.255.255', 'just before 198.18/15'],
    ['198.20.0.0', 'just after 198.18/15'],
    ['198.51.99.255', 'just before 198.51.100/24'],
    ['198.51.101.0', 'just after 198.51.100/24'],
    ['203.0.112.255', 'just before 203.0.113/24'],
    ['203.0.114.0', 'just after 203.0.113/24'],
    ['223.255.255.255', 'just before multicast'],
    ['2606:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['2001:200::1', 'just after 2001::/23'],
    ['2001:db7:ffff::1', 'just before 2001:db8::/32'],
    ['2001:db9::1', 'just after 2001:db8::/32'],
    ['2003::1', 'just after 2002::/16'],
    ['2000::1', 'first of 2000::/3'],
    ['3ffe:ffff::1', 'just before 3fff::/20'],
    ['3fff:1000::1', 'just after 3fff::/20'],
    ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'last of 2000::/3'],
    ['2620:4f:8000::1', 'AS112 direct delegation (globally reachable)'],
    ['::ffff:8.8.8.8', 'IPv4-mapped public'],
    ['::ffff:808:808', 'IPv4-mapped public in hex'],
    ['64:ff9b::8.8.8.8', 'NAT64 to a public address'],
    ['64:ff9b::101:101', 'NAT64 to a public address, in hex'],
  ];

  it('blocks every address that is not globally reachable unicast', () => {
    assert.deepEqual(
      blocked.filter(([address]) => !isBlockedAddress(address)),
      [],
    );
  });

  it('allows globally reachable unicast, also right beside blocked ranges', () => {
    assert.deepEqual(
      allowed.filter(([address]) => isBlockedAddress(address)),
      [],
    );
  });

  it('blocks anything that is not an IP address', () => {
    for (const value of ['not-an-ip', '', 'localhost', '127.0.0.1.nip.io', '256.1.1.1', '[::1]', '010.0.0.1', '0x7f.0.0.1', '2130706433', '1.2.3'])
      assert.equal(isBlockedAddress(value), true, value);
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const RETRY = { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, backoffFactor: 1, nonRetryable: [] };

function context(
  config: Record<string, Json>,
  options: { type?: StepDefinition['type']; timeoutMs?: number; signal?: AbortSignal; scope?: Partial<MappingScope> } = {},
): StepContext {
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
    it('refuses a literal loopback IP when private egress is not allowed', async () => {
      const error = await stepError(denied.run(context({ url: `${base}/ip-literal-probe` })));
      assert.equal(error.failure.code, 'EGRESS_DENIED');
      assert.equal(error.failure.retryable, false);
      assert.equal(requestsTo('/ip-literal-probe').length, 0, 'the server must not receive the request');
    });

    it('refuses a literal IPv6 loopback when private egress is not allowed', async () => {
      const port = new URL(base).port;
      const error = await stepError(denied.run(context({ url: `http://[::1]:${port}/ipv6-literal-probe` })));
      assert.equal(error.failure.code, 'EGRESS_DENIED');
    });

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
          {
            url: '{{ $.input.base }}/echo?user={{ $.input.user }}',
            method: 'post',
            headers: { 'X-Trace': '$.run.id' },
            body: { user: '$.input.user', n: 3, nested: { ok: true } },
          },
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

    it('fails with BAD_MAPPING, not retryable, when a header resolves to a value no request can carry', async () => {
      for (const value of ['a\r\nX-Injected: 1', '日本']) {
        const error = await stepError(
          allowed.run(context({ url: `${base}/bad-header`, headers: { 'X-Name': '{{ $.input.name }}' } }, { scope: { input: { name: value } } })),
        );
        assert.equal(error.failure.code, 'BAD_MAPPING', value);
        assert.equal(error.failure.retryable, false);
      }
      assert.equal(requestsTo('/bad-header').length, 0, 'nothing is sent');
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

    it('fails with TIMEOUT when the body stalls after the headers', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/slow-body` }, { timeoutMs: 300, signal: AbortSignal.timeout(300) })));
      assert.equal(error.failure.code, 'TIMEOUT');
    });

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

    it('stops reading as soon as an undeclared body passes 1 MiB', async () => {
      const error = await stepError(allowed.run(context({ url: `${base}/big-stalled` }, { timeoutMs: 1_000, signal: AbortSignal.timeout(1_000) })));
      assert.equal(error.failure.code, 'RESPONSE_TOO_LARGE');
    });
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
