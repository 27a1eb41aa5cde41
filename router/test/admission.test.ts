import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallerContext } from '@tansu/platform/context-token';
import { errors } from '@tansu/platform/errors';
import { createAdmission, shareKeyOf, type AdmissionRequest } from '../src/admission/admission.ts';

const CALLER: CallerContext = { tenantId: 't1', tenantSlug: 'acme', subject: 'u1', roles: ['DEVELOPER'], scopes: ['openid'], issuedAt: 1_700_000_000.5 };
const REQUEST: AdmissionRequest = { transport: 'http', counted: true, authorization: [], tenantHeader: undefined, clientIp: '127.0.0.1', userAgent: undefined };

describe('admission', () => {
  it('shares only between callers the subgraphs would see as the same', () => {
    assert.equal(shareKeyOf({ ...CALLER }), shareKeyOf({ ...CALLER }));
    for (const other of [
      { ...CALLER, clientId: 'app' },
      { ...CALLER, scopes: ['openid', 'tansu:read'] },
      { ...CALLER, roles: ['ADMIN'] },
      { ...CALLER, amr: ['pwd', 'mfa'] },
      { ...CALLER, authTime: 1_700_000_000 },
      { ...CALLER, issuedAt: 1_700_000_001 },
      { ...CALLER, subject: 'u2' },
      { ...CALLER, tenantId: 't2' },
    ]) {
      assert.notEqual(shareKeyOf(other), shareKeyOf(CALLER), JSON.stringify(other));
    }
    assert.equal(shareKeyOf({ roles: [], scopes: [] }), 'anonymous');
  });

  it('runs its steps in order and stops at the first refusal', async () => {
    const ran: string[] = [];
    const admission = createAdmission({
      authenticate: async () => CALLER,
      steps: [
        () => void ran.push('first'),
        () => {
          ran.push('second');
          throw errors.forbidden('no');
        },
        () => void ran.push('third'),
      ],
    });
    await assert.rejects(admission.admit(REQUEST), /no/);
    assert.deepEqual(ran, ['first', 'second']);
  });
});
