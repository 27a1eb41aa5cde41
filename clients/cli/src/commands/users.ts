import { graphql, type TansuClient } from '@tansu/client';
import { refusalOf, runEach } from '../batch.ts';
import type { Command } from '../command.ts';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';
import { readInviteList, roleOf, type Invitee } from './invite-list.ts';

const LIST = graphql(`
  query CliUsers($first: Int, $after: String) {
    users(first: $first, after: $after) {
      nodes {
        id
        email
        roles
        disabled
      }
      endCursor
      hasMore
    }
  }
`);

const INVITE = graphql(`
  mutation CliInvite($input: InviteUserInput!) {
    inviteUser(input: $input) {
      id
      email
      role
      expiresAt
    }
  }
`);

const SET_ROLE = graphql(`
  mutation CliSetRole($input: SetMemberRoleInput!) {
    setMemberRole(input: $input) {
      role
    }
  }
`);

const DISABLE = graphql(`
  mutation CliDisable($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      email
      disabled
    }
  }
`);

/**
 * `users invite EMAIL... | --file FILE`: one address answers with its invitation (a refusal
 * exits 1 at once); several are invited in turn with a bar, each refusal listed with its code,
 * and the command exits 1 when any was refused.
 */
async function invite(ctx: CommandContext, client: TansuClient): Promise<void> {
  const role = roleOf(stringOption(ctx, 'role') ?? 'VIEWER');
  const file = stringOption(ctx, 'file');
  const invitees: Invitee[] = [...ctx.args.slice(1).map((email) => ({ email, role })), ...(file === undefined ? [] : await readInviteList(file, role))];
  const send = async (invitee: Invitee) => (await client.request(INVITE, { input: invitee })).inviteUser;
  if (file === undefined && invitees.length <= 1) {
    const invited = await send({ email: requireArg(ctx, 1, 'the email address'), role });
    ctx.out.result(invited, () => `Invited ${invited.email} as ${invited.role} (the link expires ${invited.expiresAt})`);
    return;
  }
  const { done, refused } = await runEach(ctx.out, invitees, (i) => `inviting ${i.email}`, send);
  ctx.out.result(
    {
      invited: done.map(({ value }) => value),
      refused: refused.map(({ item, error }) => ({ ...item, ...refusalOf(error) })),
    },
    () =>
      [
        table(
          ['EMAIL', 'ROLE', 'RESULT'],
          [
            ...done.map(({ value }) => [value.email, value.role, `invited, the link expires ${value.expiresAt}`]),
            ...refused.map(({ item, error }) => [item.email, item.role, `${error.code}: ${error.message}`]),
          ],
        ),
        `${done.length} invited, ${refused.length} refused`,
      ].join('\n'),
  );
  if (refused.length > 0) process.exitCode = 1;
}

/** `tansu users …` in the profile's tenant. */
async function run(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  try {
    switch (ctx.args[0] ?? 'list') {
      case 'list': {
        const all: { id: string; email: string; roles: readonly string[]; disabled: boolean }[] = [];
        let after: string | undefined;
        for (;;) {
          const { users: page } = await client.request(LIST, { first: 200, after });
          all.push(...page.nodes);
          if (!page.hasMore || page.endCursor === null) break;
          after = page.endCursor;
        }
        ctx.out.result(all, () =>
          table(
            ['ID', 'EMAIL', 'ROLES', 'DISABLED'],
            all.map((u) => [u.id, u.email, u.roles.join(','), u.disabled ? 'yes' : '']),
          ),
        );
        return;
      }
      case 'invite':
        await invite(ctx, client);
        return;
      case 'role': {
        const userId = requireArg(ctx, 1, 'the user id');
        const { setMemberRole } = await client.request(SET_ROLE, { input: { userId, role: roleOf(ctx.args[2]) } });
        ctx.out.result({ userId, role: setMemberRole.role }, () => `${userId} is now ${setMemberRole.role}`);
        return;
      }
      case 'disable':
      case 'enable': {
        const { setUserDisabled } = await client.request(DISABLE, { userId: requireArg(ctx, 1, 'the user id'), disabled: ctx.args[0] === 'disable' });
        ctx.out.result(setUserDisabled, () => `${setUserDisabled.email} is ${setUserDisabled.disabled ? 'disabled' : 'enabled'}`);
        return;
      }
      default:
        throw new UsageError(`Unknown users command ${ctx.args[0]}: list, invite, role, disable or enable`);
    }
  } finally {
    client.close();
  }
}

export const users: Command = {
  name: 'users',
  usage: [
    'users list | invite EMAIL... [--role ROLE] | role USER_ID ROLE | disable USER_ID | enable USER_ID',
    'users invite --file FILE [--role ROLE]',
    '                      FILE (- for stdin): an address a line, or email,role lines; each refusal is',
    '                      listed with its code and the others are still invited',
  ],
  options: { role: { type: 'string' }, file: { type: 'string' } },
  run,
};
