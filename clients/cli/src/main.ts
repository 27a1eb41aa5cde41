#!/usr/bin/env node
import type { AnyCommand } from './command.ts';
import { createCommandLine } from './command-line.ts';
import { login, logout, whoami } from './commands/login.ts';
import { schema } from './commands/schema.ts';
import { tenants } from './commands/tenants.ts';
import { users } from './commands/users.ts';
import { workflows } from './commands/workflows.ts';
import { createProfiles } from './profiles.ts';

// A domain's commands plug in here, in the order the usage text lists them.
const COMMANDS: readonly AnyCommand[] = [login, logout, whoami, tenants, users, workflows, schema];

process.exit(await createCommandLine(COMMANDS, { profiles: () => createProfiles() }).run(process.argv.slice(2)));
