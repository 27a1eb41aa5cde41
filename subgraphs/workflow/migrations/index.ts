import type { TableOwner } from '@tansu/platform/db/table-owner';
import { Migration0002Workflow } from './0002-workflow.ts';
import { Migration0005StepAttemptBase } from './0005-step-attempt-base.ts';
import { Migration0019RunRequestContext } from './0019-run-request-context.ts';

export const workflowTables: TableOwner = {
  name: 'workflow',
  appSchemas: ['workflow'],
  migrations: [
    { name: '0002-workflow', class: Migration0002Workflow },
    { name: '0005-step-attempt-base', class: Migration0005StepAttemptBase },
    { name: '0019-run-request-context', class: Migration0019RunRequestContext },
  ],
};
