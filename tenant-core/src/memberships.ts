import type { EntityManager } from '@tansu/platform/db/database';
import { MembershipEntity, type Role } from './entities.ts';

export async function rolesOf(em: EntityManager, tenantId: string, userId: string): Promise<Role[]> {
  const rows = await em.find(MembershipEntity, { tenantId, userId });
  return rows.map((row) => row.role);
}

/** Roles of many users of one tenant in one query. */
export async function rolesOfMany(em: EntityManager, tenantId: string, userIds: readonly string[]): Promise<Map<string, Role[]>> {
  const rows = userIds.length === 0 ? [] : await em.find(MembershipEntity, { tenantId, userId: { $in: [...userIds] } });
  const roles = new Map<string, Role[]>();
  for (const row of rows) roles.set(row.userId, [...(roles.get(row.userId) ?? []), row.role]);
  return roles;
}

export function addMembership(em: EntityManager, tenantId: string, userId: string, role: Role): void {
  em.create(MembershipEntity, { tenantId, userId, role });
}
