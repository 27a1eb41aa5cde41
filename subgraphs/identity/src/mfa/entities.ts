import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const MfaFactorEntity = defineEntity({
  name: 'MfaFactor',
  tableName: 'mfa_factors',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    kind: p.string().$type<'totp' | 'webauthn'>(),
    name: p.string(),
    secretSealed: p.text().nullable(),
    credentialId: p.string().nullable(),
    publicKey: p.text().nullable(),
    signCount: p.bigint('number').default(0),
    transports: p.array().nullable(),
    lastUsedStep: p.bigint('number').nullable(),
    confirmedAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type MfaFactor = InferEntity<typeof MfaFactorEntity>;

export const RecoveryCodeEntity = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    codeHash: p.string(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const MfaChallengeEntity = defineEntity({
  name: 'MfaChallenge',
  tableName: 'mfa_challenges',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    tokenHash: p.string().unique(),
    failedAttempts: p.integer().default(0),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type MfaChallenge = InferEntity<typeof MfaChallengeEntity>;

export const WebAuthnChallengeEntity = defineEntity({
  name: 'WebAuthnChallenge',
  tableName: 'webauthn_challenges',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid().nullable(),
    purpose: p.string().$type<'register' | 'authenticate'>(),
    challenge: p.string(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const mfaEntities = [MfaFactorEntity, RecoveryCodeEntity, MfaChallengeEntity, WebAuthnChallengeEntity];
