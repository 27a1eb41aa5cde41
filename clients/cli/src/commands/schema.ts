import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ForwardedCommand } from '../command.ts';

/** `tansu schema …`: the registry's commands keep their own options and run with this repository's server code. */
export const schema: ForwardedCommand = {
  name: 'schema',
  usage: ['schema ...            the schema registry (tansu schema --help)'],
  forward(argv) {
    const registry = fileURLToPath(new URL('../../../../schema/src/cli.ts', import.meta.url));
    return spawnSync(process.execPath, [registry, 'schema', ...argv], { stdio: 'inherit' }).status ?? 1;
  },
};
