import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { describe, it } from 'node:test';
import { endpointAddresses, startupBanner } from '@tansu/platform/lifecycle';

const SIGNALS_CHILD = new URL('./fixtures/signals-child.ts', import.meta.url).pathname;

describe('endpointAddresses', () => {
  it('gives the public URL when it is this router, under any loopback name', () => {
    assert.deepEqual(endpointAddresses('http://localhost:4000', 'http://127.0.0.1:4000'), { endpoint: 'http://localhost:4000/graphql' });
    assert.deepEqual(endpointAddresses('http://127.0.0.1:4000/', 'http://127.0.0.1:4000'), { endpoint: 'http://127.0.0.1:4000/graphql' });
    assert.deepEqual(endpointAddresses('http://[::1]:4000', 'http://localhost:4000'), { endpoint: 'http://[::1]:4000/graphql' });
  });

  it('gives both addresses when the public URL is a proxy, another port or another path', () => {
    for (const publicUrl of ['https://api.example.com', 'http://localhost:8080', 'http://localhost:4000/tansu', 'https://localhost:4000']) {
      assert.deepEqual(endpointAddresses(publicUrl, 'http://127.0.0.1:4000'), { endpoint: `${publicUrl}/graphql`, router: 'http://127.0.0.1:4000/graphql' });
    }
  });
});

describe('startupBanner', () => {
  it('shows the public endpoint, the playground, the generated admin password and how to stop', () => {
    const banner = startupBanner({
      publicUrl: 'http://localhost:4000',
      routerUrl: 'http://127.0.0.1:4000',
      playground: true,
      admin: { email: 'admin@tansu.local', generatedPassword: 'pw-123' },
    });
    assert.match(banner, /GraphQL endpoint +http:\/\/localhost:4000\/graphql\n/);
    assert.match(banner, /Playground +http:\/\/localhost:4000\/graphql {2}\(open it in a browser\)/);
    assert.match(banner, /Platform admin +admin@tansu\.local \/ pw-123 {2}\(shown once;/);
    assert.match(banner, /Console +http:\/\/localhost:4000\/console\/ {2}\(sign in with a tenant's name/);
    assert.match(banner, /Press Ctrl-C to stop\./);
    assert.doesNotMatch(banner, /127\.0\.0\.1/);
  });

  it('on later starts leaves out the admin and, without a playground, the playground', () => {
    const banner = startupBanner({ publicUrl: 'http://localhost:4000', routerUrl: 'http://127.0.0.1:4000', playground: false, admin: {} });
    assert.doesNotMatch(banner, /Platform admin|Playground/);
  });

  it('never prints a password it did not generate', () => {
    const banner = startupBanner({
      publicUrl: 'http://localhost:4000',
      routerUrl: 'http://127.0.0.1:4000',
      playground: true,
      admin: { email: 'me@example.com' },
    });
    assert.match(banner, /Platform admin +me@example\.com {2}\(password from TANSU_ADMIN_PASSWORD\)/);
  });

  it('labels both addresses when PUBLIC_URL is elsewhere', () => {
    const banner = startupBanner({ publicUrl: 'https://api.example.com', routerUrl: 'http://127.0.0.1:4000', playground: true });
    assert.match(banner, /GraphQL endpoint +https:\/\/api\.example\.com\/graphql {2}\(PUBLIC_URL/);
    assert.match(banner, /This router +http:\/\/127\.0\.0\.1:4000\/graphql {2}\(direct/);
    assert.match(banner, /Playground +https:\/\/api\.example\.com\/graphql/);
  });
});

describe('stopOnSignals', () => {
  async function run(mode: 'stop' | 'hang', signals: number): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, [SIGNALS_CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters: { text: string; resolve(): void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out += stripVTControlCharacters(chunk.toString());
      for (const waiter of waiters.filter((w) => out.includes(w.text))) waiter.resolve();
    });
    const seen = (text: string) => new Promise<void>((resolve) => (out.includes(text) ? resolve() : waiters.push({ text, resolve })));
    const exited = once(child, 'exit');
    await seen('ready');
    child.kill('SIGINT');
    if (signals === 2) {
      await seen('stopping');
      child.kill('SIGINT');
    }
    const [code] = (await exited) as [number | null];
    return { code, out };
  }

  it('logs one "stopping" and one "stopped" line, then exits 0', async () => {
    const { code, out } = await run('stop', 1);
    assert.equal(code, 0);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3, out);
    assert.match(lines[1] ?? '', /INFO: fixture: stopping/);
    assert.match(lines[2] ?? '', /INFO: fixture: stopped$/);
  });

  it('exits at once on a second signal while a stop hangs', async () => {
    const { code, out } = await run('hang', 2);
    assert.equal(code, 1);
    assert.doesNotMatch(out, /stopped/);
  });
});
