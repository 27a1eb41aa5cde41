import type { EntityManager } from '@tansu/platform/db/database';
import type { CheckedChange, CheckReport } from '../check/check-subgraph.ts';
import type { ChangeLevel } from '../diff/schema-diff.ts';

/** The latest version of one subgraph in a variant. */
export interface SubgraphVersion {
  id: string;
  variant: string;
  subgraph: string;
  url: string;
  sdlHash: string;
  publishedBy: string | null;
  publishedAt: Date;
}

export interface VariantSummary {
  name: string;
  /** The supergraph routers of the variant serve; null before its first publish. */
  supergraphId: string | null;
  publishedAt: Date | null;
  /** The latest version of each subgraph. */
  subgraphs: SubgraphVersion[];
  documentCount: number;
}

/** A check as stored: the report without the supergraph it composed. */
export type StoredCheckReport = Omit<CheckReport, 'supergraphSdl' | 'subgraph' | 'passed'>;

export interface StoredCheck {
  id: string;
  variant: string;
  subgraph: string;
  sdlHash: string;
  passed: boolean;
  createdAt: Date;
  report: StoredCheckReport;
}

/** Newest first, `limit` rows older than `beforeId` when it is given. */
export interface PageRequest {
  limit: number;
  beforeId?: string;
}

const LEVELS: readonly ChangeLevel[] = ['breaking', 'dangerous', 'safe'];
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/**
 * A report as any version of the registry stored it: what is missing reads as empty, an
 * unknown level as breaking (the check failed on it, or passed without it mattering).
 */
export function storedCheckReport(value: unknown): StoredCheckReport {
  const report = record(value);
  const changes = (Array.isArray(report.changes) ? report.changes : []).map((raw): CheckedChange => {
    const change = record(raw);
    const level = LEVELS.find((l) => l === change.level) ?? 'breaking';
    return {
      kind: typeof change.kind === 'string' ? change.kind : 'UNKNOWN',
      level,
      coordinate: typeof change.coordinate === 'string' ? change.coordinate : '',
      message: typeof change.message === 'string' ? change.message : '',
      usage: strings(change.usage),
      ...(typeof change.uses === 'number' ? { uses: change.uses } : {}),
      ...(typeof change.unused === 'boolean' ? { unused: change.unused } : {}),
      ...(Array.isArray(change.operations) ? { operations: strings(change.operations) } : {}),
    };
  });
  const documentErrors = (Array.isArray(report.documentErrors) ? report.documentErrors : []).map((raw) => {
    const failure = record(raw);
    return { name: typeof failure.name === 'string' ? failure.name : '', errors: strings(failure.errors) };
  });
  return {
    compositionErrors: strings(report.compositionErrors),
    changes,
    documentErrors,
    usageAware: report.usageAware === true,
  };
}

interface VersionRow {
  id: string;
  variant: string;
  subgraph: string;
  url: string;
  sdl_hash: string;
  published_by: string | null;
  created_at: Date | string;
}

const versionOf = (row: VersionRow): SubgraphVersion => ({
  id: row.id,
  variant: row.variant,
  subgraph: row.subgraph,
  url: row.url,
  sdlHash: row.sdl_hash,
  publishedBy: row.published_by,
  publishedAt: new Date(row.created_at),
});

const VERSION_COLUMNS = `id::text as id, variant, subgraph, url, sdl_hash, published_by, created_at`;

/**
 * What the registry holds, read in one transaction: the queries behind the registry's API.
 * Only reads, so the application role's SELECT grant on the registry is enough.
 */
