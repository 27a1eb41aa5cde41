import type { Migration } from '@mikro-orm/migrations';

export interface OwnedMigration {
  /** Recorded in `tansu_migrations` once applied; a released name never changes. */
  name: string;
  class: new (...args: ConstructorParameters<typeof Migration>) => Migration;
}

/**
 * A part of the system that owns tables: the kernel, tenant-core, each subgraph, the schema
 * registry. Its migrations live beside its code; the runner takes every owner's list.
 */
export interface TableOwner {
  name: string;
  /** Schemas whose rows the application role may read and write (under Row Level Security). */
  appSchemas: readonly string[];
  migrations: readonly OwnedMigration[];
  /** Statements run after the grants on `appSchemas`, to narrow them; `role` is already quoted. */
  narrowGrants?: (role: string) => readonly string[];
}
