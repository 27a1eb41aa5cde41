import { createTansuClient, type TansuClient } from '@tansu/client';
import type { Output } from './output.ts';
import type { Profiles } from './profiles.ts';
import { UsageError } from './prompt.ts';

/** What every command gets: its arguments, how to answer, and the signed-in profile's client. */
export interface CommandContext {
  args: readonly string[];
  options: Record<string, string | boolean | undefined>;
  out: Output;
  profiles: Profiles;
  profile: string;
  /** The profile's client; refuses with a hint when the profile is not signed in. */
  client(): Promise<TansuClient>;
}

export async function profileClient(profiles: Profiles, name: string): Promise<TansuClient> {
  const profile = await profiles.get(name);
  if (profile === undefined || profile.session === null)
    throw new UsageError(`Not signed in${name === 'default' ? '' : ` (profile ${name})`}: run tansu login first`);
  return createTansuClient({ url: profile.url, tenant: profile.tenant, store: profiles.sessionStore(name) });
}

export function requireArg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index];
  if (value === undefined || value === '') throw new UsageError(`Missing ${what}`);
  return value;
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.options[name];
  return typeof value === 'string' ? value : undefined;
}
