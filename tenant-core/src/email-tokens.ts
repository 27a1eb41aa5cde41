import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@tansu/platform/db/database';
import type { Role } from './entities.ts';

/**
 * Single-use links sent by email (`identity.email_tokens`): identity sends and consumes them
 * all; an owner's invitation is also issued where a tenant is created. Only a hash of each
 * token is stored.
 */
export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'invitation';

/** How long a link works: a reset is short-lived, an invitation lasts a day. */
export const EMAIL_TOKEN_LIFETIME_SECONDS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3_600,
  reset_password: 3_600,
  invitation: 24 * 3_600,
};

export interface IssuedEmailToken {
  id: string;
  email: string;
  role: Role | null;
  createdBy: string | null;
  expiresAt: Date;
  createdAt: Date;
}

/** The stored form of an emailed token; a presented token is looked up by it. */
export function hashEmailToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Stores a new single-use token (only its hash) in the caller's transaction and returns it.
 * Plain SQL: whichever service issues it need not map identity's tables.
 */
export async function issueEmailToken(
  em: EntityManager,
  fields: { tenantId: string; purpose: EmailTokenPurpose; email: string; userId?: string; role?: Role; createdBy?: string },
): Promise<{ token: string; row: IssuedEmailToken }> {
  const token = randomBytes(32).toString('base64url');
  const createdAt = new Date();
  const row: IssuedEmailToken = {
    id: crypto.randomUUID(),
    email: fields.email,
    role: fields.role ?? null,
    createdBy: fields.createdBy ?? null,
    expiresAt: new Date(createdAt.getTime() + EMAIL_TOKEN_LIFETIME_SECONDS[fields.purpose] * 1000),
    createdAt,
  };
  await em.execute(
    `insert into identity.email_tokens (id, tenant_id, purpose, token_hash, user_id, email, role, created_by, expires_at, used_at, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)`,
    [row.id, fields.tenantId, fields.purpose, hashEmailToken(token), fields.userId ?? null, row.email, row.role, row.createdBy, row.expiresAt, createdAt],
  );
  return { token, row };
}

/** Retires the open tokens of one purpose for a user or an address (a newer link replaces older ones). */
export async function retireEmailTokens(em: EntityManager, filter: { purpose: EmailTokenPurpose; userId?: string; email?: string }): Promise<void> {
  const where = ['purpose = ?', 'used_at is null'];
  const params: unknown[] = [filter.purpose];
  if (filter.userId !== undefined) {
    where.push('user_id = ?');
    params.push(filter.userId);
  }
  if (filter.email !== undefined) {
    where.push('email = ?');
    params.push(filter.email);
  }
  if (params.length === 1) throw new Error('retireEmailTokens needs a user or an address');
  await em.execute(`update identity.email_tokens set used_at = ? where ${where.join(' and ')}`, [new Date(), ...params]);
}
