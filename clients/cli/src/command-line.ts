import { parseArgs } from 'node:util';
import { TansuError } from '@tansu/client';
import type { AnyCommand, Command, OptionSpec } from './command.ts';
import { profileClient } from './context.ts';
import { createOutput } from './output.ts';
import type { Profiles } from './profiles.ts';
import { UsageError } from './prompt.ts';

/** Every command's options. */
const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const FOOTER = `Options: --profile NAME (default: default, or TANSU_PROFILE), --json (machine-readable
output; streams are one JSON object a line). Profiles live in $TANSU_CONFIG_DIR, else
$XDG_CONFIG_HOME/tansu, else ~/.config/tansu. Long work draws a progress bar on stderr
when it is a terminal.
Exit status: 0 done, 1 refused or failed (the code is printed), 2 the command was called wrongly.`;

const indent = (lines: readonly string[]) => lines.map((line) => `  ${line}`).join('\n');

/**
 * One option table for the parser: an option means the same thing to every command that takes
 * it (`--code` is always a string), so `tansu --role admin users invite …` parses like
 * `tansu users invite … --role admin`. Which command may take which option is checked after.
 */
function optionTable(commands: readonly AnyCommand[]): Record<string, OptionSpec> {
  const table: Record<string, OptionSpec> = { ...COMMON_OPTIONS };
  const owner = new Map<string, string>(Object.keys(COMMON_OPTIONS).map((name) => [name, 'every command']));
  for (const command of commands) {
    if (!('run' in command)) continue;
    for (const [name, spec] of Object.entries(command.options ?? {})) {
      const known = table[name];
      if (known !== undefined && (known.type !== spec.type || known.short !== spec.short || COMMON_OPTIONS[name] !== undefined))
        throw new Error(`--${name} of ${command.name} clashes with --${name} of ${owner.get(name)}`);
      table[name] = spec;
      owner.set(name, command.name);
    }
  }
  return table;
}

/**
 * The `tansu` command line built from a list of commands: the usage text, the parser, and the
 * dispatch with its exit status (0 done, 1 refused, 2 called wrongly).
 */
export function createCommandLine(commands: readonly AnyCommand[], deps: { profiles: () => Profiles }) {
  const byName = new Map<string, AnyCommand>();
  for (const command of commands) {
    if (byName.has(command.name)) throw new Error(`Two commands are named ${command.name}`);
    byName.set(command.name, command);
  }
  const options = optionTable(commands);
  const usage = `Usage: tansu COMMAND [options]\n\n${indent(commands.flatMap((c) => c.usage))}\n\n${FOOTER}`;
  const usageOf = (command: AnyCommand) => `Usage:\n${indent(command.usage)}\n\n${FOOTER}`;

  async function runCommand(command: Command, args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
    const out = createOutput(values.json === true);
    const profiles = deps.profiles();
    const profile = (typeof values.profile === 'string' ? values.profile : undefined) ?? process.env.TANSU_PROFILE ?? 'default';
    try {
      await command.run({ args, options: values, out, profiles, profile, client: () => profileClient(profiles, profile) });
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

  async function run(argv: readonly string[]): Promise<number> {
    const first = argv[0] === undefined ? undefined : byName.get(argv[0]);
    if (first !== undefined && 'forward' in first) return first.forward(argv.slice(1));
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, tokens: true, options });
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
      return 2;
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const [name, ...args] = parsed.positionals;
    const help = values.help === true;
    if (name === undefined || name === 'help') {
      const topic = args[0] === undefined ? undefined : byName.get(args[0]);
      process.stdout.write(`${topic === undefined ? usage : usageOf(topic)}\n`);
      return name === undefined && !help ? 2 : 0;
    }
    const command = byName.get(name);
    if (command === undefined) {
      process.stderr.write(`Unknown command ${name}\n\n${usage}\n`);
      return 2;
    }
    if ('forward' in command) {
      process.stderr.write(`${name} takes its own options: put it first (tansu ${name} …)\n`);
      return 2;
    }
    if (help) {
      process.stdout.write(`${usageOf(command)}\n`);
      return 0;
    }
    for (const token of parsed.tokens) {
      if (token.kind === 'option' && COMMON_OPTIONS[token.name] === undefined && command.options?.[token.name] === undefined) {
        process.stderr.write(`${name} does not take ${token.rawName}\n\n${usageOf(command)}\n`);
        return 2;
      }
    }
    return runCommand(command, args, values);
  }

  return { usage, run };
}
