import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../src/command.ts';
import { createCommandLine } from '../src/command-line.ts';
import type { CommandContext } from '../src/context.ts';
import { createProfiles } from '../src/profiles.ts';

const deps = { profiles: () => createProfiles('/nonexistent/profiles.json') };
const noop = async () => undefined;

describe('the command line built from a list of commands', () => {
  it('gives each command its arguments, its own options and the common ones', async () => {
    let seen: CommandContext | undefined;
    const echo: Command = {
      name: 'echo',
      usage: ['echo WORD [--loud] [--times N]'],
      options: { loud: { type: 'boolean' }, times: { type: 'string' } },
      run: async (ctx) => void (seen = ctx),
    };
    const other: Command = { name: 'other', usage: ['other'], run: noop };
    const cli = createCommandLine([echo, other], deps);
    assert.match(cli.usage, /^ {2}echo WORD \[--loud\] \[--times N\]\n {2}other$/m);
    assert.equal(await cli.run(['--times', '3', 'echo', 'hello', '--loud', '--profile', 'work', '--json']), 0);
    assert.deepEqual(seen?.args, ['hello']);
    assert.deepEqual({ ...seen?.options }, { times: '3', loud: true, profile: 'work', json: true });
    assert.equal(seen?.profile, 'work');
    assert.equal(seen?.out.json, true);
  });

  it('refuses to build when two commands share a name, or give one option two meanings', () => {
    const a: Command = { name: 'a', usage: [], options: { code: { type: 'string' } }, run: noop };
    assert.throws(() => createCommandLine([a, { ...a }], deps), /Two commands are named a/);
    const b: Command = { name: 'b', usage: [], options: { code: { type: 'boolean' } }, run: noop };
    assert.throws(() => createCommandLine([a, b], deps), /--code of b clashes with --code of a/);
    const c: Command = { name: 'c', usage: [], options: { json: { type: 'boolean' } }, run: noop };
    assert.throws(() => createCommandLine([c], deps), /--json of c clashes with --json of every command/);
    const same: Command = { name: 'same', usage: [], options: { code: { type: 'string' } }, run: noop };
    assert.doesNotThrow(() => createCommandLine([a, same], deps));
  });
});
