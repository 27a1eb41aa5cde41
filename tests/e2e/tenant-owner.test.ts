import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn } from '../support/graphql-client.ts';
import { startMailCatcher, tokenIn } from '../support/mail-catcher.ts';

// A new tenant's first owner is invited by email when the tenant is created.
const catcher = await startMailCatcher();
after(() => catcher.stop());
const ctx = useTestStack({ TANSU_SMTP_URL: catcher.url });

const CREATE = 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id slug name } }';
const ACCEPT = 'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken user { id email roles tenant { slug } } } }';
const TENANTS = '{ tenants(first: 200) { slug } }';

describe("a new tenant's owner", () => {
  let seed: TwoTenants;

  before(async () => {
    seed = await seedTwoTenants(ctx.stack.graphqlUrl);
  });

  async function slugs(): Promise<string[]> {
    return dataOf(await gql<{ tenants: { slug: string }[] }>(ctx.stack.graphqlUrl, TENANTS, { token: seed.admin.accessToken })).tenants.map((t) => t.slug);
  }

  it('is invited with the tenant, accepts, and manages the tenant as OWNER', async () => {
    const url = ctx.stack.graphqlUrl;
    const initech = dataOf(
      await gql<{ createTenant: { id: string; slug: string } }>(url, CREATE, {
        token: seed.admin.accessToken,
        variables: { i: { slug: 'initech', name: 'Initech', owner: { email: ' Olga@Initech.test ' } } },
      }),
    ).createTenant;
    const mail = await catcher.waitFor('olga@initech.test', /You are invited to Initech/);
    assert.match(mail.text, /You are invited to join Initech as owner\./);
    assert.match(mail.text, /\/identity\/initech\/account\/accept-invitation\?token=/);
    const token = tokenIn(mail);

    // The link belongs to its tenant: another tenant does not know it.
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token, password: 'olga-password' } } }), 'TOKEN_INVALID');
    const olga = dataOf(
      await gql<{ acceptInvitation: { accessToken: string; user: { id: string; email: string; roles: string[]; tenant: { slug: string } } } }>(url, ACCEPT, {
        variables: { i: { tenant: 'initech', token, password: 'olga-password' } },
      }),
    ).acceptInvitation;
    assert.deepEqual(
      { email: olga.user.email, roles: olga.user.roles, tenant: olga.user.tenant.slug },
      { email: 'olga@initech.test', roles: ['OWNER'], tenant: 'initech' },
    );
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'initech', token, password: 'olga-password' } } }), 'TOKEN_ALREADY_USED');

    // She manages her tenant: its members, its settings, its audit log, and invitations of her own.
    const owner = olga.accessToken;
    const members = dataOf(
      await gql<{ tenant: { slug: string; members: { userId: string; role: string }[] } }>(url, '{ tenant { slug members { userId role } } }', {
        token: owner,
      }),
    ).tenant;
    assert.deepEqual(members, { slug: 'initech', members: [{ userId: olga.user.id, role: 'OWNER' }] });
    const settings = 'mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { settings { selfSignUp } } }';
    assert.equal(
      dataOf(
        await gql<{ updateTenantSettings: { settings: { selfSignUp: boolean } } }>(url, settings, { token: owner, variables: { i: { selfSignUp: false } } }),
      ).updateTenantSettings.settings.selfSignUp,
      false,
    );
    dataOf(
      await gql(url, 'mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }', {
        token: owner,
        variables: { i: { email: 'peter@initech.test', role: 'ADMIN' } },
      }),
    );
    await catcher.waitFor('peter@initech.test', /You are invited to Initech/);
    const audit = dataOf(
      await gql<{ auditLog: { entries: { action: string; actorId: string; target: string }[] } }>(
        url,
        '{ auditLog(first: 50) { entries { action actorId target } } }',
        { token: owner },
      ),
    ).auditLog.entries;
    assert.ok(
      audit.some((e) => e.action === 'user.invited' && e.actorId === seed.admin.user.id && e.target === 'olga@initech.test'),
      JSON.stringify(audit),
    );
    assert.ok(audit.some((e) => e.action === 'user.invitation_accepted' && e.actorId === olga.user.id));

    // Only her own tenant.
    expectError(await gql(url, '{ auditLog(tenant: "acme", first: 5) { entries { action } } }', { token: owner }), 'FORBIDDEN');
    const acmeMembers = dataOf(
      await gql<{ tenants: { slug: string; members: { userId: string }[] }[] }>(url, '{ tenants(first: 200) { slug members { userId } } }', {
        token: seed.admin.accessToken,
      }),
    ).tenants;
    assert.deepEqual(
      acmeMembers.find((t) => t.slug === 'acme')?.members.map((m) => m.userId),
      [seed.alice.user.id],
    );
    assert.equal(initech.slug, 'initech');
    assert.equal((await signIn(url, 'initech', 'olga@initech.test', 'olga-password')).user.roles[0], 'OWNER');
  });

  it('creates nothing when the owner cannot be invited', async () => {
    const url = ctx.stack.graphqlUrl;
    const bad = expectError(
      await gql(url, CREATE, { token: seed.admin.accessToken, variables: { i: { slug: 'hooli', name: 'Hooli', owner: { email: 'not an address' } } } }),
      'BAD_USER_INPUT',
    );
    assert.equal(bad.extensions?.field, 'owner.email');
    // The mail server refuses the invitation: the tenant is not created either.
    expectError(
      await gql(url, CREATE, { token: seed.admin.accessToken, variables: { i: { slug: 'hooli', name: 'Hooli', owner: { email: 'refused@hooli.test' } } } }),
      'MAIL_UNAVAILABLE',
    );
    assert.ok(!(await slugs()).includes('hooli'), 'no tenant without its owner invitation');
    dataOf(await gql(url, CREATE, { token: seed.admin.accessToken, variables: { i: { slug: 'hooli', name: 'Hooli', owner: { email: 'gavin@hooli.test' } } } }));
    await catcher.waitFor('gavin@hooli.test', /You are invited to Hooli/);
    // Inviting owners at creation is the platform administrators' alone.
    expectError(
      await gql(url, CREATE, {
        token: seed.alice.accessToken,
        variables: { i: { slug: 'piedpiper', name: 'Pied Piper', owner: { email: 'richard@piedpiper.test' } } },
      }),
      'FORBIDDEN',
    );
    assert.equal(catcher.mails.filter((m) => m.to.includes('richard@piedpiper.test')).length, 0);
  });
});
