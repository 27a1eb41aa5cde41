import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConsoleFiles } from '@tansu/router/console/console-files';

describe("the console's files", () => {
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tansu-console-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'dist', 'assets', 'app-1234.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'not for the web');
    const files = createConsoleFiles({ dir: join(dir, 'dist') });
    server = createServer((req, res) => void files.handle(req, res, (req.url ?? '/').split('?')[0]!));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the app page for every screen, never cached, never framed', async () => {
    for (const path of ['/console/', '/console/runs/42', '/console/tenants']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(await response.text(), '<!doctype html><title>console</title>');
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    }
    const bare = await fetch(`${base}/console`, { redirect: 'manual' });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get('location'), '/console/');
  });

  it('serves hashed assets for a year, and nothing outside its folder', async () => {
    const asset = await fetch(`${base}/console/assets/app-1234.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /text\/javascript/);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${base}/console/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${base}/console/assets/..%2F..%2Fsecret.txt`)).status, 404);
    assert.equal((await fetch(`${base}/console/assets/%E0%A4%A`)).status, 400);
    assert.equal((await fetch(`${base}/console/`, { method: 'POST' })).status, 405);
  });

  it('says how to build it when it is not built', async () => {
    const files = createConsoleFiles({ dir: join(dir, 'nowhere') });
    const empty = createServer((req, res) => void files.handle(req, res, (req.url ?? '/').split('?')[0]!));
    await new Promise<void>((resolve) => empty.listen(0, '127.0.0.1', resolve));
    const response = await fetch(`http://127.0.0.1:${(empty.address() as AddressInfo).port}/console/`);
    assert.equal(response.status, 503);
    assert.match(await response.text(), /npm run build:console/);
    await new Promise((resolve) => empty.close(resolve));
  });
});
