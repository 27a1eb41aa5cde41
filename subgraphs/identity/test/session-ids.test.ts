import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSessionId } from '@tansu/subgraph-identity/sessions/session-store';

describe('session ids', () => {
  it('name a refresh-token family or an issuer grant', () => {
    const family = crypto.randomUUID();
    assert.deepEqual(parseSessionId(`direct:${family}`), { kind: 'DIRECT', familyId: family });
    assert.deepEqual(parseSessionId(`direct:${family.toUpperCase()}`), { kind: 'DIRECT', familyId: family });
    assert.deepEqual(parseSessionId('issuer:Ab_9-x'), { kind: 'ISSUER', grantId: 'Ab_9-x' });
  });

  it('refuse anything else before a query is made', () => {
    for (const id of ['', 'direct:', 'direct:nope', `issuer:${'a'.repeat(129)}`, 'issuer:', "issuer:a' or 1=1", 'grant:abc', crypto.randomUUID(), 42, null]) {
      assert.equal(parseSessionId(id), null, String(id));
    }
  });
});