export function registryReadsIn(em: EntityManager) {
  return {
    /** Every variant anything was published, checked or registered for, by name. */
    async variants(): Promise<VariantSummary[]> {
      const names = await em.execute<{ variant: string }[]>(
        `select variant from registry.supergraphs
         union select variant from registry.subgraph_versions
         union select variant from registry.checks
         union select variant from registry.persisted_documents
         order by variant`,
      );
      const supergraphs = await em.execute<{ variant: string; id: string; created_at: Date | string }[]>(
        `select distinct on (variant) variant, id::text as id, created_at from registry.supergraphs order by variant, id desc`,
      );
      const versions = await em.execute<VersionRow[]>(
        `select distinct on (variant, subgraph) ${VERSION_COLUMNS} from registry.subgraph_versions order by variant, subgraph, id desc`,
      );
      const documents = await em.execute<{ variant: string; n: number }[]>(
        `select variant, count(*)::int as n from registry.persisted_documents group by variant`,
      );
      const latest = new Map(supergraphs.map((s) => [s.variant, s]));
      const counts = new Map(documents.map((d) => [d.variant, d.n]));
      return names.map(({ variant }) => {
        const supergraph = latest.get(variant);
        return {
          name: variant,
          supergraphId: supergraph?.id ?? null,
          publishedAt: supergraph === undefined ? null : new Date(supergraph.created_at),
          subgraphs: versions.filter((v) => v.variant === variant).map(versionOf),
          documentCount: counts.get(variant) ?? 0,
        };
      });
    },

    /** Whether anything was ever published, checked or registered for the variant. */
    async hasVariant(variant: string): Promise<boolean> {
      const [row] = await em.execute<{ known: boolean }[]>(
        `select exists (select 1 from registry.supergraphs where variant = ?)
             or exists (select 1 from registry.checks where variant = ?)
             or exists (select 1 from registry.persisted_documents where variant = ?) as known`,
        [variant, variant, variant],
      );
      return row?.known === true;
    },

    /** The supergraph the variant serves now (its SDL is read apart, once per id); null before its first publish. */
    async currentSupergraph(variant: string): Promise<{ id: string; publishedAt: Date } | null> {
      const [row] = await em.execute<{ id: string; created_at: Date | string }[]>(
        `select id::text as id, created_at from registry.supergraphs where variant = ? order by id desc limit 1`,
        [variant],
      );
      return row === undefined ? null : { id: row.id, publishedAt: new Date(row.created_at) };
    },

    async supergraphSdl(id: string): Promise<string | null> {
      const [row] = await em.execute<{ sdl: string }[]>(`select sdl from registry.supergraphs where id = ?::bigint`, [id]);
      return row?.sdl ?? null;
    },

    /** A variant's checks, newest first, of one subgraph when `subgraph` is given. */
    async checks(variant: string, subgraph: string | undefined, page: PageRequest): Promise<StoredCheck[]> {
      const rows = await em.execute<
        { id: string; variant: string; subgraph: string; sdl_hash: string; passed: boolean; created_at: Date | string; report: unknown }[]
      >(
        `select id::text as id, variant, subgraph, sdl_hash, passed, created_at, report from registry.checks
          where variant = ? ${subgraph === undefined ? '' : 'and subgraph = ?'} ${page.beforeId === undefined ? '' : 'and id < ?::bigint'}
          order by id desc limit ?`,
        [variant, ...(subgraph === undefined ? [] : [subgraph]), ...(page.beforeId === undefined ? [] : [page.beforeId]), page.limit],
      );
      return rows.map((row) => ({
        id: row.id,
        variant: row.variant,
        subgraph: row.subgraph,
        sdlHash: row.sdl_hash,
        passed: row.passed,
        createdAt: new Date(row.created_at),
        report: storedCheckReport(typeof row.report === 'string' ? JSON.parse(row.report) : row.report),
      }));
    },

    /** A subgraph's versions in a variant, newest first. */
    async versions(variant: string, subgraph: string, page: PageRequest): Promise<SubgraphVersion[]> {
      const rows = await em.execute<VersionRow[]>(
        `select ${VERSION_COLUMNS} from registry.subgraph_versions
          where variant = ? and subgraph = ? ${page.beforeId === undefined ? '' : 'and id < ?::bigint'}
          order by id desc limit ?`,
        [variant, subgraph, ...(page.beforeId === undefined ? [] : [page.beforeId]), page.limit],
      );
      return rows.map(versionOf);
    },
  };
}
export type RegistryReads = ReturnType<typeof registryReadsIn>;
