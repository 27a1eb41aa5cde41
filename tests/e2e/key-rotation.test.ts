import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PUBLIC_URL, useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';
import { enrollTotp, signInWithTotp } from '../support/mfa.ts';

const ctx = useTestStack();

const ROTATE = 'mutation { rotateSigningKey { activeKid nextKid } }';
const ME = '{ me { id } }';
const KEYS = '{ signingKeys { kid algorithm status createdAt retiredAt expiresAt } }';

interface KeyView {
  kid: string;
  algorithm: string;
  status: 'ACTIVE' | 'NEXT' | 'RETIRED';
  createdAt: string;
  retiredAt: string | null;
  expiresAt: string | null;
}

/** Retired keys verify for a day and ten minutes after they stop signing. */
const RETIRED_GRACE_MS = 24 * 3_600_000 + 10 * 60_000;

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}

async function jwksKids(slug: string): Promise<string[]> {
  const res = await fetch(`${ctx.stack.routerUrl}/identity/${slug}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

/** The key set the tenant's OpenID Provider advertises in its discovery document. */
async function providerKids(slug: string): Promise<string[]> {
  const discovery = (await (await fetch(`${ctx.stack.routerUrl}/identity/${slug}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const res = await fetch(discovery.jwks_uri.replace(PUBLIC_URL, ctx.stack.routerUrl));
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe('signing-key rotation', () => {
  let seed: TwoTenants;
  let ownerToken: string;
  let passwordToken: string;
  let totpSecret: string;

  async function listKeys(token: string): Promise<KeyView[]> {
    return dataOf(await gql<{ signingKeys: KeyView[] }>(ctx.stack.graphqlUrl, KEYS, { token })).signingKeys;
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    // Rotating keys asks for a second factor proven in the last ten minutes.
    const password = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    const enrolled = await enrollTotp(url, password);
    totpSecret = enrolled.secret;
    ownerToken = enrolled.session.accessToken;
    passwordToken = password;
    expectError(await gql(url, ROTATE, { token: password }), 'MFA_REQUIRED');
  });

  it('lists the keys to owners and admins without a step-up, and to nobody else', async () => {
    const keys = await listKeys(passwordToken);
    assert.deepEqual(
      keys.map((k) => k.kid),
      await jwksKids('acme'),
    );
    assert.deepEqual(
      keys.map((k) => [k.status, k.algorithm, k.retiredAt, k.expiresAt]),
      [
        ['ACTIVE', 'RS256', null, null],
        ['NEXT', 'RS256', null, null],
      ],
    );
    assert.ok(keys.every((k) => k.kid.startsWith(`${seed.acme.id}.`) && Date.parse(k.createdAt) <= Date.now()));
    expectError(await gql(ctx.stack.graphqlUrl, KEYS, { token: seed.bob.accessToken }), 'FORBIDDEN');
    expectError(await gql(ctx.stack.graphqlUrl, KEYS), 'UNAUTHENTICATED');
  });

  it('is refused to members who are not owners or admins, and to anonymous callers', async () => {
    expectError(await gql(ctx.stack.graphqlUrl, ROTATE, { token: seed.bob.accessToken }), 'FORBIDDEN');
    expectError(await gql(ctx.stack.graphqlUrl, ROTATE), 'UNAUTHENTICATED');
  });

  it('signs with the published next key while tokens signed before keep working', async () => {
    const url = ctx.stack.graphqlUrl;
    const [active, next] = await jwksKids('acme');
    assert.equal(kidOf(ownerToken), active);
    assert.ok(next, 'a next key is published from the start');
    const globexBefore = await jwksKids('globex');

    const rotated = dataOf(await gql<{ rotateSigningKey: { activeKid: string; nextKid: string } }>(url, ROTATE, { token: ownerToken })).rotateSigningKey;
    assert.equal(rotated.activeKid, next, 'the key verifiers already hold starts signing');
    const listed = await listKeys(ownerToken);
    assert.deepEqual(
      listed.map((k) => [k.kid, k.status]),
      [
        [next, 'ACTIVE'],
        [rotated.nextKid, 'NEXT'],
        [active, 'RETIRED'],
      ],
    );
    const retired = listed[2]!;
    assert.ok(retired.retiredAt !== null && retired.expiresAt !== null);
    assert.equal(Date.parse(retired.expiresAt) - Date.parse(retired.retiredAt), RETIRED_GRACE_MS);
    assert.ok(listed.slice(0, 2).every((k) => k.retiredAt === null && k.expiresAt === null));
    assert.ok(rotated.nextKid.startsWith(`${seed.acme.id}.`));
    assert.deepEqual(await jwksKids('acme'), [next, rotated.nextKid, active], 'active, next, then the retired key');
    assert.deepEqual(await providerKids('acme'), [next, rotated.nextKid, active]);
    assert.deepEqual(await jwksKids('globex'), globexBefore, "another tenant's keys are untouched");

    // The token signed with the retired key still verifies; new sign-ins carry the new key.
    assert.equal(dataOf(await gql<{ me: { id: string } }>(url, ME, { token: ownerToken })).me.id, seed.alice.user.id);
    const fresh = await signInWithTotp(url, 'acme', 'alice@acme.test', 'alice-password', totpSecret);
    assert.equal(kidOf(fresh.accessToken), next);
    assert.equal(dataOf(await gql<{ me: { id: string } }>(url, ME, { token: fresh.accessToken })).me.id, seed.alice.user.id);

    // A second rotation promotes the successor and keeps the first key inside its grace period.
    const again = dataOf(await gql<{ rotateSigningKey: { activeKid: string; nextKid: string } }>(url, ROTATE, { token: fresh.accessToken })).rotateSigningKey;
    assert.equal(again.activeKid, rotated.nextKid);
    assert.deepEqual(
      (await listKeys(passwordToken)).map((k) => [k.kid, k.status]),
      [
        [again.activeKid, 'ACTIVE'],
        [again.nextKid, 'NEXT'],
        [next, 'RETIRED'],
        [active, 'RETIRED'],
      ],
      'the most recently retired first',
    );
    assert.deepEqual((await jwksKids('acme')).slice(0, 2), [rotated.nextKid, again.nextKid]);
    assert.deepEqual(new Set((await jwksKids('acme')).slice(2)), new Set([next, active]));
    assert.equal(dataOf(await gql<{ me: { id: string } }>(url, ME, { token: ownerToken })).me.id, seed.alice.user.id);

    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; target: string }[] } }>(
        url,
        'query($f: AuditFilter) { auditLog(filter: $f, first: 10) { entries { action target } } }',
        {
          token: fresh.accessToken,
          variables: { f: { action: 'signing_key.rotated' } },
        },
      ),
    ).auditLog.entries;
    assert.deepEqual(audit.map((e) => e.target).sort(), [next, rotated.nextKid].sort());
  });
});
