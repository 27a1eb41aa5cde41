import type { TableOwner } from '@tansu/platform/db/table-owner';
import { registryTables } from '@tansu/schema/migrations';
import { tenantCoreTables } from '@tansu/tenant-core/migrations';
import { SUBGRAPHS } from './subgraphs.ts';

/** Every owner of tables besides the kernel: tenant-core, the subgraphs of the list, the schema registry. */
export async function tableOwners(): Promise<TableOwner[]> {
  const subgraphTables = await Promise.all(SUBGRAPHS.flatMap((subgraph) => (subgraph.tables === undefined ? [] : [subgraph.tables()])));
  return [tenantCoreTables, ...subgraphTables, registryTables];
}
