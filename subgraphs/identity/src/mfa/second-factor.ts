import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@tansu/platform/db/database';
import { decryptSecret } from '@tansu/platform/crypto/key-encryption';
import { MfaFactorEntity, RecoveryCodeEntity } from './entities.ts';
import { matchTotp } from './totp.ts';

const RECOVERY_CODES = 10;
const hashCode = (code: string) =>
  createHash('sha256')
    .update(code.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .digest('base64url');

export async function hasSecondFactor(em: EntityManager, userId: string): Promise<boolean> {
  return (await em.count(MfaFactorEntity, { userId, confirmedAt: { $ne: null } })) > 0;
}

/**
 * Which second factor this code proves, or null: a TOTP code of a confirmed authenticator
 * (each time step once), or an unused recovery code (spent now).
 */
export async function proveSecondFactor(em: EntityManager, kek: Buffer, userId: string, code: string): Promise<'totp' | 'recovery' | null> {
  const trimmed = code.trim();
  if (/^\d{6}$/.test(trimmed)) {
    const factors = await em.find(MfaFactorEntity, { userId, kind: 'totp', confirmedAt: { $ne: null } });
    for (const factor of factors) {
      const step = matchTotp(decryptSecret(kek, factor.secretSealed ?? ''), trimmed);
      // A code seen before (or an older one) is a replay.
      if (step === null || (factor.lastUsedStep != null && step <= factor.lastUsedStep)) continue;
      const claimed = await em.nativeUpdate(
        MfaFactorEntity,
        { id: factor.id, $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: step } }] },
        { lastUsedStep: step, lastUsedAt: new Date() },
      );
      if (claimed === 1) return 'totp';
    }
    return null;
  }
  if (trimmed.length > 32) return null;
  const spent = await em.nativeUpdate(RecoveryCodeEntity, { userId, codeHash: hashCode(trimmed), usedAt: null }, { usedAt: new Date() });
  return spent === 1 ? 'recovery' : null;
}

/** Replaces the user's recovery codes with ten new ones, returned this once (only hashes are kept). */
export async function newRecoveryCodes(em: EntityManager, tenantId: string, userId: string): Promise<string[]> {
  await em.nativeDelete(RecoveryCodeEntity, { userId });
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const raw = randomBytes(8).toString('hex').slice(0, 10);
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
  for (const code of codes) em.create(RecoveryCodeEntity, { id: crypto.randomUUID(), tenantId, userId, codeHash: hashCode(code), usedAt: null });
  await em.flush();
  return codes;
}
