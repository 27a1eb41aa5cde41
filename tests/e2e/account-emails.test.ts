import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { dataOf, expectError, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { startMailCatcher, tokenIn } from '../support/mail-catcher.ts';
import { eventually } from '../support/eventually.ts';

const catcher = await startMailCatcher();
after(() => catcher.stop());
const ctx = useTestStack({ TANSU_SMTP_URL: catcher.url, TANSU_MAIL_FROM: 'Acme via Tansu <auth@tansu.test>' });

const VERIFY = 'mutation($i: EmailLinkInput!) { verifyEmail(input: $i) { id emailVerified } }';
const REQUEST_RESET = 'mutation($i: PasswordResetRequestInput!) { requestPasswordReset(input: $i) }';
const RESET = 'mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }';
const INVITE = 'mutation($i: InviteUserInput!) { inviteUser(input: $i) { id email role expiresAt invitedBy { email } } }';
const ACCEPT = 'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken user { id email roles disabled } } }';
const INVITATIONS = '{ invitations { id email role } }';
const SETTINGS = 'mutation($t: String, $i: TenantSettingsInput!) { updateTenantSettings(tenant: $t, input: $i) { slug } }';

describe('account emails over SMTP', () => {
  let seed: TwoTenants;
  let owner: AuthPayload;

  /** Moves a token's expiry into the past, as if a day had gone by. */
  async function expire(tenantId: string, email: string, purpose: string) {
    await ctx.stack.db.withTenant(tenantId, (em) =>
      em.execute(`update identity.email_tokens set expires_at = now() - interval '1 second' where email = ? and purpose = ?`, [email, purpose]),
    );
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'OWNER');
    owner = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
  });

  it('sends a verification link at sign-up that verifies the address once', async () => {
    const url = ctx.stack.graphqlUrl;
    const carol = await signUp(url, 'acme', 'carol@acme.test', 'carol-password');
    const mail = await catcher.waitFor('carol@acme.test', /Confirm your email for Acme Corp/);
    assert.match(mail.text, /http:\/\/tansu\.test\/identity\/acme\/account\/verify-email\?token=/);
    const me = () => gql<{ me: { emailVerified: boolean } }>(url, '{ me { emailVerified } }', { token: carol.accessToken });
    assert.equal(dataOf(await me()).me.emailVerified, false);

    const token = tokenIn(mail);
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'globex', token } } }), 'TOKEN_INVALID');
    const verified = dataOf(
      await gql<{ verifyEmail: { id: string; emailVerified: boolean } }>(url, VERIFY, { variables: { i: { tenant: 'acme', token } } }),
    ).verifyEmail;
    assert.deepEqual(verified, { id: carol.user.id, emailVerified: true });
    assert.equal(dataOf(await me()).me.emailVerified, true);
    const reused = expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', token } } }), 'TOKEN_ALREADY_USED');
    assert.match(reused.message, /already used/);
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', token: 'not-a-token' } } }), 'TOKEN_INVALID');
    expectError(await gql(url, 'mutation { sendVerificationEmail }', { token: carol.accessToken }), 'BAD_USER_INPUT');
  });

  it('holds sign-in until the address is verified when the tenant requires it', async () => {
    const url = ctx.stack.graphqlUrl;
    const eve = await signUp(url, 'acme', 'eve@acme.test', 'eve-password');
    dataOf(await gql(url, SETTINGS, { token: owner.accessToken, variables: { i: { emailVerificationRequired: true } } }));
    // A session of an address never verified does not outlive the new rule.
    expectError(
      await gql(url, 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', refreshToken: eve.refreshToken } },
      }),
      'EMAIL_NOT_VERIFIED',
    );
    // The account is created, but no session until the address is proven.
    const created = expectError(
      await gql(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'dan@acme.test', password: 'dan-password' } },
      }),
      'EMAIL_NOT_VERIFIED',
    );
    assert.match(created.message, /Account created/);
    const first = tokenIn(await catcher.waitFor('dan@acme.test', /Confirm your email/));
    const refused = expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'dan@acme.test', password: 'dan-password' } },
      }),
      'EMAIL_NOT_VERIFIED',
    );
    assert.match(refused.message, /Verify your email/);

    // Asking again (signed out, by address) replaces the first link; an expired link is refused as such.
    catcher.mails.length = 0;
    const resend = 'mutation($i: VerificationEmailInput) { sendVerificationEmail(input: $i) }';
    assert.equal(
      dataOf(await gql<{ sendVerificationEmail: boolean }>(url, resend, { variables: { i: { tenant: 'acme', email: 'dan@acme.test' } } }))
        .sendVerificationEmail,
      true,
    );
    assert.equal(
      dataOf(await gql<{ sendVerificationEmail: boolean }>(url, resend, { variables: { i: { tenant: 'acme', email: 'nobody@acme.test' } } }))
        .sendVerificationEmail,
      true,
      'the same answer for no account',
    );
    const second = tokenIn(await catcher.waitFor('dan@acme.test', /Confirm your email/));
    assert.notEqual(second, first);
    assert.equal(catcher.mails.filter((m) => m.to.includes('nobody@acme.test')).length, 0);
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', token: first } } }), 'TOKEN_ALREADY_USED');
    await expire(seed.acme.id, 'dan@acme.test', 'verify_email');
    expectError(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', token: second } } }), 'TOKEN_EXPIRED');

    dataOf(await gql(url, resend, { variables: { i: { tenant: 'acme', email: 'dan@acme.test' } } }));
    const third = tokenIn(catcher.mails.filter((m) => m.to.includes('dan@acme.test')).at(-1)!);
    dataOf(await gql(url, VERIFY, { variables: { i: { tenant: 'acme', token: third } } }));
    assert.ok(await signIn(url, 'acme', 'dan@acme.test', 'dan-password'));
    dataOf(await gql(url, SETTINGS, { token: owner.accessToken, variables: { i: { emailVerificationRequired: false } } }));
  });

  it('resets a password with a single-use link, ending every session and lifting a lockout', async () => {
    const url = ctx.stack.graphqlUrl;
    const erin = await signUp(url, 'acme', 'erin@acme.test', 'erin-password');
    catcher.mails.length = 0;
    // Unknown addresses get the same answer and no mail.
    assert.equal(
      dataOf(await gql<{ requestPasswordReset: boolean }>(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'nobody@acme.test' } } }))
        .requestPasswordReset,
      true,
    );
    for (let i = 0; i < 5; i++)
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'erin@acme.test', password: 'wrong-password' } },
      });
    expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'erin@acme.test', password: 'erin-password' } },
      }),
      'RATE_LIMITED',
    );

    assert.equal(
      dataOf(await gql<{ requestPasswordReset: boolean }>(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'Erin@Acme.test' } } }))
        .requestPasswordReset,
      true,
    );
    const mail = await catcher.waitFor('erin@acme.test', /Reset your Acme Corp password/);
    assert.match(mail.text, /\/identity\/acme\/account\/reset-password\?token=/);
    assert.equal(catcher.mails.filter((m) => m.to.includes('nobody@acme.test')).length, 0);
    const token = tokenIn(mail);

    expectError(await gql(url, RESET, { variables: { i: { tenant: 'acme', token, password: 'short' } } }), 'BAD_USER_INPUT');
    expectError(await gql(url, RESET, { variables: { i: { tenant: 'globex', token, password: 'erin-new-password' } } }), 'TOKEN_INVALID');
    assert.equal(
      dataOf(await gql<{ resetPassword: boolean }>(url, RESET, { variables: { i: { tenant: 'acme', token, password: 'erin-new-password' } } })).resetPassword,
      true,
    );
    expectError(await gql(url, RESET, { variables: { i: { tenant: 'acme', token, password: 'another-password' } } }), 'TOKEN_ALREADY_USED');

    expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'erin@acme.test', password: 'erin-password' } },
      }),
      'UNAUTHENTICATED',
    );
    const fresh = await signIn(url, 'acme', 'erin@acme.test', 'erin-new-password');
    assert.equal(fresh.user.id, erin.user.id);
    expectError(
      await gql(url, 'mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', refreshToken: erin.refreshToken } },
      }),
      'UNAUTHENTICATED',
    );
    // Her access token from before the reset is void too, at the router, within moments.
    expectError(
      await eventually(
        () => gql(url, '{ me { id } }', { token: erin.accessToken }),
        (res) => res.body.errors !== undefined,
        20,
      ),
      'UNAUTHENTICATED',
    );
    assert.equal(dataOf(await gql<{ me: { emailVerified: boolean } }>(url, '{ me { emailVerified } }', { token: fresh.accessToken })).me.emailVerified, true);

    catcher.mails.length = 0;
    await gql(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'erin@acme.test' } } });
    const late = tokenIn(await catcher.waitFor('erin@acme.test', /Reset your/));
    await expire(seed.acme.id, 'erin@acme.test', 'reset_password');
    expectError(await gql(url, RESET, { variables: { i: { tenant: 'acme', token: late, password: 'yet-another-password' } } }), 'TOKEN_EXPIRED');
  });

  it('limits the emails one address can be sent', async () => {
    const url = ctx.stack.graphqlUrl;
    await signUp(url, 'acme', 'flood@acme.test', 'flood-password');
    // The verification at sign-up was the first of five an hour.
    for (let i = 0; i < 4; i++) dataOf(await gql(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'flood@acme.test' } } }));
    const limited = expectError(await gql(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'flood@acme.test' } } }), 'RATE_LIMITED');
    assert.ok(Number(limited.extensions?.retryAfter) > 0);
  });

  it('invites with a role: single use, for owners and admins, into a tenant closed to sign-up', async () => {
    const url = ctx.stack.graphqlUrl;
    dataOf(await gql(url, SETTINGS, { token: owner.accessToken, variables: { i: { selfSignUp: false } } }));
    const viewer = await signIn(url, 'acme', 'carol@acme.test', 'carol-password');
    expectError(await gql(url, INVITE, { token: viewer.accessToken, variables: { i: { email: 'gina@acme.test', role: 'DEVELOPER' } } }), 'FORBIDDEN');
    expectError(await gql(url, INVITE, { token: owner.accessToken, variables: { i: { email: 'carol@acme.test', role: 'DEVELOPER' } } }), 'CONFLICT');

    const invitation = dataOf(
      await gql<{ inviteUser: { id: string; email: string; role: string; invitedBy: { email: string } } }>(url, INVITE, {
        token: owner.accessToken,
        variables: { i: { email: 'Gina@acme.test', role: 'DEVELOPER' } },
      }),
    ).inviteUser;
    assert.deepEqual(
      { email: invitation.email, role: invitation.role, by: invitation.invitedBy.email },
      { email: 'gina@acme.test', role: 'DEVELOPER', by: 'alice@acme.test' },
    );
    const mail = await catcher.waitFor('gina@acme.test', /You are invited to Acme Corp/);
    assert.match(mail.text, /as developer/);
    assert.match(mail.text, /\/identity\/acme\/account\/accept-invitation\?token=/);

    const pending = dataOf(await gql<{ invitations: { id: string }[] }>(url, INVITATIONS, { token: owner.accessToken })).invitations;
    assert.deepEqual(
      pending.map((i) => i.id),
      [invitation.id],
    );
    expectError(await gql(url, INVITATIONS, { token: seed.bob.accessToken }), 'FORBIDDEN');
    await setRole(url, seed.admin.accessToken, 'globex', seed.bob.user.id, 'ADMIN');
    const globexAdmin = await signIn(url, 'globex', 'bob@globex.test', 'bob-password');
    assert.deepEqual(
      dataOf(await gql<{ invitations: unknown[] }>(url, INVITATIONS, { token: globexAdmin.accessToken })).invitations,
      [],
      "acme's invitations are invisible to globex",
    );
    expectError(
      await gql(url, 'mutation($id: ID!) { revokeInvitation(id: $id) }', { token: globexAdmin.accessToken, variables: { id: invitation.id } }),
      'NOT_FOUND',
    );

    const token = tokenIn(mail);
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'globex', token, password: 'gina-password' } } }), 'TOKEN_INVALID');
    const gina = dataOf(
      await gql<{ acceptInvitation: { accessToken: string; user: { email: string; roles: string[]; disabled: boolean } } }>(url, ACCEPT, {
        variables: { i: { tenant: 'acme', token, password: 'gina-password' } },
      }),
    ).acceptInvitation;
    assert.deepEqual(gina.user.roles, ['DEVELOPER']);
    assert.equal(gina.user.disabled, false, 'a new account is enabled');
    assert.equal(dataOf(await gql<{ me: { emailVerified: boolean } }>(url, '{ me { emailVerified } }', { token: gina.accessToken })).me.emailVerified, true);
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token, password: 'gina-password' } } }), 'TOKEN_ALREADY_USED');
    assert.deepEqual(dataOf(await gql<{ invitations: unknown[] }>(url, INVITATIONS, { token: owner.accessToken })).invitations, []);
  });

  it('refuses an admin inviting an owner, and expired or revoked invitations', async () => {
    const url = ctx.stack.graphqlUrl;
    const hank = dataOf(
      await gql<{ inviteUser: { id: string } }>(url, INVITE, { token: owner.accessToken, variables: { i: { email: 'hank@acme.test', role: 'ADMIN' } } }),
    ).inviteUser;
    const hankToken = tokenIn(await catcher.waitFor('hank@acme.test', /invited/));
    const admin = dataOf(
      await gql<{ acceptInvitation: { accessToken: string } }>(url, ACCEPT, {
        variables: { i: { tenant: 'acme', token: hankToken, password: 'hank-password' } },
      }),
    ).acceptInvitation;
    assert.ok(hank.id);
    expectError(await gql(url, INVITE, { token: admin.accessToken, variables: { i: { email: 'ivy@acme.test', role: 'OWNER' } } }), 'FORBIDDEN');

    const ivy = dataOf(
      await gql<{ inviteUser: { id: string } }>(url, INVITE, { token: admin.accessToken, variables: { i: { email: 'ivy@acme.test', role: 'VIEWER' } } }),
    ).inviteUser;
    const ivyToken = tokenIn(await catcher.waitFor('ivy@acme.test', /invited/));
    assert.equal(
      dataOf(
        await gql<{ revokeInvitation: boolean }>(url, 'mutation($id: ID!) { revokeInvitation(id: $id) }', {
          token: admin.accessToken,
          variables: { id: ivy.id },
        }),
      ).revokeInvitation,
      true,
    );
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token: ivyToken, password: 'ivy-password' } } }), 'TOKEN_ALREADY_USED');

    dataOf(await gql(url, INVITE, { token: admin.accessToken, variables: { i: { email: 'jo@acme.test', role: 'VIEWER' } } }));
    const joToken = tokenIn(await catcher.waitFor('jo@acme.test', /invited/));
    await expire(seed.acme.id, 'jo@acme.test', 'invitation');
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token: joToken, password: 'jo-password' } } }), 'TOKEN_EXPIRED');
    expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'jo@acme.test', password: 'jo-password' } },
      }),
      'UNAUTHENTICATED',
    );
  });

  it("opens the emailed links as pages of the tenant's issuer, through the router", async () => {
    const url = ctx.stack.graphqlUrl;
    const viaRouter = (link: string) => link.replace('http://tansu.test', ctx.stack.routerUrl);
    const linkIn = (to: string) => /http:\/\/tansu\.test\S+/.exec(catcher.mails.filter((m) => m.to.includes(to)).at(-1)!.text)![0];

    dataOf(await gql(url, INVITE, { token: owner.accessToken, variables: { i: { email: 'kim@acme.test', role: 'VIEWER' } } }));
    await catcher.waitFor('kim@acme.test', /invited/);
    const link = viaRouter(linkIn('kim@acme.test'));
    const form = await fetch(link);
    assert.equal(form.status, 200);
    const page = await form.text();
    assert.match(page, /<h1>Join Acme Corp<\/h1>/);
    assert.match(page, /name="password"/);
    const token = new URL(link).searchParams.get('token')!;
    assert.ok(page.includes(`value="${token}"`), 'the form carries the token');
    const post = (target: string, fields: Record<string, string>) =>
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

    const weak = await post(link, { token, password: 'short' });
    assert.equal(weak.status, 400);
    assert.match(await weak.text(), /password: must be at least 8 characters/);
    const done = await post(link, { token, password: 'kim-password' });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /Your account is ready/);
    assert.ok(await signIn(url, 'acme', 'kim@acme.test', 'kim-password'));
    const again = await post(link, { token, password: 'kim-password' });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already used/);

    dataOf(await gql(url, REQUEST_RESET, { variables: { i: { tenant: 'acme', email: 'kim@acme.test' } } }));
    await catcher.waitFor('kim@acme.test', /Reset your/);
    const reset = viaRouter(linkIn('kim@acme.test'));
    assert.match(reset, /\/account\/reset-password\?/);
    const changed = await post(reset, { token: new URL(reset).searchParams.get('token')!, password: 'kim-new-password' });
    assert.equal(changed.status, 200);
    assert.ok(await signIn(url, 'acme', 'kim@acme.test', 'kim-new-password'));

    assert.equal((await fetch(`${ctx.stack.routerUrl}/identity/acme/account/verify-email`)).status, 400, 'a link without its token');
    assert.equal((await fetch(`${ctx.stack.routerUrl}/identity/nowhere/account/verify-email?token=x`)).status, 404);
  });

  it('creates an invited account in a tenant that requires a second factor, then asks for one before any session', async () => {
    const url = ctx.stack.graphqlUrl;
    dataOf(await gql(url, SETTINGS, { token: owner.accessToken, variables: { i: { mfaRequired: true } } }));
    dataOf(await gql(url, INVITE, { token: owner.accessToken, variables: { i: { email: 'mia@acme.test', role: 'VIEWER' } } }));
    const token = tokenIn(await catcher.waitFor('mia@acme.test', /invited/));
    const gated = expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token, password: 'mia-password' } } }), 'MFA_REQUIRED');
    assert.equal(gated.extensions?.enroll, true);
    assert.equal(typeof gated.extensions?.mfaToken, 'string');
    // The account exists (the invitation is spent); signing in leads to the same step.
    expectError(await gql(url, ACCEPT, { variables: { i: { tenant: 'acme', token, password: 'mia-password' } } }), 'TOKEN_ALREADY_USED');
    const again = expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'acme', email: 'mia@acme.test', password: 'mia-password' } },
      }),
      'MFA_REQUIRED',
    );
    assert.equal(again.extensions?.enroll, true);
    dataOf(await gql(url, SETTINGS, { token: owner.accessToken, variables: { i: { mfaRequired: false } } }));
  });

  it('leaves no invitation behind when the mail server refuses the message', async () => {
    const url = ctx.stack.graphqlUrl;
    const failed = expectError(
      await gql(url, INVITE, { token: owner.accessToken, variables: { i: { email: 'refused@acme.test', role: 'VIEWER' } } }),
      'MAIL_UNAVAILABLE',
    );
    assert.doesNotMatch(failed.message, /550|mailbox|smtp/i, 'no transport detail reaches the client');
    const rows = await ctx.stack.db.withTenant(seed.acme.id, (em) => em.execute(`select 1 from identity.email_tokens where email = 'refused@acme.test'`));
    assert.equal(rows.length, 0);
  });
});
