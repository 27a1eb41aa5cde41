import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { issuedBefore } from '@tansu/tenant-core/contracts/session-revocations';
import { signAccessToken, type AccessTokenClaims } from '@tansu/subgraph-identity/tokens';

const key = { kid: 'test-key', alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey };

function claims(authTime: Date): AccessTokenClaims {
  return {
    issuer: 'http://tansu.test/identity/acme',
    audience: 'tansu',
    subject: '00000000-0000-4000-8000-000000000001',
    tenantId: '00000000-0000-4000-8000-000000000002',
    tenantSlug: 'acme',
    roles: ['VIEWER'],
    scope: 'openid',
    ttlSeconds: 900,
    amr: ['pwd'],
    authTime,
  };
}

describe('access tokens identity signs', () => {
  it('carry iat to the millisecond, and exp and auth_time in whole seconds', async () => {
    const now = new Date('2030-01-01T12:00:00.437Z');
    const payload = decodeJwt(await signAccessToken(key, claims(new Date('2030-01-01T11:59:58.900Z')), now));
    assert.equal(payload.iat, now.getTime() / 1000);
    assert.equal(payload.exp, Math.floor(now.getTime() / 1000) + 900);
    assert.equal(payload.auth_time, Math.floor(Date.parse('2030-01-01T11:59:58.900Z') / 1000));
  });

  it('are issued at the moment of signing, to the millisecond', async () => {
    const before = Date.now();
    const payload = decodeJwt(await signAccessToken(key, claims(new Date())));
    const after = Date.now();
    const issuedMs = Math.round(Number(payload.iat) * 1000);
    assert.ok(issuedMs >= before && issuedMs <= after, `iat ${payload.iat} is not between ${before} and ${after}`);
  });

  it('issued later in the same second as a revocation are not taken for earlier ones', async () => {
    const revokedAtMs = Date.parse('2030-01-01T12:00:00.300Z');
    const later = decodeJwt(await signAccessToken(key, claims(new Date(revokedAtMs)), new Date(revokedAtMs + 400)));
    const earlier = decodeJwt(await signAccessToken(key, claims(new Date(revokedAtMs)), new Date(revokedAtMs - 200)));
    assert.equal(issuedBefore(later.iat, revokedAtMs), false);
    assert.equal(issuedBefore(earlier.iat, revokedAtMs), true);
  });
});
