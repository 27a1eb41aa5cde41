import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, SUPERGRAPH_PATH } from '@tansu/supergraph/subgraphs';
import { runCliChecks } from './src/check/check-all.ts';

// `npm run schema:check` (and CI): every subgraph's SDL checked against the supergraph clients
// were built on: the one committed at TANSU_SCHEMA_BASE (default HEAD~1), else the committed one.
const base = process.env.TANSU_SCHEMA_BASE ?? 'HEAD~1';
let baseline: string;
let from: string;
try {
  baseline = execFileSync('git', ['show', `${base}:supergraph/supergraph.graphql`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  from = `the supergraph at ${base}`;
} catch {
  // Without history (a shallow clone) there is nothing older to compare with: composition and
  // the registered operations are still checked, and the report says so.
  baseline = await readFile(SUPERGRAPH_PATH, 'utf8');
  from = `the committed supergraph (${base} is not available: breaking changes cannot be seen, only composition and the registered operations are checked)`;
}
const subgraphs = await Promise.all(SUBGRAPHS.map(async (s) => ({ name: s.name, sdl: await readFile(s.schema, 'utf8') })));
process.exitCode = await runCliChecks({ baseline, from, subgraphs, documents: fileURLToPath(new URL('./operations/', import.meta.url)) });
