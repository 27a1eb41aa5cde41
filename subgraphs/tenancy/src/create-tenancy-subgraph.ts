import { readFile } from 'node:fs/promises';
import type { TansuConfig } from '@tansu/platform/config';
import type { ContextTokenCodec } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import type { Mailer } from '@tansu/platform/mail/mailer';
import type { StreamHub } from '@tansu/platform/events/stream-hub';
import type { RevocationReason } from '@tansu/tenant-core/contracts/session-revocations';
import type { TenantStatus } from '@tansu/tenant-core/entities';
import { createSubgraphServer } from '@tansu/platform/graphql/subgraph-server';
import { createTenancyService, type QuotaStore } from './tenancy-service.ts';
import { createTenancyResolvers, createTenantLoader, type TenancyContext } from './resolvers.ts';
import { createAuditSubscriptionResolvers } from './audit-subscription.ts';

export const TENANCY_SCHEMA_PATH = new URL('../schema.graphql', import.meta.url);

export async function createTenancySubgraph(deps: {
  db: Database;
  codec: ContextTokenCodec;
  logger: Logger;
  /** `publicUrl`: where the links of emailed invitations point. */
  config: Pick<TansuConfig, 'limits' | 'defaultPlan' | 'publicUrl'>;
  /** Sends the invitation of a new tenant's first owner. */
  mailer: Mailer;
  /** Announces status changes to the routers (Redis); without it they learn at their next resync. */
  publishStatus?: (tenantId: string, status: TenantStatus) => Promise<void>;
  /** Request limits and counts (Redis); without it request usage is unknown and routers learn limits at start-up. */
  quotaStore?: QuotaStore;
  /** Refuses a member's earlier access tokens after a role change (Redis); without it the new role applies at their next refresh. */
  revokeSessions?: (tenantId: string, userId: string, reason: RevocationReason) => Promise<void>;
  /** The process's event hub; the audit log's live feed is served when it is given. */
  hub?: StreamHub;
}) {
  const service = createTenancyService({
    db: deps.db,
    defaultPlan: deps.config.defaultPlan,
    publishStatus: deps.publishStatus,
    quotaStore: deps.quotaStore,
    mailer: deps.mailer,
    publicUrl: deps.config.publicUrl,
    revokeSessions: deps.revokeSessions,
  });
  const server = await createSubgraphServer<TenancyContext>({
    name: 'tenancy',
    typeDefs: await readFile(TENANCY_SCHEMA_PATH, 'utf8'),
    resolvers:
      deps.hub === undefined
        ? createTenancyResolvers(service)
        : { ...createTenancyResolvers(service, deps.hub), ...createAuditSubscriptionResolvers(service, deps.hub) },
    codec: deps.codec,
    logger: deps.logger,
    maxBodyBytes: deps.config.limits.maxBodyBytes,
    makeContext: (base) => ({ ...base, tenants: createTenantLoader(service) }),
    ready: async () => deps.db.global(async (em) => (await em.execute('select 1')).length === 1),
    subscriptions: deps.hub !== undefined,
  });
  return { server, service };
}
