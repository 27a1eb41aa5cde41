import { generateKeyPair, randomUUID, createPrivateKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { EntityManager } from '../db/database.ts';
import { decryptSecret, encryptSecret } from '../crypto/key-encryption.ts';
import { SigningKeyEntity } from './entities.ts';

const generateRsa = promisify(generateKeyPair);

export const SIGNING_ALG = 'RS256';

export interface ActiveSigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
}

export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeyEnc: string;
}

/**
 * A tenant's own asymmetric key: the public half is published as JWKS, the private half
 * sealed. Generated outside any transaction (it takes tens of milliseconds), stored inside one.
 */
export async function generateSigningKey(kek: Buffer, tenantId: string): Promise<NewSigningKey> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  // The tenant id leads the key id: the router checks a token's tenant against its key.
  const kid = `${tenantId}.${randomUUID()}`;
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    alg: SIGNING_ALG,
    publicJwk: { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' },
    privateKeyEnc: encryptSecret(kek, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  };
}

export function storeSigningKey(em: EntityManager, tenantId: string, key: NewSigningKey): void {
  em.create(SigningKeyEntity, { tenantId, ...key, status: 'active' });
}

export async function publicJwks(em: EntityManager): Promise<{ keys: Record<string, unknown>[] }> {
  const keys = await em.find(SigningKeyEntity, {}, { orderBy: { createdAt: 'desc' } });
  return { keys: keys.map((k) => k.publicJwk) };
}

/**
 * Decrypting a key costs a little; a process keeps each tenant's active key for a minute, so
 * a rotation made by another replica reaches every replica within that time.
 */
export function createSigningKeyCache(kek: Buffer, ttlMs = 60_000, maxTenants = 10_000) {
  const cache = new Map<string, { key: ActiveSigningKey; until: number }>();
  return {
    async active(em: EntityManager, tenantId: string): Promise<ActiveSigningKey> {
      const hit = cache.get(tenantId);
      if (hit !== undefined && hit.until > Date.now()) return hit.key;
      const row = await em.findOne(SigningKeyEntity, { tenantId, status: 'active' }, { orderBy: { createdAt: 'desc' } });
      if (row === null) throw new Error(`Tenant ${tenantId} has no active signing key`);
      const key = { kid: row.kid, alg: row.alg, privateKey: createPrivateKey(decryptSecret(kek, row.privateKeyEnc)) };
      if (cache.size >= maxTenants) cache.delete(cache.keys().next().value!);
      cache.set(tenantId, { key, until: Date.now() + ttlMs });
      return key;
    },
    forget(tenantId: string) {
      cache.delete(tenantId);
    },
  };
}
export type SigningKeyCache = ReturnType<typeof createSigningKeyCache>;
