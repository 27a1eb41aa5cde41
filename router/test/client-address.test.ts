import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { clientAddress } from '@tansu/router/http/client-address';

describe('clientAddress', () => {
  let port: number;
  const seen: { hops: number; address: string | undefined }[] = [];
  let hops = 0;
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ hops, address: clientAddress(req, hops) });
    res.end();
  });

  /** A real request over a socket, with the X-Forwarded-For headers a chain of proxies (or a client) wrote. */
  async function from(forwardedFor: string[], trusted: number): Promise<string | undefined> {
    hops = trusted;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: forwardedFor.length === 0 ? {} : { 'x-forwarded-for': forwardedFor } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    return seen.at(-1)!.address;
  }

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("uses the socket's address when no proxy is trusted, whatever the client writes", async () => {
    assert.equal(await from(['203.0.113.9'], 0), '127.0.0.1');
  });

  it('reads past the trusted proxies only, so a forged leftmost entry changes nothing', async () => {
    // One load balancer: it appended the address it saw (the real client) to what the client sent.
    assert.equal(await from(['6.6.6.6, 198.51.100.7'], 1), '198.51.100.7');
    // Two proxies: the client's address is the second from the right.
    assert.equal(await from(['6.6.6.6, 198.51.100.7, 10.0.0.2'], 2), '198.51.100.7');
    // Several header lines count as one list.
    assert.equal(await from(['6.6.6.6', '198.51.100.7'], 1), '198.51.100.7');
  });

  it('falls back to the socket when a proxy that should be there added nothing', async () => {
    assert.equal(await from([], 1), '127.0.0.1');
    assert.equal(await from(['6.6.6.6'], 2), '127.0.0.1');
  });
});
