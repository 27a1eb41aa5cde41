import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TansuError } from '@tansu/platform/errors';
import { auditFilterMatches, auditRecordOf, checkAuditFilter, type AuditRecord } from '../src/audit-log.ts';

const record: AuditRecord = {
  id: '42',
  at: '2026-03-01T10:00:00.500Z',
  actorId: 'user-1',
  action: 'auth.sign_in',
  target: 'alice@acme.test',
  outcome: 'failure',
  ip: '127.0.0.1',
  userAgent: 'test',
  detail: { reason: 'invalid credentials' },
};

const badInputOn = (field: string) => (error: unknown) => error instanceof TansuError && error.code === 'BAD_USER_INPUT' && error.extensions.field === field;

describe('audit filter', () => {
  it('matches every field given, and anything without one', () => {
    assert.equal(auditFilterMatches(checkAuditFilter(null), record), true);
    assert.equal(auditFilterMatches(checkAuditFilter({ action: 'auth.sign_in', actorId: 'user-1', outcome: 'FAILURE' }), record), true);
    assert.equal(auditFilterMatches(checkAuditFilter({ action: 'auth.sign_up' }), record), false);
    assert.equal(auditFilterMatches(checkAuditFilter({ actorId: 'user-2' }), record), false);
    assert.equal(auditFilterMatches(checkAuditFilter({ outcome: 'success' }), record), false);
  });

  it('keeps since inclusive and until exclusive, as the query does', () => {
    assert.equal(auditFilterMatches(checkAuditFilter({ since: record.at }), record), true);
    assert.equal(auditFilterMatches(checkAuditFilter({ since: '2026-03-01T10:00:00.501Z' }), record), false);
    assert.equal(auditFilterMatches(checkAuditFilter({ until: record.at }), record), false);
    assert.equal(auditFilterMatches(checkAuditFilter({ until: '2026-03-01T10:00:00.501Z' }), record), true);
  });

  it('names the field a bad filter gets wrong', () => {
    assert.throws(() => checkAuditFilter({ outcome: 'MAYBE' }), badInputOn('filter.outcome'));
    assert.throws(() => checkAuditFilter({ since: 'yesterday' }), badInputOn('filter.since'));
    assert.throws(() => checkAuditFilter({ until: '10000-01-01T00:00:00Z' }), badInputOn('filter.until'));
  });
});

describe('audit.recorded payload', () => {
  it('reads back the record it was written from', () => {
    assert.deepEqual(auditRecordOf(JSON.parse(JSON.stringify(record)) as Record<string, unknown>), record);
  });

  it('skips a payload of another shape', () => {
    assert.equal(auditRecordOf({ ...record, outcome: 'maybe' }), undefined);
    assert.equal(auditRecordOf({ ...record, id: 42 }), undefined);
    assert.equal(auditRecordOf({ ...record, detail: [1] }), undefined);
    assert.equal(auditRecordOf({ runId: 'r1', status: 'QUEUED' }), undefined);
  });
});
