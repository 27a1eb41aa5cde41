import type { TableOwner } from '@tansu/platform/db/table-owner';
import { Migration0017SchemaRegistry } from './0017-schema-registry.ts';

/** Platform-wide and the operator's: no application-role access. */
export const registryTables: TableOwner = {
  name: 'schema-registry',
  appSchemas: [],
  migrations: [{ name: '0017-schema-registry', class: Migration0017SchemaRegistry }],
};
