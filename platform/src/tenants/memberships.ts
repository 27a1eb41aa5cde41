import type { EntityManager } from '../db/database.ts';
import { MembershipEntity, type Role } from './entities.ts';

export async function rolesOf(em: EntityManager, tenantId: string, userId: string): Promise<Role[]> {
  const rows = await em.find(MembershipEntity, { tenantId, userId });
  return rows.map((row) => row.role);
}

export function addMembership(em: EntityManager, tenantId: string, userId: string, role: Role): void {
  em.create(MembershipEntity, { tenantId, userId, role });
}
