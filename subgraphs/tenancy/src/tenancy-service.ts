import { LockMode } from '@mikro-orm/core';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import type { CallerContext } from '@tansu/platform/context-token';
import { TansuError, errors } from '@tansu/platform/errors';
import { isUuid } from '@tansu/platform/uuid';
import { authorize, isPlatformAdmin, requirePlatformAdmin, requireRecentMfa, requireTenantCaller, type TenantCaller } from '@tansu/tenant-core/guards';
import { MembershipEntity, ROLES, TenantEntity, type Membership, type Role, type Tenant, type TenantStatus } from '@tansu/tenant-core/entities';
import { appendEvent } from '@tansu/platform/events/outbox';
import { checkAuditFilter, readAuditLog, recordAudit, type AuditFilter, type CheckedAuditFilter } from '@tansu/tenant-core/audit-log';
import { settingsOf, validateSettingsPatch, type TenantSettings } from '@tansu/tenant-core/settings';
import { PLATFORM_TENANT_SLUG, findTenantBySlug, provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { normalizeEmail, sendInvitation } from '@tansu/tenant-core/invitations';
import type { RevocationReason } from '@tansu/tenant-core/contracts/session-revocations';
import type { Mailer } from '@tansu/platform/mail/mailer';
import { findPlan, listPlans, type Plan, type QuotaName } from '@tansu/tenant-core/plans';
import { countedUsage, periodOf } from '@tansu/tenant-core/usage-counters';

const READ_TENANT = { role: 'VIEWER', scope: 'tansu:read', action: 'read the tenant' } as const;

/** Where request counts live (Redis): the router counts, tenancy reads and announces limits. */
export interface QuotaStore {
  publishRequestLimit(tenantId: string, limit: number | null): Promise<void>;
  requestsThisMinute(tenantId: string): Promise<number>;
}

export interface QuotaUsageView {
  quota: QuotaName;
  limit: number | null;
  used: number | null;
  period: string | null;
}

/** Says where the user was looked for, and (to a platform administrator) how to name another tenant. */
function memberNotFound(c: TenantCaller, target: { slug: string; own: boolean }, userId: string): TansuError {
  const where = `User "${userId.slice(0, 64)}" is not a member of tenant "${target.slug}"`;
  const hint =
    target.own && isPlatformAdmin(c) ? '; to change a role in another tenant, name that tenant: setMemberRole(input: { tenant: "<slug>", userId, role })' : '';
  return new TansuError('NOT_FOUND', where + hint);
}

/** Tenants and memberships as the tenancy domain offers them; each call checks the caller. */
export function createTenancyService(deps: {
  db: Database;
  defaultPlan: string;
  publishStatus?: (tenantId: string, status: TenantStatus) => Promise<void>;
  quotaStore?: QuotaStore;
  /** Sends a new tenant's owner invitation; `publicUrl` is where its link points. */
  mailer: Mailer;
  publicUrl: string;
  /** After a role change commits: the member's earlier access tokens are refused by every router. */
  revokeSessions?: (tenantId: string, userId: string, reason: RevocationReason) => Promise<void>;
}) {
  const { db } = deps;

  /**
   * The tenant an administrative call acts on: the caller's own (its owners and admins, and
   * an application acting for them needs tansu:admin), or one named by slug (platform
   * administrators only).
   */
  async function managedTenant(c: TenantCaller, slug: string | null | undefined, what: string): Promise<{ id: string; slug: string; own: boolean }> {
    if (slug != null && slug !== c.tenantSlug) {
      requirePlatformAdmin(c);
      const tenant = await db.global((em) => findTenantBySlug(em, String(slug)));
      if (tenant === null) throw errors.notFound('Tenant');
      return { id: tenant.id, slug: tenant.slug, own: false };
    }
    authorize(c, { role: 'ADMIN', scope: 'tansu:admin', action: what });
    return { id: c.tenantId, slug: c.tenantSlug, own: true };
  }

  async function setStatus(caller: CallerContext, slug: string, status: TenantStatus): Promise<Tenant> {
    requirePlatformAdmin(caller);
    if (slug === PLATFORM_TENANT_SLUG) throw errors.forbidden('The platform tenant cannot be suspended or deleted');
    const existing = await db.global((em) => findTenantBySlug(em, slug));
    if (existing === null || existing.status === 'DELETED') throw errors.notFound('Tenant');
    // In the tenant's own context: its event goes to its own outbox rows.
    const tenant = await db.withTenant(existing.id, async (em) => {
      const found = await em.findOneOrFail(TenantEntity, { id: existing.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      // Checked again under the lock: a deletion that committed meanwhile is final.
      if (found.status === 'DELETED') throw errors.notFound('Tenant');
      found.status = status;
      found.statusChangedAt = new Date();
      appendEvent(em, { tenantId: found.id, topic: 'tenant.status_changed', payload: { tenantId: found.id, status } });
      await recordAudit(em, {
        tenantId: found.id,
        actorId: caller.subject,
        action: `tenant.${status.toLowerCase()}`,
        target: slug,
        outcome: 'success',
        detail: { by: 'platform administrator' },
      });
      return found;
    });
    await deps.publishStatus?.(tenant.id, status);
    return tenant;
  }

  async function planOf(tenant: Tenant): Promise<Plan> {
    const plan = await db.global((em) => findPlan(em, tenant.plan));
    if (plan === null) throw errors.notFound('Plan');
    return plan;
  }

  return {
    suspend: (caller: CallerContext, slug: string) => setStatus(caller, slug, 'SUSPENDED'),
    resume: (caller: CallerContext, slug: string) => setStatus(caller, slug, 'ACTIVE'),
    /** Deleting is final: a platform administrator who just proved a second factor. */
    remove: (caller: CallerContext, slug: string) => {
      requirePlatformAdmin(caller);
      requireRecentMfa(caller);
      return setStatus(caller, slug, 'DELETED');
    },

    /**
     * Provisions a tenant; with an owner, the owner's invitation is stored and mailed in the
     * same transaction, so a tenant never exists without it (a refused mail undoes both).
     */
    async createTenant(caller: CallerContext, input: { slug: string; name: string; plan?: string | null; owner?: { email: string } | null }): Promise<Tenant> {
      const c = requirePlatformAdmin(caller);
      const ownerEmail = input.owner == null ? undefined : normalizeEmail(input.owner.email, 'owner.email');
      const inviteOwner =
        ownerEmail === undefined
          ? undefined
          : async (em: EntityManager, created: Tenant) => {
              await sendInvitation(
                em,
                { mailer: deps.mailer, publicUrl: deps.publicUrl },
                { tenant: created, email: ownerEmail, role: 'OWNER', createdBy: c.subject },
              );
              await recordAudit(em, {
                tenantId: created.id,
                actorId: c.subject,
                action: 'user.invited',
                target: ownerEmail,
                outcome: 'success',
                detail: { role: 'OWNER', by: 'platform administrator' },
              });
            };
      const tenant = await provisionTenant(db, { slug: input.slug, name: input.name, plan: input.plan ?? deps.defaultPlan }, { inTransaction: inviteOwner });
      const plan = await db.global((em) => findPlan(em, tenant.plan));
      await deps.quotaStore?.publishRequestLimit(tenant.id, plan?.quotas.requestsPerMinute ?? null);
      return tenant;
    },

    plans: (caller: CallerContext): Promise<Plan[]> => {
      requireTenantCaller(caller);
      return db.global((em) => listPlans(em));
    },

    planOf,

    /** Moves a tenant to another plan (platform administrators); routers apply the new request limit at once. */
    async setPlan(caller: CallerContext, slug: string, planId: string): Promise<Tenant> {
      const c = requirePlatformAdmin(caller);
      const plan = await db.global((em) => findPlan(em, String(planId)));
      if (plan === null) throw errors.notFound('Plan');
      const existing = await db.global((em) => findTenantBySlug(em, String(slug)));
      if (existing === null || existing.status === 'DELETED') throw errors.notFound('Tenant');
      const tenant = await db.withTenant(existing.id, async (em) => {
        const found = await em.findOneOrFail(TenantEntity, { id: existing.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        const previous = found.plan;
        found.plan = plan.id;
        await recordAudit(em, {
          tenantId: found.id,
          actorId: c.subject,
          action: 'tenant.plan_changed',
          target: found.slug,
          outcome: 'success',
          detail: { from: previous, to: plan.id, by: 'platform administrator' },
        });
        return found;
      });
      await deps.quotaStore?.publishRequestLimit(tenant.id, plan.quotas.requestsPerMinute);
      return tenant;
    },

    /** Each quota of the tenant with what is used of it now: its members, and platform administrators. */
    async usage(caller: CallerContext, tenant: Tenant): Promise<QuotaUsageView[]> {
      const c = authorize(caller, READ_TENANT);
      if (c.tenantId !== tenant.id && !isPlatformAdmin(c)) throw errors.forbidden("Only the tenant's members may read its usage");
      const now = new Date();
      const [plan, counted, requests] = await Promise.all([
        planOf(tenant),
        db.withTenant(tenant.id, (em) => countedUsage(em, tenant.id, now)),
        deps.quotaStore?.requestsThisMinute(tenant.id) ?? Promise.resolve(null),
      ]);
      return [
        { quota: 'requestsPerMinute', limit: plan.quotas.requestsPerMinute, used: requests, period: now.toISOString().slice(0, 16) },
        { quota: 'storageBytes', limit: counted.storageBytes.limit, used: counted.storageBytes.used, period: null },
        { quota: 'vectors', limit: counted.vectors.limit, used: counted.vectors.used, period: null },
        {
          quota: 'functionInvocationsPerMonth',
          limit: counted.functionInvocations.limit,
          used: counted.functionInvocations.used,
          period: periodOf('functionInvocations', now),
        },
        // Steps in flight are the workflow engine's to count; the limit paces its workers' claims.
        { quota: 'concurrentRuns', limit: plan.quotas.concurrentRuns, used: null, period: null },
      ];
    },

    async current(caller: CallerContext): Promise<Tenant | null> {
      const c = authorize(caller, READ_TENANT);
      return db.global((em) => em.findOne(TenantEntity, { id: c.tenantId }));
    },

    async list(caller: CallerContext, first: number, offset: number): Promise<Tenant[]> {
      requirePlatformAdmin(caller);
      if (!Number.isInteger(first) || first < 1 || first > 200) throw errors.badInput('first', 'must be between 1 and 200');
      if (!Number.isInteger(offset) || offset < 0) throw errors.badInput('offset', 'must be 0 or more');
      return db.global((em) => em.find(TenantEntity, {}, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: first, offset }));
    },

    /**
     * Entity references from other subgraphs (a user's tenant). A tenant's id, slug and name
     * are what its users type to sign in, so they are not secret; its members are guarded.
     */
    async byIds(ids: readonly string[]): Promise<(Tenant | null)[]> {
      const rows = await db.global((em) => em.find(TenantEntity, { id: { $in: [...ids] } }));
      const byId = new Map(rows.map((t) => [t.id, t]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /**
     * Changes a member's role. In their own tenant everyone follows its rules (only owners make
     * or unmake owners); in another tenant a platform administrator acts as its owner. Once the
     * change commits, the member's earlier access tokens are refused, so the new role applies
     * at once; a refreshed token carries it.
     */
    async setMemberRole(caller: CallerContext, input: { tenant?: string | null; userId: string; role: string }): Promise<Membership> {
      const c = requireTenantCaller(caller);
      if (!(ROLES as readonly string[]).includes(input.role)) throw errors.badInput('role', `must be one of ${ROLES.join(', ')}`);
      const role = input.role as Role;
      const target = await managedTenant(c, input.tenant, 'change roles');
      const actingAsOwner = !target.own || c.roles.includes('OWNER');
      if (role === 'OWNER' && !actingAsOwner) throw errors.forbidden('Only owners may make owners');
      const userId = String(input.userId);
      if (!isUuid(userId)) throw memberNotFound(c, target, userId);
      const { membership, changed } = await db.withTenant(target.id, async (em) => {
        const found = await em.findOne(MembershipEntity, { tenantId: target.id, userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (found === null) throw memberNotFound(c, target, userId);
        if (found.role === 'OWNER' && role !== 'OWNER') {
          if (!actingAsOwner) throw errors.forbidden("Only owners may change an owner's role");
          // Every owner row locked first: two owners demoting each other cannot both pass.
          const owners = (await em.find(MembershipEntity, { tenantId: target.id, role: 'OWNER' }, { lockMode: LockMode.PESSIMISTIC_WRITE })).length;
          if (owners <= 1) throw errors.conflict('A tenant keeps at least one owner');
        }
        const previous = found.role;
        found.role = role;
        appendEvent(em, { tenantId: target.id, topic: 'membership.changed', payload: { userId, role } });
        await recordAudit(em, {
          tenantId: target.id,
          actorId: c.subject,
          action: 'member.role_changed',
          target: userId,
          outcome: 'success',
          detail: { from: previous, to: role },
        });
        return { membership: found, changed: previous !== role };
      });
      // After the commit: a token refreshed from now on reads the new role.
      if (changed) await deps.revokeSessions?.(target.id, userId, 'roles');
      return membership;
    },

    async updateSettings(caller: CallerContext, input: { tenant?: string | null; settings: Record<string, unknown> }): Promise<Tenant> {
      const c = requireTenantCaller(caller);
      const tenantId = (await managedTenant(c, input.tenant, 'change its settings')).id;
      const patch = validateSettingsPatch(input.settings);
      return db.withTenant(tenantId, async (em) => {
        const tenant = await em.findOneOrFail(TenantEntity, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        const settings: Record<string, unknown> = { ...tenant.settings, ...patch };
        // Null means the default: not stored, so a later change of the default applies.
        for (const [field, value] of Object.entries(settings)) if (value === null) delete settings[field];
        tenant.settings = settings;
        await recordAudit(em, { tenantId, actorId: c.subject, action: 'tenant.settings_changed', target: tenant.slug, outcome: 'success', detail: patch });
        return tenant;
      });
    },

    /** A tenant's settings: its own members, and platform administrators. */
    settings(caller: CallerContext, tenant: Tenant): TenantSettings {
      const c = authorize(caller, READ_TENANT);
      if (c.tenantId !== tenant.id && !isPlatformAdmin(c)) throw errors.forbidden("Only the tenant's members may read its settings");
      return settingsOf(tenant);
    },

    /** The tenant's audit log: its owners and admins (and platform administrators, for any tenant). */
    async auditLog(caller: CallerContext, input: { tenant?: string | null; filter?: AuditFilter | null; first: number; after?: string | null }) {
      const tenantId = (await managedTenant(requireTenantCaller(caller), input.tenant, 'read its audit log')).id;
      return readAuditLog(db, tenantId, checkAuditFilter(input.filter), input.first, input.after);
    },

    /**
     * Who may follow the audit log as it is recorded, and which entries: the same guard as the
     * query, for the caller's own tenant only (a live feed never names another tenant).
     */
    async auditFeed(caller: CallerContext, filter: AuditFilter | null | undefined): Promise<{ tenantId: string; filter: CheckedAuditFilter }> {
      const tenantId = (await managedTenant(requireTenantCaller(caller), null, 'read its audit log')).id;
      return { tenantId, filter: checkAuditFilter(filter) };
    },

    /** A tenant's members: its owners and admins, and platform administrators. */
    async members(caller: CallerContext, tenantId: string): Promise<Membership[]> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: "list the tenant's members" });
      if (c.tenantId !== tenantId && !isPlatformAdmin(c)) throw errors.forbidden("Only the tenant's owners and admins may list its members");
      return db.withTenant(tenantId, (em) => em.find(MembershipEntity, { tenantId }, { orderBy: { createdAt: 'asc' } }));
    },
  };
}
export type TenancyService = ReturnType<typeof createTenancyService>;
