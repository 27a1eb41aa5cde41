import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuedBefore } from '../src/contracts/session-revocations.ts';

describe('session revocation', () => {
  const at = 1_700_000_000_500; // half a second into 1_700_000_000

  it('places tokens with milliseconds exactly', () => {
    assert.equal(issuedBefore(1_700_000_000.499, at), true);
    assert.equal(issuedBefore(1_700_000_000.501, at), false);
  });

  it('refuses a whole-second token from the very second of the revocation, which it cannot place', () => {
    assert.equal(issuedBefore(1_699_999_999, at), true);
    assert.equal(issuedBefore(1_700_000_000, at), true);
    assert.equal(issuedBefore(1_700_000_001, at), false);
  });

  it('refuses a token that does not say when it was issued', () => {
    assert.equal(issuedBefore(undefined, at), true);
  });
});
