import { graphql } from '@tansu/client';
import type { Command } from '../command.ts';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';
import { deleteTenant } from './tenant-delete.ts';

const LIST = graphql(`
  query CliTenants($first: Int) {
    tenants(first: $first) {
      id
      slug
      name
      status
      plan {
        id
      }
    }
  }
`);

const CREATE = graphql(`
  mutation CliCreateTenant($input: CreateTenantInput!) {
    createTenant(input: $input) {
      id
      slug
      name
      status
    }
  }
`);

const SUSPEND = graphql(`
  mutation CliSuspendTenant($slug: String!) {
    suspendTenant(slug: $slug) {
      slug
      status
    }
  }
`);

const RESUME = graphql(`
  mutation CliResumeTenant($slug: String!) {
    resumeTenant(slug: $slug) {
      slug
      status
    }
  }
`);

/** `tansu tenants …` (platform administrators). */
async function run(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  try {
    switch (ctx.args[0] ?? 'list') {
      case 'list': {
        const { tenants: all } = await client.request(LIST, { first: 200 });
        ctx.out.result(all, () =>
          table(
            ['SLUG', 'NAME', 'STATUS', 'PLAN'],
            all.map((t) => [t.slug, t.name, t.status, t.plan.id]),
          ),
        );
        return;
      }
      case 'create': {
        const owner = stringOption(ctx, 'owner');
        const { createTenant } = await client.request(CREATE, {
          input: {
            slug: requireArg(ctx, 1, 'the tenant slug'),
            name: requireArg(ctx, 2, 'the tenant name'),
            plan: stringOption(ctx, 'plan'),
            owner: owner === undefined ? undefined : { email: owner },
          },
        });
        ctx.out.result(
          createTenant,
          () => `Created ${createTenant.slug} (${createTenant.id})${owner === undefined ? '' : `; ${owner} is invited as its owner`}`,
        );
        return;
      }
      case 'suspend':
      case 'resume': {
        const slug = requireArg(ctx, 1, 'the tenant slug');
        const changed =
          ctx.args[0] === 'suspend' ? (await client.request(SUSPEND, { slug })).suspendTenant : (await client.request(RESUME, { slug })).resumeTenant;
        ctx.out.result(changed, () => `${changed.slug} is ${changed.status}`);
        return;
      }
      case 'delete':
        await deleteTenant(ctx, client);
        return;
      default:
        throw new UsageError(`Unknown tenants command ${ctx.args[0]}: list, create, suspend, resume or delete`);
    }
  } finally {
    client.close();
  }
}

export const tenants: Command = {
  name: 'tenants',
  usage: [
    'tenants list | create SLUG NAME [--owner EMAIL] [--plan ID] | suspend SLUG | resume SLUG',
    'tenants delete SLUG [--yes] [--code CODE] [--timeout SECONDS]',
    "                      refused at once, purged after the platform's delay; --timeout waits that",
    '                      long for the purge. Without --yes, type the slug on a terminal. Needs a second',
    '                      factor proven in the last 10 minutes: --code (or a prompt) proves it first',
  ],
  options: { owner: { type: 'string' }, plan: { type: 'string' }, yes: { type: 'boolean' }, code: { type: 'string' }, timeout: { type: 'string' } },
  run,
};
