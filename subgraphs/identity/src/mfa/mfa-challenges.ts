import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import { hashOpaqueToken, newOpaqueToken } from '../tokens.ts';
import { MfaChallengeEntity, type MfaChallenge } from './entities.ts';

/** How long the step between a password and a second factor may take, and how many wrong codes it allows. */
const CHALLENGE_SECONDS = 300;
export const MAX_CODE_FAILURES = 5;

/** A password was right and a second factor is due: a single-use token for that second step. */
export function openChallenge(em: EntityManager, tenantId: string, userId: string): string {
  const { token, hash } = newOpaqueToken();
  em.create(MfaChallengeEntity, {
    id: crypto.randomUUID(),
    tenantId,
    userId,
    tokenHash: hash,
    failedAttempts: 0,
    expiresAt: new Date(Date.now() + CHALLENGE_SECONDS * 1000),
    usedAt: null,
  });
  return token;
}

/** The open challenge of a token, locked for this transaction; spent, expired and unknown ones each have their code. */
export async function lockChallenge(em: EntityManager, token: string): Promise<MfaChallenge> {
  const row =
    token.length > 0 && token.length <= 128
      ? await em.findOne(MfaChallengeEntity, { tokenHash: hashOpaqueToken(token) }, { lockMode: LockMode.PESSIMISTIC_WRITE })
      : null;
  if (row === null) throw new TansuError('TOKEN_INVALID', 'This sign-in step is not valid; sign in again');
  if (row.usedAt !== null) throw new TansuError('TOKEN_ALREADY_USED', 'This sign-in step is finished; sign in again');
  if (row.expiresAt.getTime() <= Date.now()) throw new TansuError('TOKEN_EXPIRED', 'This sign-in step expired; sign in again');
  return row;
}
