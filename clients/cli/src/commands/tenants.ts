import { graphql } from '@tansu/client';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';

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

/** `tansu tenants list | create SLUG NAME [--owner EMAIL] [--plan ID] | suspend SLUG | resume SLUG` (platform administrators). */
export async function tenants(ctx: CommandContext): Promise<void> {
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
      default:
        throw new UsageError(`Unknown tenants command ${ctx.args[0]}: list, create, suspend or resume`);
    }
  } finally {
    client.close();
  }
}
