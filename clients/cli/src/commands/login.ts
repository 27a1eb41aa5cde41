import { MfaRequiredError, createTansuClient, graphql, memoryStore } from '@tansu/client';
import type { Command } from '../command.ts';
import { stringOption, type CommandContext } from '../context.ts';
import { ask, UsageError } from '../prompt.ts';

const WHOAMI = graphql(`
  query CliWhoami {
    me {
      id
      email
      roles
      tenant {
        slug
        name
      }
    }
  }
`);

/** `tansu login --url URL --tenant SLUG --email EMAIL`: the password (TANSU_PASSWORD, stdin or a prompt) is used once; the profile keeps tokens. */
async function signIn(ctx: CommandContext): Promise<void> {
  const url = stringOption(ctx, 'url') ?? process.env.TANSU_URL;
  const tenant = stringOption(ctx, 'tenant') ?? process.env.TANSU_TENANT;
  const email = stringOption(ctx, 'email') ?? process.env.TANSU_EMAIL;
  if (url === undefined || tenant === undefined || email === undefined)
    throw new UsageError('login needs --url, --tenant and --email (or TANSU_URL, TANSU_TENANT, TANSU_EMAIL)');
  const password = process.env.TANSU_PASSWORD ?? (await ask('Password: ', { secret: true }));
  const client = createTansuClient({ url, tenant, store: memoryStore() });
  try {
    let session;
    try {
      session = await client.auth.signIn({ email, password });
    } catch (error) {
      if (!(error instanceof MfaRequiredError) || error.enroll) throw error;
      const code = stringOption(ctx, 'code') ?? (await ask('Code from your authenticator (or a recovery code): '));
      session = await client.auth.verifyMfa({ mfaToken: error.mfaToken, code });
    }
    await ctx.profiles.put(ctx.profile, { url, tenant, email, session });
    ctx.out.result({ profile: ctx.profile, url, tenant, email }, () => `Signed in to ${tenant} as ${email} (profile ${ctx.profile})`);
  } finally {
    client.close();
  }
}

async function signOut(ctx: CommandContext): Promise<void> {
  const removed = await ctx.profiles.remove(ctx.profile);
  ctx.out.result({ profile: ctx.profile, removed }, () => (removed ? `Signed out (profile ${ctx.profile})` : `No profile ${ctx.profile}`));
}

async function showMe(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  try {
    const { me } = await client.request(WHOAMI);
    ctx.out.result(me, () => (me === null ? 'Not signed in' : `${me.email} in ${me.tenant.slug} (${me.roles.join(', ')})`));
  } finally {
    client.close();
  }
}

export const login: Command = {
  name: 'login',
  usage: [
    'login --url URL --tenant SLUG --email EMAIL [--code CODE]',
    '                      sign in (password from TANSU_PASSWORD, stdin or a prompt); the profile',
    "                      keeps the session's tokens, never the password",
  ],
  options: { url: { type: 'string' }, tenant: { type: 'string' }, email: { type: 'string' }, code: { type: 'string' } },
  run: signIn,
};

export const logout: Command = { name: 'logout', usage: ['logout                forget the profile'], run: signOut };

export const whoami: Command = { name: 'whoami', usage: ['whoami                the signed-in user'], run: showMe };
