import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TansuError, createTansuClient, graphql } from '@tansu/client';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';
import { nextTotp } from '../../../tests/support/mfa.ts';
import { useTestStack } from '../../../tests/support/test-stack.ts';

const ctx = useTestStack();

// Rotating the tenant's signing key is one of the operations that need a recent second factor.
const ROTATE = graphql(`
  mutation SdkRotateSigningKey {
    rotateSigningKey {
      activeKid
    }
  }
`);

describe('second factors through the typed client', () => {
  before(async () => {
    const seed = await seedTwoTenants(ctx.stack.graphqlUrl);
    await setRole(ctx.stack.graphqlUrl, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
  });

  it('sets up an authenticator, and steps up an older session for a sensitive operation', async () => {
    const url = ctx.stack.graphqlUrl;
    // Signed in with the password alone, before any factor existed.
    const older = createTansuClient({ url, tenant: 'acme' });
    await older.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    const refused = await older.request(ROTATE).catch((error: unknown) => error);
    assert.ok(refused instanceof TansuError, String(refused));
    assert.equal(refused.code, 'MFA_REQUIRED');
    assert.equal(refused.extensions.stepUp, true);
    const noFactor = await older.auth.stepUp('123456').catch((error: unknown) => error);
    assert.ok(noFactor instanceof TansuError && noFactor.code === 'MFA_REQUIRED' && noFactor.extensions.enroll === true, String(noFactor));

    // Another device sets up the authenticator; its session continues as proven by it.
    const phone = createTansuClient({ url, tenant: 'acme' });
    await phone.auth.signIn({ email: 'alice@acme.test', password: 'alice-password' });
    const enrollment = await phone.auth.enrollTotp({ name: 'Phone' });
    assert.match(enrollment.uri, /^otpauth:\/\/totp\//);
    const confirmed = await phone.auth.confirmTotp({ factorId: enrollment.factorId, code: await nextTotp(enrollment.secret) });
    assert.equal(confirmed.recoveryCodes.length, 10);
    assert.equal((await phone.auth.session())?.accessToken, confirmed.session.accessToken);
    assert.ok((await phone.request(ROTATE)).rotateSigningKey.activeKid.length > 0);

    // The older session is still refused until it proves the factor; a wrong code changes nothing.
    const wrong = await older.auth.stepUp('000000').catch((error: unknown) => error);
    assert.ok(wrong instanceof TansuError && wrong.code === 'BAD_USER_INPUT', String(wrong));
    assert.equal(((await older.request(ROTATE).catch((error: unknown) => error)) as TansuError).code, 'MFA_REQUIRED');
    const stepped = await older.auth.stepUp(await nextTotp(enrollment.secret));
    assert.equal((await older.auth.session())?.accessToken, stepped.accessToken);
    assert.ok((await older.request(ROTATE)).rotateSigningKey.activeKid.length > 0);
    older.close();
    phone.close();
  });
});
