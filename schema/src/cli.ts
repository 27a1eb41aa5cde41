import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSubgraph, UnknownSubgraphError, type RegisteredDocument } from './check/check-subgraph.ts';
import { subgraphsOf } from './check/compose-variant.ts';
import { formatReport } from './check/format-report.ts';

const USAGE = `Usage: npm run tansu -- schema check --subgraph NAME --schema FILE [options]

Checks a subgraph's proposed SDL: composition with the other subgraphs, breaking changes
against the published graph, and registered client operations.

Options:
  --against FILE      the published supergraph (default supergraph/supergraph.graphql)
  --documents PATH    registered operations: a .graphql file or a folder of them
  --json              print the report as JSON
Exit status: 0 passed, 1 the check failed, 2 the command could not run.`;

/** A problem with how the command was called or what it was given: reported in one line, exit 2. */
class InputError extends Error {}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new InputError(`Cannot read ${what} ${path}`);
  }
}

/** Each operation of a .graphql file (or of every .graphql file in a folder) is one registered document. */
async function readDocuments(path: string): Promise<RegisteredDocument[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new InputError(`Cannot read documents ${path}`);
  const files = info.isDirectory() ? (await readdir(path)).filter((f) => f.endsWith('.graphql')).sort().map((f) => join(path, f)) : [path];
  return Promise.all(files.map(async (file) => ({ name: file, document: await readText(file, 'document') })));
}

export async function runCli(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const [area, command, ...rest] = argv;
  if (area !== 'schema' || command !== 'check') {
    out(USAGE);
    return area === '--help' || area === undefined ? 0 : 2;
  }
  try {
    let values;
    try {
      ({ values } = parseArgs({
        args: rest,
        options: { subgraph: { type: 'string' }, schema: { type: 'string' }, against: { type: 'string' }, documents: { type: 'string' }, json: { type: 'boolean', default: false } },
      }));
    } catch (error) {
      throw new InputError(error instanceof Error ? error.message : String(error));
    }
    if (values.subgraph === undefined || values.schema === undefined) throw new InputError('--subgraph and --schema are required');
    const against = values.against ?? new URL('../../supergraph/supergraph.graphql', import.meta.url).pathname;
    let published;
    try {
      published = subgraphsOf(await readText(against, 'supergraph'));
    } catch (error) {
      throw error instanceof InputError ? error : new InputError(`${against} is not a supergraph: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    const report = await checkSubgraph({
      published,
      subgraph: values.subgraph,
      proposedSdl: await readText(values.schema, 'schema'),
      documents: values.documents === undefined ? [] : await readDocuments(values.documents),
    });
    const { supergraphSdl: _sdl, ...shown } = report;
    out(values.json ? JSON.stringify(shown, null, 2) : formatReport(report));
    return report.passed ? 0 : 1;
  } catch (error) {
    if (error instanceof InputError || error instanceof UnknownSubgraphError) {
      out(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
