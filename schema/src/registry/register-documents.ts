import { parse, specifiedRules, validate } from 'graphql';
import type { Redis } from 'ioredis';
import { apiSchemaOf } from '../check/compose-variant.ts';
import type { Registry } from './registry.ts';
import { sha256 } from './registry.ts';
import { pushDocuments } from './supergraph-feed.ts';

export class ManifestError extends Error {}

/**
 * A client's operations: Apollo's persisted-query manifest (`{ format:
 * "apollo-persisted-query-manifest", operations: [{ id, body }] }`) or a plain object of
 * id → document. Ids are SHA-256 of the document text, in hex.
 */
export function readManifest(text: string): { id: string; body: string }[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError('The manifest is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ManifestError('The manifest must be a JSON object');
  const record = value as Record<string, unknown>;
  const entries: { id: unknown; body: unknown }[] =
    record.format === 'apollo-persisted-query-manifest' && Array.isArray(record.operations)
      ? (record.operations as unknown[]).map((o) =>
          typeof o === 'object' && o !== null ? { id: (o as { id?: unknown }).id, body: (o as { body?: unknown }).body } : { id: undefined, body: undefined },
        )
      : Object.entries(record).map(([id, body]) => ({ id, body }));
  if (entries.length === 0) throw new ManifestError('The manifest lists no operations');
  return entries.map(({ id, body }, i) => {
    if (typeof id !== 'string' || typeof body !== 'string') throw new ManifestError(`Operation ${i + 1}: needs a string id and body`);
    const normalized = id.replace(/^sha256:/, '').toLowerCase();
    if (normalized !== sha256(body)) throw new ManifestError(`Operation ${i + 1} (${id.slice(0, 16)}…): the id is not the SHA-256 of its body`);
    return { id: normalized, body };
  });
}

/**
 * Registers operations for a variant: every one must validate against the schema the variant
 * serves now, or none is stored. Stored ones reach the routers at once.
 */
export async function registerDocuments(
  deps: { registry: Registry; redis: Redis; namespace: string; startingSupergraph: string },
  input: { variant: string; client: string; documents: { id: string; body: string }[] },
): Promise<{ errors: { id: string; errors: string[] }[]; registered: number }> {
  if (!/^[\w.@/-]{1,100}$/.test(input.client)) throw new ManifestError('--client must be 1-100 letters, digits and . _ - / @');
  const result = await deps.registry.transaction(async (registry) => {
    await registry.lock(input.variant);
    const schema = apiSchemaOf((await registry.current(input.variant))?.supergraphSdl ?? deps.startingSupergraph);
    const errors: { id: string; errors: string[] }[] = [];
    for (const d of input.documents) {
      let messages: string[];
      try {
        messages = validate(schema, parse(d.body), specifiedRules).map((e) => e.message);
      } catch (error) {
        messages = [`does not parse: ${error instanceof Error ? error.message : String(error)}`];
      }
      if (messages.length > 0) errors.push({ id: d.id, errors: messages });
    }
    if (errors.length > 0) return { errors, registered: 0 };
    await registry.registerDocuments(input.variant, input.client, input.documents);
    return { errors, registered: input.documents.length };
  });
  if (result.registered > 0) await pushDocuments(deps.redis, deps.namespace, input.variant, new Map(input.documents.map((d) => [d.id, d.body])));
  return result;
}
