import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createContextTokenCodec, type CallerContext } from '@tansu/platform/context-token';
import { TansuError } from '@tansu/platform/errors';

const CALLER: CallerContext = {
  tenantId: '6f1c2b8e-3d4a-4c5b-9e6f-7a8b9c0d1e2f',
  tenantSlug: 'acme',
  subject: 'user-1',
  roles: ['ADMIN'],
  scopes: ['read', 'write'],
  clientId: 'cli',
};

function isUnauthenticated(error: unknown): boolean {
  return error instanceof TansuError && error.code === 'UNAUTHENTICATED' && error.status === 401;
}

function reencode(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [body, mac] = token.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(payload);
  return `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
}

describe('context token', () => {
  const key = randomBytes(32);

  it('round-trips a caller', () => {
    const codec = createContextTokenCodec(key);
    assert.deepEqual(codec.verify(codec.sign(CALLER)), CALLER);
    const anonymous: CallerContext = { roles: [], scopes: [] };
    assert.deepEqual(codec.verify(codec.sign(anonymous)), anonymous);
  });

  it('refuses a tampered body', () => {
    const codec = createContextTokenCodec(key);
    const token = codec.sign({ ...CALLER, roles: ['VIEWER'] });
    const forged = reencode(token, (payload) => {
      payload.roles = ['OWNER'];
    });
    assert.throws(() => codec.verify(forged), isUnauthenticated);
    // An extended expiry is a tampered body too.
    assert.throws(
      () =>
        codec.verify(
          reencode(token, (payload) => {
            payload.exp = Number(payload.exp) + 3600;
          }),
        ),
      isUnauthenticated,
    );
  });

  it('refuses a tampered mac', () => {
    const codec = createContextTokenCodec(key);
    const [body, mac] = codec.sign(CALLER).split('.') as [string, string];
    const bytes = Buffer.from(mac, 'base64url');
    bytes[0] = bytes[0]! ^ 0xff;
    assert.throws(() => codec.verify(`${body}.${bytes.toString('base64url')}`), isUnauthenticated);
    assert.throws(() => codec.verify(`${body}.${mac.slice(0, -4)}`), isUnauthenticated);
    assert.throws(() => codec.verify(`${body}.`), isUnauthenticated);
  });

  it('refuses a token signed with another key', () => {
    const token = createContextTokenCodec(randomBytes(32)).sign(CALLER);
    assert.throws(() => createContextTokenCodec(key).verify(token), isUnauthenticated);
  });

  it('refuses an expired token', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const codec = createContextTokenCodec(key, () => now);
    const token = codec.sign(CALLER, 60);
    now += 59_000;
    assert.deepEqual(codec.verify(token), CALLER);
    now += 2_000;
    assert.throws(
      () => codec.verify(token),
      (error: unknown) => isUnauthenticated(error) && /expired/i.test((error as Error).message),
    );
  });

  it('refuses a missing or malformed header', () => {
    const codec = createContextTokenCodec(key);
    for (const value of [undefined, '', 'no-dot-at-all', '.startswithdot', '!!!.???']) {
      assert.throws(() => codec.verify(value), isUnauthenticated, `accepted ${String(value)}`);
    }
  });

  it('refuses a correctly signed body that is not JSON', () => {
    const body = Buffer.from('not-json').toString('base64url');
    const mac = createHmac('sha256', key).update(body).digest('base64url');
    assert.throws(() => createContextTokenCodec(key).verify(`${body}.${mac}`), isUnauthenticated);
  });
});

describe('signed client address', () => {
  const key = randomBytes(32);

  it('round-trips, and is refused when forged, stale, or presented as a caller context', () => {
    let now = Date.now();
    const codec = createContextTokenCodec(key, () => now);
    const token = codec.signClient({ ip: '203.0.113.5', userAgent: 'curl/8' });
    assert.deepEqual(codec.verifyClient(token), { ip: '203.0.113.5', userAgent: 'curl/8' });
    assert.equal(createContextTokenCodec(randomBytes(32)).verifyClient(token), undefined);
    assert.equal(
      codec.verifyClient(
        reencode(token, (payload) => {
          payload.ip = '10.0.0.1';
        }),
      ),
      undefined,
    );
    assert.equal(codec.verifyClient(undefined), undefined);
    assert.equal(codec.verifyClient('garbage'), undefined);
    assert.throws(() => codec.verify(token), isUnauthenticated);
    assert.equal(codec.verifyClient(codec.sign(CALLER)), undefined);
    now += 61_000;
    assert.equal(codec.verifyClient(token), undefined);
  });
});
