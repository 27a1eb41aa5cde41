import { setTimeout as sleep } from 'node:timers/promises';
import { graphql, type TansuClient } from '@tansu/client';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { ask, UsageError } from '../prompt.ts';
import { withStepUp } from '../step-up.ts';

const DELETE = graphql(`
  mutation CliDeleteTenant($slug: String!) {
    deleteTenant(slug: $slug) {
      id
      slug
      status
    }
  }
`);

const PAGE = graphql(`
  query CliTenantPage($first: Int, $offset: Int) {
    tenants(first: $first, offset: $offset) {
      id
      slug
      status
    }
  }
`);

const PAGE_SIZE = 200;
const POLL_MS = 1_000;
// The purge runs after the platform's delay (an hour by default): waiting for it is asked for.
const DEFAULT_TIMEOUT_SECONDS = 0;

/** The tenant as the platform lists it: DELETED until it is purged, then absent. */
async function findTenant(client: TansuClient, id: string): Promise<{ status: string } | undefined> {
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { tenants } = await client.request(PAGE, { first: PAGE_SIZE, offset });
    const found = tenants.find((t) => t.id === id);
    if (found !== undefined) return found;
    if (tenants.length < PAGE_SIZE) return undefined;
  }
}

function timeoutOf(ctx: CommandContext): number {
  const text = stringOption(ctx, 'timeout');
  if (text === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seconds)) throw new UsageError('--timeout must be a whole number of seconds (0: do not wait for the purge)');
  return seconds;
}

/** Deleting is final: `--yes`, or the slug typed again on a terminal. */
async function confirm(ctx: CommandContext, slug: string): Promise<void> {
  if (ctx.options.yes === true) return;
  if (process.stdin.isTTY !== true) throw new UsageError(`Deleting ${slug} is final: pass --yes, or run on a terminal and type the slug to confirm`);
  const typed = await ask(`Deleting ${slug} removes all its data for good. Type ${slug} to confirm: `);
  if (typed.trim() !== slug) throw new UsageError(`Not confirmed: ${slug} is left as it was`);
}

/**
 * `tenants delete SLUG`: the platform refuses the tenant at once (a platform administrator
 * with a second factor proven in the last ten minutes), then purges it in the background;
 * with `--timeout SECONDS` this waits, polling the tenant list, until it is gone or the time
 * has passed (exit 1 then: deleted, not yet purged).
 */
export async function deleteTenant(ctx: CommandContext, client: TansuClient): Promise<void> {
  const slug = requireArg(ctx, 1, 'the tenant slug');
  const timeoutSeconds = timeoutOf(ctx);
  await confirm(ctx, slug);
  const { deleteTenant: deleted } = await withStepUp(ctx, client, () => client.request(DELETE, { slug }));
  ctx.out.info(`${slug} is ${deleted.status}: its users and tokens are refused from now on`);
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  let status: string | undefined = deleted.status;
  while (timeoutSeconds > 0) {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    ctx.out.progress(elapsed, undefined, `waiting for ${slug} to be purged (${status}, ${elapsed} s)`);
    status = (await findTenant(client, deleted.id))?.status;
    if (status === undefined || Date.now() >= deadline) break;
    await sleep(Math.min(POLL_MS, deadline - Date.now()));
  }
  const purged = status === undefined;
  ctx.out.result({ ...deleted, purged }, () =>
    purged
      ? `Deleted ${slug}: purged, nothing of it is left`
      : `Deleted ${slug}: ${timeoutSeconds === 0 ? 'the platform purges it later' : `not purged within ${timeoutSeconds} s; the platform purges it later`}`,
  );
  if (!purged && timeoutSeconds > 0) process.exitCode = 1;
}
