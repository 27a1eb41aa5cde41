import type { CommandContext } from './context.ts';

/** An option a command takes, as `node:util` parseArgs reads it (`--name value` or `--flag`). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

/** A command of `tansu`: its name, its lines of the usage text, the options it takes, and what it does. */
export interface Command {
  name: string;
  /** Lines of the usage text, as printed under `Usage:` (without the leading indent). */
  usage: readonly string[];
  /** Its own options; `--json`, `--profile` and `--help` are every command's. */
  options?: Readonly<Record<string, OptionSpec>>;
  run(ctx: CommandContext): Promise<void>;
}

/** A command that is a tool of its own behind the name: it gets the arguments after it, unparsed, and answers with an exit status. */
export interface ForwardedCommand {
  name: string;
  usage: readonly string[];
  forward(argv: readonly string[]): number | Promise<number>;
}

export type AnyCommand = Command | ForwardedCommand;
