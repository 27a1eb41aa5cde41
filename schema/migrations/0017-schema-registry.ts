import { Migration } from '@mikro-orm/migrations';

/**
 * The schema registry: every published subgraph SDL and the supergraph it composed into, per
 * variant (dev, prod, …), every check, and the operations clients registered. Platform-wide
 * and the operator's: the application role reads only what `registryTables` grants it.
 */
export class Migration0017SchemaRegistry extends Migration {
  override name = '0017-schema-registry';

  override up(): void {
    this.addSql(`create schema if not exists registry`);
    this.addSql(`create table registry.subgraph_versions (
      id bigserial primary key,
      variant text not null,
      subgraph text not null,
      url text not null,
      sdl text not null,
      sdl_hash text not null,
      published_by text,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index subgraph_versions_latest on registry.subgraph_versions (variant, subgraph, id desc)`);
    this.addSql(`create table registry.supergraphs (
      id bigserial primary key,
      variant text not null,
      sdl text not null,
      sdl_hash text not null,
      subgraph_version_id bigint references registry.subgraph_versions(id),
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create index supergraphs_latest on registry.supergraphs (variant, id desc)`);
    this.addSql(`create table registry.checks (
      id bigserial primary key,
      variant text not null,
      subgraph text not null,
      sdl_hash text not null,
      passed boolean not null,
      report jsonb not null,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create table registry.persisted_documents (
      variant text not null,
      hash text not null,
      document text not null,
      client_name text not null,
      created_at timestamptz not null default now(),
      primary key (variant, hash)
    )`);
  }
}
