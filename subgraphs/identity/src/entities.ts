import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { Role } from '@tansu/tenant-core/entities';
import { mfaEntities } from './mfa/entities.ts';

export const UserEntity = defineEntity({
  name: 'User',
  tableName: 'users',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    email: p.string(),
    passwordHash: p.text(),
    disabledAt: p.datetime().nullable(),
    emailVerifiedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type User = InferEntity<typeof UserEntity>;

export const RefreshTokenEntity = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    familyId: p.uuid(),
    tokenHash: p.string().unique(),
    expiresAt: p.datetime(),
    rotatedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    /** How the session was authenticated (`pwd`, `mfa`), and when a factor last proved the user. */
    amr: p.array().default(['pwd']),
    authTime: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type RefreshToken = InferEntity<typeof RefreshTokenEntity>;

export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'invitation';

export const EmailTokenEntity = defineEntity({
  name: 'EmailToken',
  tableName: 'email_tokens',
  schema: 'identity',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    purpose: p.string().$type<EmailTokenPurpose>(),
    tokenHash: p.string().unique(),
    userId: p.uuid().nullable(),
    email: p.string(),
    role: p.string().$type<Role>().nullable(),
    createdBy: p.uuid().nullable(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type EmailToken = InferEntity<typeof EmailTokenEntity>;

/** A tenant's token signing keys. The table keeps the schema it was created in. */
export const SigningKeyEntity = defineEntity({
  name: 'SigningKey',
  tableName: 'signing_keys',
  schema: 'platform',
  properties: {
    tenantId: p.uuid().primary(),
    kid: p.string().primary(),
    alg: p.string(),
    publicJwk: p.json<Record<string, unknown>>(),
    privateKeyEnc: p.text(),
    status: p.string().$type<'next' | 'active' | 'retired'>(),
    retiredAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type SigningKey = InferEntity<typeof SigningKeyEntity>;

export const identityEntities = [UserEntity, RefreshTokenEntity, EmailTokenEntity, SigningKeyEntity, ...mfaEntities];
