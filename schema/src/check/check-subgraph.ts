import { parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { diffSchemas, type SchemaChange } from '../diff/schema-diff.ts';
import { apiSchemaOf, compose, type SubgraphSdl } from './compose-variant.ts';

export interface RegisteredDocument {
  /** The client's name for it, or its hash. */
  name: string;
  document: string;
}

/** How often each coordinate was used by operations within the window; undefined when nobody recorded usage. */
export type UsageLookup = (coordinates: string[]) => Promise<Map<string, number> | undefined>;

export interface CheckedChange extends SchemaChange {
  /** How often operations used what changed within the window; absent without usage data. */
  uses?: number;
  /** A breaking change no recorded operation used: reported, but it does not fail the check. */
  unused?: boolean;
  /** Names of the operations that used it, when known. */
  operations?: string[];
}

export interface CheckReport {
  subgraph: string;
  passed: boolean;
  compositionErrors: string[];
  changes: CheckedChange[];
  documentErrors: { name: string; errors: string[] }[];
  /** The supergraph the proposal composes into, when it does. */
  supergraphSdl?: string;
  /** Whether usage data decided which breaking changes matter. */
  usageAware: boolean;
}

export class UnknownSubgraphError extends Error {}

/**
 * Checks a proposed SDL for one subgraph against the published ones: it must compose, no
 * breaking change may touch what clients used in the window, and every registered document
 * must still validate. Without usage data every breaking change counts.
 */
export async function checkSubgraph(input: {
  published: readonly SubgraphSdl[];
  subgraph: string;
  proposedSdl: string;
  usage?: UsageLookup;
  /** Names of recorded operations that used any of these coordinates. */
  operations?: (coordinates: string[]) => Promise<string[]>;
  documents?: readonly RegisteredDocument[];
  /** A new subgraph joins the graph instead of replacing one. */
  allowNew?: boolean;
  /** Where the subgraph is served, if not where it was published. */
  url?: string;
}): Promise<CheckReport> {
  const current = input.published.find((s) => s.name === input.subgraph);
  if (current === undefined && input.allowNew !== true) {
    throw new UnknownSubgraphError(`Unknown subgraph "${input.subgraph}"; known: ${input.published.map((s) => s.name).join(', ') || 'none'}`);
  }
  const report: CheckReport = { subgraph: input.subgraph, passed: false, compositionErrors: [], changes: [], documentErrors: [], usageAware: false };
  const proposed = [
    ...input.published.filter((s) => s.name !== input.subgraph),
    { name: input.subgraph, url: input.url ?? current?.url ?? `http://${input.subgraph}/graphql`, sdl: input.proposedSdl },
  ];
  const composed = compose(proposed);
  if (composed.supergraphSdl === undefined) {
    report.compositionErrors = composed.errors;
    return report;
  }
  report.supergraphSdl = composed.supergraphSdl;
  const before = compose(input.published);
  const after = apiSchemaOf(composed.supergraphSdl);
  const changes = before.supergraphSdl === undefined ? [] : diffSchemas(apiSchemaOf(before.supergraphSdl), after);
  report.changes = await withUsage(changes, input.usage, input.operations);
  report.usageAware = report.changes.some((c) => c.uses !== undefined);
  report.documentErrors = validateDocuments(after, input.documents ?? []);
  report.passed = report.changes.every((c) => c.level !== 'breaking' || c.unused === true) && report.documentErrors.length === 0;
  return report;
}

async function withUsage(
  changes: SchemaChange[],
  usage: UsageLookup | undefined,
  operations: ((coordinates: string[]) => Promise<string[]>) | undefined,
): Promise<CheckedChange[]> {
  const breaking = changes.filter((c) => c.level === 'breaking');
  const counts = usage === undefined || breaking.length === 0 ? undefined : await usage([...new Set(breaking.flatMap((c) => c.usage))]);
  return Promise.all(
    changes.map(async (change) => {
      if (change.level !== 'breaking' || counts === undefined) return change;
      const uses = change.usage.reduce((sum, coordinate) => sum + (counts.get(coordinate) ?? 0), 0);
      const names = uses > 0 && operations !== undefined ? await operations(change.usage) : undefined;
      return { ...change, uses, unused: uses === 0, ...(names === undefined ? {} : { operations: names }) };
    }),
  );
}

function validateDocuments(schema: GraphQLSchema, documents: readonly RegisteredDocument[]): { name: string; errors: string[] }[] {
  const failures: { name: string; errors: string[] }[] = [];
  for (const { name, document } of documents) {
    let errors: string[];
    try {
      errors = validate(schema, parse(document), specifiedRules).map((e) => e.message);
    } catch (error) {
      errors = [`does not parse: ${error instanceof Error ? error.message : String(error)}`];
    }
    if (errors.length > 0) failures.push({ name, errors });
  }
  return failures;
}
