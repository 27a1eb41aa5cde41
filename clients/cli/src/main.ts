#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TansuError } from '@tansu/client';
import { login, logout, whoami } from './commands/login.ts';
import { tenants } from './commands/tenants.ts';
import { users } from './commands/users.ts';
import { workflows } from './commands/workflows.ts';
import { profileClient, type CommandContext } from './context.ts';
import { createOutput } from './output.ts';
import { createProfiles } from './profiles.ts';
import { UsageError } from './prompt.ts';

const USAGE = `Usage: tansu COMMAND [options]

  login --url URL --tenant SLUG --email EMAIL [--code CODE]
                        sign in (password from TANSU_PASSWORD, stdin or a prompt); the profile
                        keeps the session's tokens, never the password
  logout                forget the profile
  whoami                the signed-in user
  tenants list | create SLUG NAME [--owner EMAIL] [--plan ID] | suspend SLUG | resume SLUG
  users list | invite EMAIL [--role ROLE] | role USER_ID ROLE | disable USER_ID | enable USER_ID
  workflows apply FILE | start NAME [--input JSON] [--watch] | watch RUN_ID | runs
  schema ...            the schema registry (tansu schema --help)

Options: --profile NAME (default: default, or TANSU_PROFILE), --json (machine-readable
output; streams are one JSON object a line). Profiles live in $TANSU_CONFIG_DIR, else
$XDG_CONFIG_HOME/tansu, else ~/.config/tansu.
Exit status: 0 done, 1 refused or failed (the code is printed), 2 the command was called wrongly.`;

const COMMANDS: Record<string, (ctx: CommandContext) => Promise<void>> = { login, logout, whoami, tenants, users, workflows };

async function main(argv: string[]): Promise<number> {
  // The registry's commands keep their own options; they run with this repository's server code.
  if (argv[0] === 'schema') {
    const registry = fileURLToPath(new URL('../../../schema/src/cli.ts', import.meta.url));
    return spawnSync(process.execPath, [registry, ...argv], { stdio: 'inherit' }).status ?? 1;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        profile: { type: 'string' },
        help: { type: 'boolean', default: false },
        url: { type: 'string' },
        tenant: { type: 'string' },
        email: { type: 'string' },
        code: { type: 'string' },
        owner: { type: 'string' },
        plan: { type: 'string' },
        role: { type: 'string' },
        input: { type: 'string' },
        watch: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const [command, ...args] = parsed.positionals;
  const out = createOutput(parsed.values.json === true);
  if (parsed.values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`Unknown command ${command}\n\n${USAGE}\n`);
    return 2;
  }
  const profiles = createProfiles();
  const profile = parsed.values.profile ?? process.env.TANSU_PROFILE ?? 'default';
  try {
    await run({ args, options: parsed.values, out, profiles, profile, client: () => profileClient(profiles, profile) });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof TansuError) {
      if (out.json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, extensions: error.extensions } })}\n`);
      else process.stderr.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exit(await main(process.argv.slice(2)));
