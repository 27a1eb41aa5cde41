import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const ctx = useTestStack();
const ORIGIN = 'http://tansu.test';

const START_REGISTRATION = 'mutation { startPasskeyRegistration { challengeId options } }';
const FINISH_REGISTRATION = 'mutation($i: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $i) { factor { id kind name } recoveryCodes } }';
const START = 'mutation($i: StartPasskeySignInInput!) { startPasskeySignIn(input: $i) { challengeId options } }';
const FINISH = 'mutation($i: FinishPasskeySignInInput!) { finishPasskeySignIn(input: $i) { accessToken user { id } } }';

interface Options {
  challengeId: string;
  options: string;
}

describe('passkeys (WebAuthn)', () => {
  let seed: TwoTenants;
  const laptop = new SoftAuthenticator(ORIGIN);

  const start = async (tenant: string, mfaToken?: string) =>
    dataOf(await gql<{ startPasskeySignIn: Options }>(ctx.stack.graphqlUrl, START, { variables: { i: { tenant, mfaToken } } })).startPasskeySignIn;
  const finish = (tenant: string, challengeId: string, response: string, mfaToken?: string) =>
    gql<{ finishPasskeySignIn: { accessToken: string; user: { id: string } } }>(ctx.stack.graphqlUrl, FINISH, {
      variables: { i: { tenant, challengeId, response, mfaToken } },
    });

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
    await setRole(ctx.stack.graphqlUrl, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
  });

  it('registers a passkey for a signed-in user, with recovery codes as the first factor', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    const started = dataOf(await gql<{ startPasskeyRegistration: Options }>(url, START_REGISTRATION, { token })).startPasskeyRegistration;
    const options = JSON.parse(started.options) as { rp: { id: string; name: string }; user: { name: string } };
    assert.deepEqual({ rp: options.rp, user: options.user.name }, { rp: { id: 'tansu.test', name: 'Acme Corp' }, user: 'alice@acme.test' });
    const registered = dataOf(
      await gql<{ finishPasskeyRegistration: { factor: { kind: string; name: string }; recoveryCodes: string[] } }>(url, FINISH_REGISTRATION, {
        token,
        variables: { i: { challengeId: started.challengeId, response: laptop.create(started.options), name: 'Laptop' } },
      }),
    ).finishPasskeyRegistration;
    assert.deepEqual(registered.factor, { ...registered.factor, kind: 'WEBAUTHN', name: 'Laptop' });
    assert.equal(registered.recoveryCodes.length, 10);
    // The same request cannot register a second key.
    expectError(
      await gql(url, FINISH_REGISTRATION, {
        token,
        variables: { i: { challengeId: started.challengeId, response: new SoftAuthenticator(ORIGIN).create(started.options) } },
      }),
      'TOKEN_ALREADY_USED',
    );
  });

  it('signs in without a password, once per challenge, and the session passes step-up', async () => {
    const started = await start('acme');
    assert.equal((JSON.parse(started.options) as { userVerification: string }).userVerification, 'required');
    const response = laptop.get(started.options);
    const session = dataOf(await finish('acme', started.challengeId, response)).finishPasskeySignIn;
    assert.equal(session.user.id, seed.alice.user.id);
    assert.deepEqual(decodeJwt(session.accessToken).amr, ['hwk', 'user', 'mfa']);
    expectError(await finish('acme', started.challengeId, response), 'TOKEN_ALREADY_USED');
    dataOf(await gql(ctx.stack.graphqlUrl, 'mutation { regenerateRecoveryCodes }', { token: session.accessToken }));
  });

  it('refuses a wrong origin, a passkey that did not verify the user, a cloned key and another tenant', async () => {
    let started = await start('acme');
    expectError(
      await finish('acme', started.challengeId, new SoftAuthenticator('http://evil.test').get(started.options, { credential: laptop.credentials[0] })),
      'UNAUTHENTICATED',
    );
    started = await start('acme');
    expectError(await finish('acme', started.challengeId, laptop.get(started.options, { userVerified: false })), 'UNAUTHENTICATED');
    started = await start('acme');
    const clone = { ...laptop.credentials[0]!, counter: 0 };
    expectError(await finish('acme', started.challengeId, laptop.get(started.options, { credential: clone })), 'UNAUTHENTICATED');
    // Globex shares the platform's relying party but not acme's keys.
    started = await start('globex');
    expectError(await finish('globex', started.challengeId, laptop.get(started.options)), 'UNAUTHENTICATED');
    expectError(await finish('acme', '00000000-0000-0000-0000-000000000000', laptop.get(started.options)), 'TOKEN_INVALID');
    expectError(await finish('acme', (await start('acme')).challengeId, '{"not":"a credential"}'), 'BAD_USER_INPUT');
  });

  it('serves as the second step after a password', async () => {
    const url = ctx.stack.graphqlUrl;
    const refused = expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'alice-password' } },
      }),
      'MFA_REQUIRED',
    );
    const mfaToken = String(refused.extensions?.mfaToken);
    const started = await start('acme', mfaToken);
    const allowed = (JSON.parse(started.options) as { allowCredentials: { id: string }[] }).allowCredentials.map((c) => c.id);
    assert.deepEqual(allowed, [laptop.credentials[0]!.id.toString('base64url')]);
    const session = dataOf(await finish('acme', started.challengeId, laptop.get(started.options), mfaToken)).finishPasskeySignIn;
    assert.deepEqual(decodeJwt(session.accessToken).amr, ['pwd', 'hwk', 'mfa']);
    expectError(
      await gql(url, 'mutation($i: VerifyMfaInput!) { verifyMfa(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', mfaToken, code: '123456' } },
      }),
      'TOKEN_ALREADY_USED',
    );
  });

  it("uses the tenant's own relying party and origins once it sets them", async () => {
    const url = ctx.stack.graphqlUrl;
    const first = await start('acme');
    const session = dataOf(await finish('acme', first.challengeId, laptop.get(first.options))).finishPasskeySignIn;
    const update = 'mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { settings { passkeyRpId passkeyOrigins } } }';
    expectError(await gql(url, update, { token: session.accessToken, variables: { i: { passkeyOrigins: ['ftp://app.acme.test'] } } }), 'BAD_USER_INPUT');
    expectError(await gql(url, update, { token: session.accessToken, variables: { i: { passkeyRpId: 'not a domain' } } }), 'BAD_USER_INPUT');
    const settings = dataOf(
      await gql<{ updateTenantSettings: { settings: { passkeyRpId: string; passkeyOrigins: string[] } } }>(url, update, {
        token: session.accessToken,
        variables: { i: { passkeyRpId: 'acme.test', passkeyOrigins: ['https://app.acme.test'] } },
      }),
    ).updateTenantSettings.settings;
    assert.deepEqual(settings, { passkeyRpId: 'acme.test', passkeyOrigins: ['https://app.acme.test'] });

    // The app's origin now registers and signs in; the platform's origin no longer does.
    const phone = new SoftAuthenticator('https://app.acme.test');
    const registration = dataOf(
      await gql<{ startPasskeyRegistration: Options }>(url, START_REGISTRATION, { token: session.accessToken }),
    ).startPasskeyRegistration;
    assert.equal((JSON.parse(registration.options) as { rp: { id: string } }).rp.id, 'acme.test');
    dataOf(
      await gql(url, FINISH_REGISTRATION, {
        token: session.accessToken,
        variables: { i: { challengeId: registration.challengeId, response: phone.create(registration.options), name: 'Phone' } },
      }),
    );
    const started = await start('acme');
    assert.equal(dataOf(await finish('acme', started.challengeId, phone.get(started.options))).finishPasskeySignIn.user.id, seed.alice.user.id);
    const old = await start('acme');
    expectError(
      await finish(
        'acme',
        old.challengeId,
        laptop.get(old.options.replace('"rpId":"acme.test"', '"rpId":"tansu.test"'), { credential: laptop.credentials[0] }),
      ),
      'UNAUTHENTICATED',
    );
  });
});
