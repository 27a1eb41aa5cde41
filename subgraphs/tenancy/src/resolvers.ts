import DataLoader from 'dataloader';
import type { SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import { errors } from '@tansu/platform/errors';
import type { StreamHub } from '@tansu/platform/events/stream-hub';
import type { Membership, Tenant } from '@tansu/tenant-core/entities';
import { auditRecord, type AuditFilter } from '@tansu/tenant-core/audit-log';
import type { Plan, QuotaName } from '@tansu/tenant-core/plans';
import type { TenancyService } from './tenancy-service.ts';
import { auditEntryView } from './audit-entry-view.ts';

export interface TenancyContext extends SubgraphContext {
  tenants: DataLoader<string, Tenant | null>;
}

export function createTenantLoader(service: TenancyService): DataLoader<string, Tenant | null> {
  return new DataLoader((ids) => service.byIds(ids));
}

const QUOTA_ENUM: Record<QuotaName, string> = {
  requestsPerMinute: 'REQUESTS_PER_MINUTE',
  storageBytes: 'STORAGE_BYTES',
  vectors: 'VECTORS',
  functionInvocationsPerMonth: 'FUNCTION_INVOCATIONS_PER_MONTH',
  concurrentRuns: 'CONCURRENT_RUNS',
};

const planView = (plan: Plan) => ({ id: plan.id, name: plan.name, ...plan.quotas });

/** `hub`: the process's audit feed, when it serves the live audit log. */
export function createTenancyResolvers(service: TenancyService, hub?: StreamHub) {
  return {
    Query: {
      auditLog: async (
        _: unknown,
        args: { tenant?: string | null; filter?: AuditFilter | null; first: number; after?: string | null },
        ctx: TenancyContext,
      ) => {
        // Read before the rows: the live feed from here on holds every entry the page lacks.
        const live = hub === undefined || args.tenant != null || ctx.caller.tenantId === undefined ? null : await hub.position(ctx.caller.tenantId);
        const page = await service.auditLog(ctx.caller, args);
        return { ...page, live, entries: page.entries.map((row) => auditEntryView(auditRecord(row))) };
      },
      tenant: (_: unknown, __: unknown, ctx: TenancyContext) => service.current(ctx.caller),
      plans: async (_: unknown, __: unknown, ctx: TenancyContext) => (await service.plans(ctx.caller)).map(planView),
      tenants: (_: unknown, args: { first: number; offset: number }, ctx: TenancyContext) => service.list(ctx.caller, args.first, args.offset),
    },
    Mutation: {
      createTenant: (
        _: unknown,
        { input }: { input: { slug: unknown; name: unknown; plan?: string | null; owner?: { email: string } | null } },
        ctx: TenancyContext,
      ) => {
        if (typeof input.slug !== 'string') throw errors.badInput('slug', 'is required');
        if (typeof input.name !== 'string') throw errors.badInput('name', 'is required');
        return service.createTenant(ctx.caller, { slug: input.slug, name: input.name, plan: input.plan, owner: input.owner });
      },
      setTenantPlan: (_: unknown, args: { tenant: string; plan: string }, ctx: TenancyContext) => service.setPlan(ctx.caller, args.tenant, args.plan),
      suspendTenant: (_: unknown, args: { slug: string }, ctx: TenancyContext) => service.suspend(ctx.caller, args.slug),
      resumeTenant: (_: unknown, args: { slug: string }, ctx: TenancyContext) => service.resume(ctx.caller, args.slug),
      deleteTenant: (_: unknown, args: { slug: string }, ctx: TenancyContext) => service.remove(ctx.caller, args.slug),
      updateTenantSettings: (_: unknown, args: { tenant?: string | null; input: Record<string, unknown> }, ctx: TenancyContext) =>
        service.updateSettings(ctx.caller, { tenant: args.tenant, settings: args.input }),
      setMemberRole: (_: unknown, { input }: { input: { tenant?: string | null; userId: string; role: string } }, ctx: TenancyContext) =>
        service.setMemberRole(ctx.caller, input),
    },
    Tenant: {
      __resolveReference: (ref: { id: string }, ctx: TenancyContext) => ctx.tenants.load(ref.id),
      createdAt: (tenant: Tenant) => tenant.createdAt.toISOString(),
      members: (tenant: Tenant, _: unknown, ctx: TenancyContext) => service.members(ctx.caller, tenant.id),
      settings: (tenant: Tenant, _: unknown, ctx: TenancyContext) => service.settings(ctx.caller, tenant),
      plan: async (tenant: Tenant) => planView(await service.planOf(tenant)),
      usage: async (tenant: Tenant, _: unknown, ctx: TenancyContext) =>
        (await service.usage(ctx.caller, tenant)).map((u) => ({ ...u, quota: QUOTA_ENUM[u.quota] })),
    },
    Membership: {
      createdAt: (membership: Membership) => membership.createdAt.toISOString(),
    },
  };
}
