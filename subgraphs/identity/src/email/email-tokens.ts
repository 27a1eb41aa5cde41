import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import { hashEmailToken } from '@tansu/tenant-core/email-tokens';
import { EmailTokenEntity, type EmailToken, type EmailTokenPurpose } from '../entities.ts';

/**
 * Marks a token used and returns it, in the caller's transaction (locked, so two requests
 * with one token cannot both succeed). Unknown, used and expired tokens each have their code.
 * Tokens are issued by `@tansu/platform/tenants/email-tokens`, which also issues a new
 * tenant's owner invitation.
 */
export async function consumeEmailToken(em: EntityManager, purpose: EmailTokenPurpose, token: string): Promise<EmailToken> {
  const row =
    token.length > 0 && token.length <= 128
      ? await em.findOne(EmailTokenEntity, { tokenHash: hashEmailToken(token), purpose }, { lockMode: LockMode.PESSIMISTIC_WRITE })
      : null;
  if (row === null) throw new TansuError('TOKEN_INVALID', 'This link is not valid; check that you copied all of it');
  if (row.usedAt !== null) throw new TansuError('TOKEN_ALREADY_USED', 'This link was already used; ask for a new one');
  if (row.expiresAt.getTime() <= Date.now()) throw new TansuError('TOKEN_EXPIRED', 'This link has expired; ask for a new one');
  row.usedAt = new Date();
  return row;
}
