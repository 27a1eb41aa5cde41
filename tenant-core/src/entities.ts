import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { TenantSettings } from './settings.ts';

/** Global: the registry every caller resolves a tenant slug against. */
export const TenantEntity = defineEntity({
  name: 'Tenant',
  tableName: 'tenants',
  schema: 'platform',
  properties: {
    id: p.uuid().primary(),
    slug: p.string().unique(),
    name: p.string(),
    status: p.string().$type<TenantStatus>().default('ACTIVE'),
    statusChangedAt: p.datetime().nullable(),
    settings: p.json<Partial<TenantSettings>>(),
    plan: p.string().default('free'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Tenant = InferEntity<typeof TenantEntity>;

export const TENANT_STATUSES = ['ACTIVE', 'SUSPENDED', 'DELETED'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const ROLES = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

export const MembershipEntity = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  schema: 'platform',
  properties: {
    tenantId: p.uuid().primary(),
    userId: p.uuid().primary(),
    role: p.string().$type<Role>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Membership = InferEntity<typeof MembershipEntity>;

export const tenantCoreEntities = [TenantEntity, MembershipEntity];
