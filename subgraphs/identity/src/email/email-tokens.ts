import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import type { Role } from '@tansu/platform/tenants/entities';
import { EmailTokenEntity, type EmailToken, type EmailTokenPurpose } from '../entities.ts';
import { hashOpaqueToken, newOpaqueToken } from '../tokens.ts';

/** How long a link works: a reset is short-lived, an invitation lasts a day. */
export const EMAIL_TOKEN_LIFETIME_SECONDS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3_600,
  reset_password: 3_600,
  invitation: 24 * 3_600,
};

/** Stores a new single-use token (only its hash) in the caller's transaction and returns it. */
export function issueEmailToken(
  em: EntityManager,
  fields: { tenantId: string; purpose: EmailTokenPurpose; email: string; userId?: string; role?: Role; createdBy?: string },
): { token: string; row: EmailToken } {
  const { token, hash } = newOpaqueToken();
  const row = em.create(EmailTokenEntity, {
    id: crypto.randomUUID(),
    tenantId: fields.tenantId,
    purpose: fields.purpose,
    tokenHash: hash,
    userId: fields.userId ?? null,
    email: fields.email,
    role: fields.role ?? null,
    createdBy: fields.createdBy ?? null,
    expiresAt: new Date(Date.now() + EMAIL_TOKEN_LIFETIME_SECONDS[fields.purpose] * 1000),
    usedAt: null,
  });
  return { token, row };
}

/**
 * Marks a token used and returns it, in the caller's transaction (locked, so two requests
 * with one token cannot both succeed). Unknown, used and expired tokens each have their code.
 */
export async function consumeEmailToken(em: EntityManager, purpose: EmailTokenPurpose, token: string): Promise<EmailToken> {
  const row = token.length > 0 && token.length <= 128 ? await em.findOne(EmailTokenEntity, { tokenHash: hashOpaqueToken(token), purpose }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
  if (row === null) throw new TansuError('TOKEN_INVALID', 'This link is not valid; check that you copied all of it');
  if (row.usedAt !== null) throw new TansuError('TOKEN_ALREADY_USED', 'This link was already used; ask for a new one');
  if (row.expiresAt.getTime() <= Date.now()) throw new TansuError('TOKEN_EXPIRED', 'This link has expired; ask for a new one');
  row.usedAt = new Date();
  return row;
}

/** Retires a user's other open tokens of one purpose (a newer reset link replaces older ones). */
export async function retireEmailTokens(em: EntityManager, filter: { purpose: EmailTokenPurpose; userId?: string; email?: string }): Promise<void> {
  await em.nativeUpdate(EmailTokenEntity, { ...filter, usedAt: null }, { usedAt: new Date() });
}
