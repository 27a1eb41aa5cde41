import { createHash } from 'node:crypto';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import type { CheckReport, RegisteredDocument } from '../check/check-subgraph.ts';
import type { SubgraphSdl } from '../check/compose-variant.ts';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface PublishedVariant {
  supergraphId: string;
  supergraphSdl: string;
  subgraphs: SubgraphSdl[];
}

/** The registry's tables, in one transaction (platform-wide, reached with the owner's connection). */
export function registryIn(em: EntityManager) {
  return {
    /** The variant as last published: its supergraph and the latest SDL of each subgraph; null before the first publish. */
    async current(variant: string): Promise<PublishedVariant | null> {
      const [supergraph] = await em.execute<{ id: string; sdl: string }[]>(
        `select id::text, sdl from registry.supergraphs where variant = ? order by id desc limit 1`,
        [variant],
      );
      if (supergraph === undefined) return null;
      const subgraphs = await em.execute<{ subgraph: string; url: string; sdl: string }[]>(
        `select distinct on (subgraph) subgraph, url, sdl from registry.subgraph_versions where variant = ? order by subgraph, id desc`,
        [variant],
      );
      return { supergraphId: supergraph.id, supergraphSdl: supergraph.sdl, subgraphs: subgraphs.map((s) => ({ name: s.subgraph, url: s.url, sdl: s.sdl })) };
    },

    /** Every registered document of a variant, by id. */
    async documentsById(variant: string): Promise<Map<string, string>> {
      const rows = await em.execute<{ hash: string; document: string }[]>(`select hash, document from registry.persisted_documents where variant = ?`, [
        variant,
      ]);
      return new Map(rows.map((r) => [r.hash, r.document]));
    },

    async documents(variant: string): Promise<RegisteredDocument[]> {
      const rows = await em.execute<{ hash: string; client_name: string; document: string }[]>(
        `select hash, client_name, document from registry.persisted_documents where variant = ? order by client_name, hash`,
        [variant],
      );
      return rows.map((r) => ({ name: `${r.client_name}:${r.hash.slice(0, 12)}`, document: r.document }));
    },

    async recordCheck(variant: string, report: CheckReport, sdl: string): Promise<void> {
      const { supergraphSdl: _sdl, ...kept } = report;
      await em.execute(`insert into registry.checks (variant, subgraph, sdl_hash, passed, report) values (?, ?, ?, ?, ?::jsonb)`, [
        variant,
        report.subgraph,
        sha256(sdl),
        report.passed,
        JSON.stringify(kept),
      ]);
    },

    /** Stores a subgraph version and the supergraph it composed into; returns the supergraph's id. */
    async store(variant: string, subgraph: SubgraphSdl, supergraphSdl: string, by: string | null): Promise<string> {
      const [version] = await em.execute<{ id: string }[]>(
        `insert into registry.subgraph_versions (variant, subgraph, url, sdl, sdl_hash, published_by) values (?, ?, ?, ?, ?, ?) returning id::text`,
        [variant, subgraph.name, subgraph.url, subgraph.sdl, sha256(subgraph.sdl), by],
      );
      const [supergraph] = await em.execute<{ id: string }[]>(
        `insert into registry.supergraphs (variant, sdl, sdl_hash, subgraph_version_id) values (?, ?, ?, ?) returning id::text`,
        [variant, supergraphSdl, sha256(supergraphSdl), version!.id],
      );
      return supergraph!.id;
    },

    /** The subgraph versions a variant starts from (its first publish), recorded as they were. */
    async seed(variant: string, subgraphs: readonly SubgraphSdl[]): Promise<void> {
      for (const s of subgraphs) {
        await em.execute(`insert into registry.subgraph_versions (variant, subgraph, url, sdl, sdl_hash, published_by) values (?, ?, ?, ?, ?, 'baseline')`, [
          variant,
          s.name,
          s.url,
          s.sdl,
          sha256(s.sdl),
        ]);
      }
    },

    /** Adds a client's operations (an id already registered keeps its document); returns every id → document given. */
    async registerDocuments(variant: string, clientName: string, documents: readonly { id: string; body: string }[]): Promise<void> {
      for (const d of documents) {
        await em.execute(
          `insert into registry.persisted_documents (variant, hash, document, client_name) values (?, ?, ?, ?) on conflict (variant, hash) do nothing`,
          [variant, d.id, d.body, clientName],
        );
      }
    },

    /** Serialises publishes of one variant until the transaction ends: each composes on the one before. */
    async lock(variant: string): Promise<void> {
      await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`registry:${variant}`]);
    },
  };
}

/** The registry outside a transaction. */
export function createRegistry(db: Database) {
  return {
    transaction: <T>(work: (registry: ReturnType<typeof registryIn>) => Promise<T>) => db.global((em) => work(registryIn(em))),
  };
}
export type Registry = ReturnType<typeof createRegistry>;
