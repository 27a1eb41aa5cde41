import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traceFrom } from '@tansu/platform/trace-context';

describe('trace context', () => {
  it('continues a valid traceparent with a new parent span', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const trace = traceFrom(incoming);
    assert.equal(trace.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.match(trace.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    assert.notEqual(trace.traceparent, incoming);
  });

  it('starts a new trace for a missing, malformed or all-zero header', () => {
    for (const header of [undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', ['a', 'b']]) {
      const trace = traceFrom(header);
      assert.match(trace.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(trace.traceId, '0'.repeat(32));
      assert.match(trace.traceparent, new RegExp(`^00-${trace.traceId}-[0-9a-f]{16}-01$`));
    }
  });
});
