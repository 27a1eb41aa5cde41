import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decryptSecret, encryptSecret } from '@tansu/platform/crypto/key-encryption';

const PLAINTEXT = '-----BEGIN PRIVATE KEY-----\nnot really a key, but ünïcödé and long enough\n-----END PRIVATE KEY-----\n';

/** Flips one byte of the given part (1 = iv, 2 = tag, 3 = ciphertext) of a sealed secret. */
function flipByte(sealed: string, part: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('key encryption', () => {
  const key = randomBytes(32);

  it('round-trips a secret', () => {
    const sealed = encryptSecret(key, PLAINTEXT);
    assert.ok(sealed.startsWith('v1.'));
    assert.ok(!sealed.includes('PRIVATE KEY'));
    assert.equal(decryptSecret(key, sealed), PLAINTEXT);
    assert.equal(decryptSecret(key, encryptSecret(key, '')), '');
  });

  it('seals the same secret differently every time', () => {
    assert.notEqual(encryptSecret(key, PLAINTEXT), encryptSecret(key, PLAINTEXT));
  });

  it('refuses a tampered ciphertext, tag or iv', () => {
    const sealed = encryptSecret(key, PLAINTEXT);
    for (const part of [1, 2, 3] as const) {
      assert.throws(() => decryptSecret(key, flipByte(sealed, part)), `tampered part ${part} decrypted`);
    }
  });

  it('refuses a truncated tag', () => {
    const parts = encryptSecret(key, PLAINTEXT).split('.');
    parts[2] = Buffer.from(parts[2]!, 'base64url').subarray(0, 4).toString('base64url');
    assert.throws(() => decryptSecret(key, parts.join('.')));
  });

  it('refuses the wrong key', () => {
    const sealed = encryptSecret(key, PLAINTEXT);
    assert.throws(() => decryptSecret(randomBytes(32), sealed));
  });

  it('refuses an unknown format', () => {
    const sealed = encryptSecret(key, PLAINTEXT);
    assert.throws(() => decryptSecret(key, sealed.replace(/^v1\./, 'v2.')), /Unsupported/);
    assert.throws(() => decryptSecret(key, 'v1.abc'), /Unsupported/);
  });
});
