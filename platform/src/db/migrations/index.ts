import type { TableOwner } from '../table-owner.ts';
import { Migration0004Notifications } from './0004-notifications.ts';

/** The kernel's own tables: the outbox (created with the first tenant tables) and its trigger. */
export const kernelTables: TableOwner = {
  name: 'kernel',
  appSchemas: ['platform'],
  migrations: [{ name: '0004-notifications', class: Migration0004Notifications }],
};
