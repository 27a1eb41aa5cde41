import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';

const ctx = useTestStack();

const SET_DISABLED = 'mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id disabled } }';

describe('signing in again right after sessions were ended', () => {
  let owner: AuthPayload;
  let frank: AuthPayload;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    owner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    frank = await signUp(url, 'acme', 'frank@acme.test', 'frank-password');
  });

  it('gives a token the router accepts, though it is issued within the second of the revocation', async () => {
    const url = ctx.stack.graphqlUrl;
    // Start just after a second begins, so the revocation and the new sign-in share that second.
    await sleep(1_000 - (Date.now() % 1_000) + 20);
    dataOf(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: frank.user.id, d: true } }));
    dataOf(await gql(url, SET_DISABLED, { token: owner.accessToken, variables: { u: frank.user.id, d: false } }));
    // Once the router knows of the revocation, the token from before it is refused...
    const old = await eventually(
      () => gql(url, '{ me { id } }', { token: frank.accessToken }),
      (res) => res.body.errors !== undefined,
      40,
      10,
    );
    assert.match(expectError(old, 'UNAUTHENTICATED').message, /session was ended/);
    // ...and the one issued after it, in the same second, is not.
    const again = await signIn(url, 'acme', 'frank@acme.test', 'frank-password');
    const me = await gql<{ me: { id: string } }>(url, '{ me { id } }', { token: again.accessToken });
    assert.equal(dataOf(me).me.id, frank.user.id);
  });
});
