import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '@tansu/platform/errors';
import { PLATFORM_ERROR_CODES } from '../src/errors.ts';

// The SDK ships without the server's code, so it keeps its own list: this keeps the two equal.
describe("the SDK's error codes", () => {
  it('are exactly the codes the platform answers with', () => {
    assert.deepEqual([...PLATFORM_ERROR_CODES].sort(), [...ERROR_CODES].sort());
  });
});
