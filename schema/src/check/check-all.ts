import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSubgraph, type RegisteredDocument } from './check-subgraph.ts';
import { subgraphsOf } from './compose-variant.ts';
import { formatReport } from './format-report.ts';

/** Every operation of every .graphql file in a folder, each a registered document. */
export async function documentsIn(dir: string): Promise<RegisteredDocument[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.graphql')).sort();
  return Promise.all(files.map(async (f) => ({ name: f, document: await readFile(join(dir, f), 'utf8') })));
}

/**
 * Checks each subgraph's SDL against a baseline supergraph (what clients were built on), one
 * report each; 0 when all pass, 1 when any fails. A new subgraph joins; one that disappeared fails.
 */
export async function runCliChecks(
  input: { baseline: string; from: string; subgraphs: { name: string; sdl: string }[]; documents: string },
  out: (text: string) => void = console.log,
): Promise<number> {
  const published = subgraphsOf(input.baseline);
  const documents = await documentsIn(input.documents);
  out(`Checking ${input.subgraphs.length} subgraphs against ${input.from}, with ${documents.length} registered documents.`);
  let failed = 0;
  for (const subgraph of input.subgraphs) {
    const report = await checkSubgraph({ published, subgraph: subgraph.name, proposedSdl: subgraph.sdl, documents, allowNew: true });
    out(`\n${formatReport(report)}`);
    if (!report.passed) failed++;
  }
  for (const gone of published.filter((p) => !input.subgraphs.some((s) => s.name === p.name))) {
    out(`\nFAIL  subgraph ${gone.name} was removed: everything it served is gone for clients`);
    failed++;
  }
  out(failed === 0 ? '\nSchema check passed.' : `\nSchema check failed for ${failed} subgraph${failed === 1 ? '' : 's'}.`);
  return failed === 0 ? 0 : 1;
}
