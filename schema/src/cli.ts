import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '@tansu/platform/config';
import { openDatabase } from '@tansu/platform/db/database';
import { checkSubgraph, UnknownSubgraphError, type CheckReport, type RegisteredDocument } from './check/check-subgraph.ts';
import { subgraphsOf } from './check/compose-variant.ts';
import { formatReport } from './check/format-report.ts';
import { PublishInputError, publishSubgraph } from './registry/publish-subgraph.ts';
import { createRegistry } from './registry/registry.ts';
import { ManifestError, readManifest, registerDocuments } from './registry/register-documents.ts';
import { syncVariant } from './registry/sync-variant.ts';
import { operationsFromRedis, usageFromRedis } from './registry/usage-store.ts';

const USAGE = `Usage: npm run tansu -- schema check     --subgraph NAME --schema FILE [options]
       npm run tansu -- schema publish   --subgraph NAME --schema FILE [--url URL] [options]
       npm run tansu -- schema documents --client NAME --manifest FILE [--variant NAME]
       npm run tansu -- schema sync      [--variant NAME]

check    composes the proposal with the other subgraphs, finds breaking changes against the
         published graph and validates registered client operations.
publish  checks the same way against the registry's variant and, when it passes, stores the
         version and pushes the new supergraph to the running routers.
documents registers a client's operations (Apollo's persisted-query manifest, or a JSON
         object of sha256 id → document); routers serve them by id, and in persisted-only
         mode (TANSU_PERSISTED_DOCUMENTS_ONLY) run nothing else.
sync     pushes the variant's supergraph and documents from the registry to the routers again
         (after Redis was replaced or flushed).

Options:
  --variant NAME      the registry's variant (default TANSU_SCHEMA_VARIANT, else main); check
                      uses the registry when DATABASE_URL is set, publish always does
  --against FILE      the published supergraph when there is no registry, or before a
                      variant's first publish (default supergraph/supergraph.graphql)
  --documents PATH    more registered operations: a .graphql file or a folder of them
  --json              print the report as JSON
Environment for the registry: DATABASE_URL (the schema owner), REDIS_URL, TANSU_REDIS_NAMESPACE.
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

/** Each .graphql file (or every .graphql file in a folder) is one registered document. */
async function readDocuments(path: string): Promise<RegisteredDocument[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new InputError(`Cannot read documents ${path}`);
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((f) => f.endsWith('.graphql'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  return Promise.all(files.map(async (file) => ({ name: file, document: await readText(file, 'document') })));
}

function parse(rest: string[]) {
  try {
    return parseArgs({
      args: rest,
      options: {
        subgraph: { type: 'string' },
        schema: { type: 'string' },
        url: { type: 'string' },
        client: { type: 'string' },
        manifest: { type: 'string' },
        variant: { type: 'string' },
        against: { type: 'string' },
        documents: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new InputError(error instanceof Error ? error.message : String(error));
  }
}

/** The registry (Postgres, as the schema owner) and the routers' Redis; closed when the command ends. */
async function connect(config: NonNullable<ReturnType<typeof registryConfig>>, closers: (() => Promise<unknown>)[]) {
  const db = await openDatabase({ url: config.databaseUrl!, entities: [], poolMax: 2 });
  closers.push(() => db.close());
  const redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: 2 });
  closers.push(async () => redis.disconnect());
  return { registry: createRegistry(db), redis };
}

/** Variants are named as routers are configured (TANSU_SCHEMA_VARIANT). */
function checkedVariant(variant: string): string {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(variant)) throw new InputError(`--variant must be lowercase letters, digits and dashes (got "${variant.slice(0, 40)}")`);
  return variant;
}

/** The registry's connections, from the environment; publish, documents and sync cannot work without them. */
function registryConfig(required: boolean) {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    throw new InputError(error instanceof ConfigError ? error.problems.join('; ') : String(error));
  }
  if (config.databaseUrl === undefined || config.redisUrl === undefined) {
    if (required) throw new InputError('this command needs the registry: set DATABASE_URL (the schema owner) and REDIS_URL');
    return null;
  }
  return config;
}

/** `schema sync`: the registry's variant pushed to the routers again. */
async function sync(values: ReturnType<typeof parse>, out: (text: string) => void, closers: (() => Promise<unknown>)[]): Promise<number> {
  const config = registryConfig(true)!;
  const variant = checkedVariant(values.variant ?? config.schemaVariant);
  const { registry, redis } = await connect(config, closers);
  const synced = await syncVariant({ registry, redis, namespace: config.redisNamespace }, variant);
  out(
    values.json
      ? JSON.stringify({ variant, ...synced })
      : `Variant ${variant}: ${synced.supergraphId === null ? 'nothing published yet' : `supergraph ${synced.supergraphId}`} and ${synced.documents} registered documents pushed to the routers.`,
  );
  return 0;
}

/** `schema documents`: registers a client's operations, all or none. */
async function documents(values: ReturnType<typeof parse>, out: (text: string) => void, closers: (() => Promise<unknown>)[]): Promise<number> {
  if (values.client === undefined || values.manifest === undefined) throw new InputError('--client and --manifest are required');
  const manifest = readManifest(await readText(values.manifest, 'manifest'));
  const config = registryConfig(true)!;
  const variant = checkedVariant(values.variant ?? config.schemaVariant);
  const { registry, redis } = await connect(config, closers);
  const startingSupergraph = await readText(values.against ?? new URL('../../supergraph/supergraph.graphql', import.meta.url).pathname, 'supergraph');
  const result = await registerDocuments(
    { registry, redis, namespace: config.redisNamespace, startingSupergraph },
    { variant, client: values.client, documents: manifest },
  );
  if (values.json) out(JSON.stringify({ variant, ...result }, null, 2));
  else if (result.errors.length > 0) {
    out(`FAIL  ${result.errors.length} of ${manifest.length} operations do not validate against variant ${variant}; nothing was registered:`);
    for (const e of result.errors) out(`  - ${e.id.slice(0, 16)}…: ${e.errors.join('; ')}`);
  } else out(`Registered ${result.registered} operations of ${values.client} for variant ${variant}.`);
  return result.errors.length === 0 ? 0 : 1;
}

export async function runCli(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const [area, command, ...rest] = argv;
  if (area !== 'schema' || (command !== 'check' && command !== 'publish' && command !== 'documents' && command !== 'sync')) {
    out(USAGE);
    return area === '--help' || area === undefined ? 0 : 2;
  }
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const values = parse(rest);
    if (command === 'documents') return await documents(values, out, closers);
    if (command === 'sync') return await sync(values, out, closers);
    if (values.subgraph === undefined || values.schema === undefined) throw new InputError('--subgraph and --schema are required');
    const against = values.against ?? new URL('../../supergraph/supergraph.graphql', import.meta.url).pathname;
    const startingSupergraph = await readText(against, 'supergraph');
    try {
      subgraphsOf(startingSupergraph);
    } catch (error) {
      throw new InputError(`${against} is not a supergraph: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    const proposedSdl = await readText(values.schema, 'schema');
    const extraDocuments = values.documents === undefined ? [] : await readDocuments(values.documents);
    const config = registryConfig(command === 'publish');
    const variant = checkedVariant(values.variant ?? config?.schemaVariant ?? 'main');

    let report: CheckReport;
    let published: string | undefined;
    if (config === null) {
      report = await checkSubgraph({ published: subgraphsOf(startingSupergraph), subgraph: values.subgraph, proposedSdl, documents: extraDocuments });
    } else {
      const { registry, redis } = await connect(config, closers);
      // What routers recorded over the last 30 days decides which breaking changes matter.
      const usage = usageFromRedis(redis, config.redisNamespace, variant);
      const operations = operationsFromRedis(redis, config.redisNamespace, variant);
      if (command === 'publish') {
        const outcome = await publishSubgraph(
          { registry, redis, namespace: config.redisNamespace, startingSupergraph, usage, operations },
          { variant, subgraph: values.subgraph, sdl: proposedSdl, url: values.url, by: process.env.USER, documents: extraDocuments },
        );
        report = outcome.report;
        published =
          outcome.unchanged === true
            ? 'unchanged: nothing new to publish'
            : outcome.supergraphId === undefined
              ? undefined
              : `published to variant ${variant} as supergraph ${outcome.supergraphId}`;
      } else {
        report = await registry.transaction(async (r) => {
          const current = await r.current(variant);
          const checked = await checkSubgraph({
            published: current?.subgraphs ?? subgraphsOf(startingSupergraph),
            subgraph: values.subgraph!,
            proposedSdl,
            documents: [...(await r.documents(variant)), ...extraDocuments],
            usage,
            operations,
            url: values.url,
            allowNew: values.url !== undefined,
          });
          await r.recordCheck(variant, checked, proposedSdl);
          return checked;
        });
      }
    }
    const { supergraphSdl: _sdl, ...shown } = report;
    out(
      values.json
        ? JSON.stringify({ ...shown, variant, published: published ?? null }, null, 2)
        : `${formatReport(report)}${published === undefined ? '' : `\n\n${published}`}`,
    );
    return report.passed ? 0 : 1;
  } catch (error) {
    if (error instanceof InputError || error instanceof UnknownSubgraphError || error instanceof PublishInputError || error instanceof ManifestError) {
      out(`error: ${error.message}`);
      return 2;
    }
    // Anything else (a database or Redis that does not answer, …): one line, not a stack trace.
    out(`error: the command could not run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    return 2;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
