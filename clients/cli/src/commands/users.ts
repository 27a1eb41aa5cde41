import { graphql } from '@tansu/client';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';

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

const ROLES = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const;
type Role = (typeof ROLES)[number];

function roleOf(value: string | undefined): Role {
  const role = value?.toUpperCase();
  if (!ROLES.includes(role as Role)) throw new UsageError(`The role must be one of ${ROLES.join(', ')}`);
  return role as Role;
}

/** `tansu users list | invite EMAIL --role ROLE | role USER_ID ROLE | disable USER_ID | enable USER_ID` in the profile's tenant. */
export async function users(ctx: CommandContext): Promise<void> {
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
      case 'invite': {
        const { inviteUser } = await client.request(INVITE, {
          input: { email: requireArg(ctx, 1, 'the email address'), role: roleOf(stringOption(ctx, 'role') ?? 'VIEWER') },
        });
        ctx.out.result(inviteUser, () => `Invited ${inviteUser.email} as ${inviteUser.role} (the link expires ${inviteUser.expiresAt})`);
        return;
      }
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
