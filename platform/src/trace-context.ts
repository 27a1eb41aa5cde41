import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context: the router continues a caller's trace (or starts one) and passes it
 * on, so every service's log lines carry the same `traceId`.
 */
export interface TraceContext {
  traceId: string;
  /** The `traceparent` value to send downstream: same trace, a new parent span. */
  traceparent: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function traceFrom(header: string | string[] | undefined): TraceContext {
  const match = typeof header === 'string' ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  const valid = match !== null && match[1] !== ZERO_TRACE && match[2] !== ZERO_SPAN;
  const traceId = valid ? match[1]! : randomBytes(16).toString('hex');
  const flags = valid ? match[3]! : '01';
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}` };
}
