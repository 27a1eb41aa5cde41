import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { DocumentNode } from 'graphql';
import { SDK_OPERATIONS, persistedManifest } from '@tansu/client';

const USAGE = `Usage: node clients/sdk/scripts/write-manifest.ts --out FILE MODULE...

Writes the persisted-document manifest of an app: the SDK's own operations and every
GraphQL document the given modules export (one by one or in arrays). Register it with
  npm run tansu -- schema documents --client NAME --manifest FILE`;

const isDocument = (value: unknown): value is DocumentNode => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Document';

const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
if (values.out === undefined || positionals.length === 0) {
  console.error(USAGE);
  process.exit(2);
}
const documents: DocumentNode[] = [...SDK_OPERATIONS];
for (const path of positionals) {
  const module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  for (const value of Object.values(module)) documents.push(...(Array.isArray(value) ? value : [value]).filter(isDocument));
}
const manifest = await persistedManifest(documents);
await writeFile(values.out, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${manifest.operations.length} operations to ${values.out}`);
