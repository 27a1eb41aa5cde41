import { generateKeyPair, randomUUID, createPrivateKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { EntityManager } from '@tansu/platform/db/database';
import { decryptSecret, encryptSecret } from '@tansu/platform/crypto/key-encryption';
import { SigningKeyEntity, type SigningKey } from './entities.ts';

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

/**
 * A tenant gets its keys the first time identity needs them: the active key and the next one
 * together, so the next is published before it ever signs and a rotation never names a key
 * verifiers have not seen. Concurrent first uses make one pair.
 */
export async function ensureSigningKeys(em: EntityManager, kek: Buffer, tenantId: string): Promise<void> {
  const hasActive = async () => (await em.count(SigningKeyEntity, { tenantId, status: 'active' })) > 0;
  if (await hasActive()) return;
  const [key, next] = await Promise.all([generateSigningKey(kek, tenantId), generateSigningKey(kek, tenantId)]);
  await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`signing-keys:${tenantId}`]);
  if (await hasActive()) return;
  storeSigningKey(em, tenantId, key);
  storeSigningKey(em, tenantId, next, 'next');
  await em.flush();
}

export function storeSigningKey(em: EntityManager, tenantId: string, key: NewSigningKey, status: 'next' | 'active' = 'active'): void {
  em.create(SigningKeyEntity, { tenantId, ...key, status, retiredAt: null });
}

/**
 * Retired keys keep verifying this long after they stop signing: longer than the longest
 * access token (a day) plus the minute other replicas may still sign with them.
 */
export const RETIRED_KEY_GRACE_MS = 24 * 3_600_000 + 10 * 60_000;

const STATUS_ORDER = { active: 0, next: 1, retired: 2 } as const;

/**
 * The keys a verifier needs, the signing one first: the active key, the next one (published
 * before it signs, so cached key sets already hold it) and recently retired ones.
 */
export async function verifyingKeys(em: EntityManager): Promise<SigningKey[]> {
  const keys = await em.find(SigningKeyEntity, {}, { orderBy: { createdAt: 'desc' } });
  const cutoff = Date.now() - RETIRED_KEY_GRACE_MS;
  return keys.filter((k) => k.status !== 'retired' || (k.retiredAt?.getTime() ?? 0) > cutoff).sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
}

/** The verifying keys of a tenant, made first when it has none yet (its issuer's first use). */
export async function verifyingKeysOf(em: EntityManager, kek: Buffer, tenantId: string): Promise<SigningKey[]> {
  const keys = await verifyingKeys(em);
  if (keys.some((k) => k.status === 'active')) return keys;
  await ensureSigningKeys(em, kek, tenantId);
  return verifyingKeys(em);
}

/**
 * Every key of a tenant, made first when it has none yet (as its JWKS would make them): the
 * active key, the next one, then retired ones, the most recently retired first.
 */
export async function signingKeysOf(em: EntityManager, kek: Buffer, tenantId: string): Promise<SigningKey[]> {
  const all = () => em.find(SigningKeyEntity, { tenantId }, { orderBy: { createdAt: 'desc' } });
  let keys = await all();
  if (!keys.some((k) => k.status === 'active')) {
    await ensureSigningKeys(em, kek, tenantId);
    keys = await all();
  }
  const retiredAt = (k: SigningKey) => k.retiredAt?.getTime() ?? 0;
  return keys.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || retiredAt(b) - retiredAt(a));
}

export async function publicJwks(em: EntityManager, kek: Buffer, tenantId: string): Promise<{ keys: Record<string, unknown>[] }> {
  return { keys: (await verifyingKeysOf(em, kek, tenantId)).map((k) => k.publicJwk) };
}

/**
 * Rotation, in the tenant's transaction: the published `next` key starts signing, the
 * active one retires (still verifying), and a new `next` key is published for the rotation
 * after this one. A tenant without a `next` key (made before rotation existed) gets one
 * that signs at once.
 */
export async function rotateSigningKeys(
  em: EntityManager,
  tenantId: string,
  fresh: NewSigningKey,
  successor: NewSigningKey,
): Promise<{ activeKid: string; nextKid: string }> {
  // Two rotations at once would both promote the same key and publish two successors.
  await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`signing-keys:${tenantId}`]);
  const keys = await em.find(SigningKeyEntity, { tenantId, status: { $in: ['next', 'active'] } });
  const next = keys.find((k) => k.status === 'next');
  for (const key of keys) {
    if (key.status === 'active') {
      key.status = 'retired';
      key.retiredAt = new Date();
    }
  }
  let activeKid: string;
  if (next !== undefined) {
    next.status = 'active';
    activeKid = next.kid;
  } else {
    storeSigningKey(em, tenantId, fresh, 'active');
    activeKid = fresh.kid;
  }
  storeSigningKey(em, tenantId, successor, 'next');
  return { activeKid, nextKid: successor.kid };
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
      const activeRow = () => em.findOne(SigningKeyEntity, { tenantId, status: 'active' }, { orderBy: { createdAt: 'desc' } });
      // The extra round trips of a first use are paid once per tenant, not at every cache miss.
      let row = await activeRow();
      if (row === null) {
        await ensureSigningKeys(em, kek, tenantId);
        row = await activeRow();
      }
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
