import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { composeSupergraph } from './src/compose.ts';
import { SUPERGRAPH_PATH } from './src/subgraphs.ts';

// `npm run compose` rewrites supergraph.graphql; `--check` fails when the committed file is stale.
const check = process.argv.includes('--check');
try {
  const sdl = await composeSupergraph();
  const path = fileURLToPath(SUPERGRAPH_PATH);
  if (check) {
    const committed = await readFile(path, 'utf8').catch(() => '');
    if (committed !== sdl) {
      console.error(`${path} is stale: run \`npm run compose\` and commit the result.`);
      process.exit(1);
    }
    console.log('supergraph.graphql is up to date');
  } else {
    await writeFile(path, sdl);
    console.log(`wrote ${path}`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
