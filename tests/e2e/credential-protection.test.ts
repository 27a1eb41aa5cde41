import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql } from '../support/graphql-client.ts';

// Small limits so the test reaches them: 3 failures lock an account; 40 requests a minute per address.
const ctx = useTestStack({ TANSU_LOCKOUT_THRESHOLD: '3', TANSU_LOCKOUT_SECONDS: '60', TANSU_CREDENTIAL_RATE_PER_MINUTE: '40' });

const SIGN_IN = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';

describe('credential protection', () => {
  let seed: TwoTenants;
  const signIn = (tenant: string, email: string, password: string) => gql(ctx.stack.graphqlUrl, SIGN_IN, { variables: { i: { tenant, email, password } } });

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
  });

  it('locks an account after repeated failures, even against the right password, and not its neighbours', async () => {
    for (let i = 0; i < 3; i++) expectError(await signIn('acme', 'alice@acme.test', 'wrong-password'), 'UNAUTHENTICATED');
    const locked = expectError(await signIn('acme', 'ALICE@acme.test', 'alice-password'), 'RATE_LIMITED');
    assert.match(locked.message, /locked/);
    assert.ok(Number(locked.extensions?.retryAfter) > 0);
    // The same email in another tenant is another account, with its own count.
    await gql(ctx.stack.graphqlUrl, 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
      variables: { i: { tenant: 'globex', email: 'alice@acme.test', password: 'globex-alice-password' } },
    });
    dataOf(await signIn('globex', 'alice@acme.test', 'globex-alice-password'));
    assert.notEqual(seed.acme.id, seed.globex.id);
  });

  it('resets the failure count on a successful sign-in', async () => {
    for (let i = 0; i < 2; i++) expectError(await signIn('globex', 'bob@globex.test', 'wrong-password'), 'UNAUTHENTICATED');
    dataOf(await signIn('globex', 'bob@globex.test', 'bob-password'));
    for (let i = 0; i < 2; i++) expectError(await signIn('globex', 'bob@globex.test', 'wrong-password'), 'UNAUTHENTICATED');
    dataOf(await signIn('globex', 'bob@globex.test', 'bob-password'));
  });

  it('limits credential requests per client address', async () => {
    let limited: ReturnType<typeof expectError> | undefined;
    for (let i = 0; i < 45 && limited === undefined; i++) {
      const res = await signIn('globex', `nobody${i}@globex.test`, 'whatever-password');
      if (res.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED') limited = expectError(res, 'RATE_LIMITED');
    }
    assert.ok(limited, 'no request was limited');
    assert.match(limited.message, /Too many attempts from this address/);
  });
});
