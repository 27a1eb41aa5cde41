import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { mintAccessToken } from '../support/tokens.ts';
import { dataOf, expectError, gql, signIn, type AuthPayload } from '../support/graphql-client.ts';
import { nextTotp, signInWithTotp } from '../support/mfa.ts';

const ctx = useTestStack();

const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
const VERIFY = 'mutation($i: VerifyMfaInput!) { verifyMfa(input: $i) { accessToken refreshToken } }';
const REVEAL = 'mutation($id: ID!) { revealClientSecret(clientId: $id) }';
const STEP_UP = 'mutation($c: String!) { stepUp(code: $c) { accessToken } }';

describe('second factors and step-up', () => {
  let seed: TwoTenants;
  let secret: string;
  let recoveryCodes: string[];
  let factorId: string;
  let bobSecret: string;

  /** A full sign-in with a recovery code (an authenticator gives only three usable codes per half minute). */
  async function signInWithRecovery(index: number): Promise<AuthPayload> {
    const token = await mfaToken('acme', 'alice@acme.test', 'alice-password');
    return dataOf(
      await gql<{ verifyMfa: AuthPayload }>(ctx.stack.graphqlUrl, VERIFY, {
        variables: { i: { tenant: 'acme', mfaToken: token, code: recoveryCodes[index]! } },
      }),
    ).verifyMfa;
  }

  async function mfaToken(tenant: string, email: string, password: string): Promise<string> {
    const refused = expectError(await gql(ctx.stack.graphqlUrl, SIGN_IN, { variables: { i: { tenant, email, password } } }), 'MFA_REQUIRED');
    assert.equal(typeof refused.extensions?.mfaToken, 'string');
    return String(refused.extensions?.mfaToken);
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
  });

  it('sets up an authenticator app with a code from it, and gives ten recovery codes once', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    const enrollment = dataOf(
      await gql<{ enrollTotp: { factorId: string; secret: string; uri: string } }>(
        url,
        'mutation { enrollTotp(input: { name: "Phone" }) { factorId secret uri } }',
        { token },
      ),
    ).enrollTotp;
    assert.match(enrollment.uri, /^otpauth:\/\/totp\/Acme%20Corp:alice%40acme\.test\?/);
    assert.match(enrollment.uri, new RegExp(`secret=${enrollment.secret}`));
    const confirm = 'mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes session { accessToken } } }';
    expectError(await gql(url, confirm, { token, variables: { i: { factorId: enrollment.factorId, code: '000000' } } }), 'BAD_USER_INPUT');
    assert.deepEqual(
      dataOf(await gql<{ mfaFactors: unknown[] }>(url, '{ mfaFactors { id } }', { token })).mfaFactors,
      [],
      'an unconfirmed factor does not count',
    );

    const confirmed = dataOf(
      await gql<{ confirmTotp: { recoveryCodes: string[]; session: { accessToken: string } } }>(url, confirm, {
        token,
        variables: { i: { factorId: enrollment.factorId, code: await nextTotp(enrollment.secret) } },
      }),
    ).confirmTotp;
    assert.equal(confirmed.recoveryCodes.length, 10);
    assert.equal(new Set(confirmed.recoveryCodes).size, 10);
    const claims = decodeJwt(confirmed.session.accessToken);
    assert.deepEqual(claims.amr, ['pwd', 'mfa']);
    const factors = dataOf(
      await gql<{ mfaFactors: { id: string; kind: string; name: string }[] }>(url, '{ mfaFactors { id kind name } }', { token }),
    ).mfaFactors;
    assert.deepEqual(factors, [{ id: enrollment.factorId, kind: 'TOTP', name: 'Phone' }]);
    const stored = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute<{ secret_sealed: string }[]>(`select secret_sealed from identity.mfa_factors`),
    );
    assert.ok(!stored[0]!.secret_sealed.includes(enrollment.secret), 'the secret is sealed at rest');
    expectError(await gql(url, 'mutation { enrollTotp { factorId } }', { token }), 'MFA_REQUIRED');
    secret = enrollment.secret;
    recoveryCodes = confirmed.recoveryCodes;
    factorId = enrollment.factorId;
  });

  it('asks for the second factor at sign-in; wrong, replayed and foreign codes are refused', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = await mfaToken('acme', 'alice@acme.test', 'alice-password');
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'globex', mfaToken: token, code: '123456' } } }), 'TOKEN_INVALID');
    const wrong = expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: token, code: '123456' } } }), 'BAD_USER_INPUT');
    assert.match(wrong.message, /4 attempts left/);
    const code = await nextTotp(secret);
    const session = dataOf(
      await gql<{ verifyMfa: { accessToken: string; refreshToken: string } }>(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: token, code } } }),
    ).verifyMfa;
    assert.deepEqual(decodeJwt(session.accessToken).amr, ['pwd', 'mfa']);
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: token, code } } }), 'TOKEN_ALREADY_USED');

    // The same code again, in a new sign-in: a replay.
    const second = await mfaToken('acme', 'alice@acme.test', 'alice-password');
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: second, code } } }), 'BAD_USER_INPUT');

    // A refresh keeps how the session was proven.
    const refreshed = dataOf(
      await gql<{ refreshToken: { accessToken: string } }>(url, 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', refreshToken: session.refreshToken } },
      }),
    ).refreshToken;
    assert.deepEqual(decodeJwt(refreshed.accessToken).amr, ['pwd', 'mfa']);
    assert.equal(decodeJwt(refreshed.accessToken).auth_time, decodeJwt(session.accessToken).auth_time);
  });

  it('ends a sign-in attempt after five wrong codes', async () => {
    const url = ctx.stack.graphqlUrl;
    const token = await mfaToken('acme', 'alice@acme.test', 'alice-password');
    for (let i = 0; i < 5; i++)
      expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: token, code: '000001' } } }), 'BAD_USER_INPUT');
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: token, code: recoveryCodes[9]! } } }), 'TOKEN_ALREADY_USED');
  });

  it('accepts each recovery code once', async () => {
    const url = ctx.stack.graphqlUrl;
    const code = recoveryCodes[0]!;
    dataOf(
      await gql(url, VERIFY, {
        variables: { i: { tenant: 'acme', mfaToken: await mfaToken('acme', 'alice@acme.test', 'alice-password'), code: code.toUpperCase() } },
      }),
    );
    expectError(
      await gql(url, VERIFY, { variables: { i: { tenant: 'acme', mfaToken: await mfaToken('acme', 'alice@acme.test', 'alice-password'), code } } }),
      'BAD_USER_INPUT',
    );
  });

  it('asks sensitive operations for a second factor proven in the last ten minutes (step-up)', async () => {
    const url = ctx.stack.graphqlUrl;
    const session = await signInWithRecovery(2);
    const created = dataOf(
      await gql<{ createClient: { client: { clientId: string }; clientSecret: string } }>(
        url,
        'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } clientSecret } }',
        {
          token: session.accessToken,
          variables: { i: { name: 'backend', type: 'CONFIDENTIAL', redirectUris: [], grantTypes: ['client_credentials'] } },
        },
      ),
    ).createClient;
    assert.equal(
      dataOf(await gql<{ revealClientSecret: string }>(url, REVEAL, { token: session.accessToken, variables: { id: created.client.clientId } }))
        .revealClientSecret,
      created.clientSecret,
    );

    // Twenty minutes later (the session's proof moved back), the same session must step up.
    await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute(`update identity.refresh_tokens set auth_time = now() - interval '20 minutes' where user_id = ?`, [seed.alice.user.id]),
    );
    const stale = dataOf(
      await gql<{ refreshToken: AuthPayload }>(url, 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', refreshToken: session.refreshToken } },
      }),
    ).refreshToken;
    const refused = expectError(await gql(url, REVEAL, { token: stale.accessToken, variables: { id: created.client.clientId } }), 'MFA_REQUIRED');
    assert.equal(refused.extensions?.stepUp, true);
    expectError(await gql(url, 'mutation { rotateSigningKey { activeKid } }', { token: stale.accessToken }), 'MFA_REQUIRED');
    expectError(await gql(url, STEP_UP, { token: stale.accessToken, variables: { c: '999999' } }), 'BAD_USER_INPUT');
    const stepped = dataOf(
      await gql<{ stepUp: { accessToken: string } }>(url, STEP_UP, { token: stale.accessToken, variables: { c: await nextTotp(secret) } }),
    ).stepUp;
    assert.equal(
      dataOf(await gql<{ revealClientSecret: string }>(url, REVEAL, { token: stepped.accessToken, variables: { id: created.client.clientId } }))
        .revealClientSecret,
      created.clientSecret,
    );

    // Members who are not owners or admins never see secrets; another tenant's client is not found.
    expectError(await gql(url, REVEAL, { token: seed.bob.accessToken, variables: { id: created.client.clientId } }), 'FORBIDDEN');
  });

  it('makes users of a tenant that requires it set up a factor at sign-in, and keeps a password alone from adding one later', async () => {
    const url = ctx.stack.graphqlUrl;
    await setRole(url, seed.admin.accessToken, 'globex', seed.bob.user.id, 'OWNER');
    const bob = await signIn(url, 'globex', 'bob@globex.test', 'bob-password');
    dataOf(await gql(url, 'mutation { updateTenantSettings(input: { mfaRequired: true }) { slug } }', { token: bob.accessToken }));

    const refused = expectError(
      await gql(url, SIGN_IN, { variables: { i: { tenant: 'globex', email: 'bob@globex.test', password: 'bob-password' } } }),
      'MFA_REQUIRED',
    );
    assert.equal(refused.extensions?.enroll, true);
    const token = String(refused.extensions?.mfaToken);
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'globex', mfaToken: token, code: '123456' } } }), 'MFA_REQUIRED');
    const enrollment = dataOf(
      await gql<{ enrollTotp: { factorId: string; secret: string } }>(url, 'mutation($i: EnrollTotpInput) { enrollTotp(input: $i) { factorId secret } }', {
        variables: { i: { tenant: 'globex', mfaToken: token } },
      }),
    ).enrollTotp;
    const confirmed = dataOf(
      await gql<{ confirmTotp: { recoveryCodes: string[]; session: { accessToken: string; user: { email: string } } } }>(
        url,
        'mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes session { accessToken user { email } } } }',
        {
          variables: { i: { tenant: 'globex', mfaToken: token, factorId: enrollment.factorId, code: await nextTotp(enrollment.secret) } },
        },
      ),
    ).confirmTotp;
    assert.equal(confirmed.session.user.email, 'bob@globex.test');
    assert.equal(confirmed.recoveryCodes.length, 10);

    // Now the account has a factor: a password-only step cannot add another.
    const next = await mfaToken('globex', 'bob@globex.test', 'bob-password');
    expectError(
      await gql(url, 'mutation($i: EnrollTotpInput) { enrollTotp(input: $i) { factorId } }', { variables: { i: { tenant: 'globex', mfaToken: next } } }),
      'FORBIDDEN',
    );
    assert.ok(await signInWithTotp(url, 'globex', 'bob@globex.test', 'bob-password', enrollment.secret));
    bobSecret = enrollment.secret;

    // A new account in such a tenant gets no session before it has a factor either.
    const joined = expectError(
      await gql(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'globex', email: 'new@globex.test', password: 'new-password' } },
      }),
      'MFA_REQUIRED',
    );
    assert.equal(joined.extensions?.enroll, true);
    const newcomer = dataOf(
      await gql<{ enrollTotp: { factorId: string } }>(url, 'mutation($i: EnrollTotpInput) { enrollTotp(input: $i) { factorId } }', {
        variables: { i: { tenant: 'globex', mfaToken: String(joined.extensions?.mfaToken) } },
      }),
    ).enrollTotp;
    assert.ok(newcomer.factorId);
  });

  it("locks an account's codes after ten wrong ones, across sign-in attempts", async () => {
    const url = ctx.stack.graphqlUrl;
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await mfaToken('globex', 'bob@globex.test', 'bob-password');
      for (let i = 0; i < 5; i++)
        expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'globex', mfaToken: token, code: '000002' } } }), 'BAD_USER_INPUT');
    }
    const token = await mfaToken('globex', 'bob@globex.test', 'bob-password');
    const locked = expectError(
      await gql(url, VERIFY, { variables: { i: { tenant: 'globex', mfaToken: token, code: await nextTotp(bobSecret) } } }),
      'RATE_LIMITED',
    );
    assert.match(locked.message, /Too many wrong codes/);
    assert.ok(Number(locked.extensions?.retryAfter) > 0);
  });

  it('removes a factor only after a fresh proof; without one, sign-in needs the password alone again', async () => {
    const url = ctx.stack.graphqlUrl;
    const session = await signInWithRecovery(3);
    // Her own token without a second factor proven in it.
    const passwordOnly = await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['OWNER'] });
    expectError(await gql(url, 'mutation($id: ID!) { removeMfaFactor(id: $id) }', { token: passwordOnly, variables: { id: factorId } }), 'MFA_REQUIRED');
    const codes = dataOf(
      await gql<{ regenerateRecoveryCodes: string[] }>(url, 'mutation { regenerateRecoveryCodes }', { token: session.accessToken }),
    ).regenerateRecoveryCodes;
    assert.equal(codes.length, 10);
    assert.ok(!codes.includes(recoveryCodes[1]!));
    assert.equal(
      dataOf(
        await gql<{ removeMfaFactor: boolean }>(url, 'mutation($id: ID!) { removeMfaFactor(id: $id) }', {
          token: session.accessToken,
          variables: { id: factorId },
        }),
      ).removeMfaFactor,
      true,
    );
    const plain = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    assert.deepEqual(decodeJwt(plain.accessToken).amr, ['pwd']);
    const left = await ctx.stack.db.withTenant(seed.acme.id, (em) =>
      em.execute(`select 1 from identity.recovery_codes where user_id = ?`, [seed.alice.user.id]),
    );
    assert.equal(left.length, 0, 'the recovery codes went with the last factor');
  });
});
