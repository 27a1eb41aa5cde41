import type { CallerContext } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { authorize } from '@tansu/tenant-core/guards';
import type { SigningKey } from './entities.ts';
import { RETIRED_KEY_GRACE_MS, signingKeysOf } from './signing-keys.ts';

/** What an administrator may see of a signing key: public facts, never the sealed private half. */
export interface SigningKeyView {
  kid: string;
  algorithm: string;
  status: 'ACTIVE' | 'NEXT' | 'RETIRED';
  createdAt: string;
  retiredAt: string | null;
  expiresAt: string | null;
}

function signingKeyView(key: SigningKey): SigningKeyView {
  const retiredAt = key.status === 'retired' ? (key.retiredAt ?? null) : null;
  return {
    kid: key.kid,
    algorithm: key.alg,
    status: key.status === 'active' ? 'ACTIVE' : key.status === 'next' ? 'NEXT' : 'RETIRED',
    createdAt: key.createdAt.toISOString(),
    retiredAt: retiredAt?.toISOString() ?? null,
    expiresAt: retiredAt === null ? null : new Date(retiredAt.getTime() + RETIRED_KEY_GRACE_MS).toISOString(),
  };
}

/** Listing a tenant's signing keys (owners, admins): unlike rotating them, it asks for no recent second factor. */
export function createSigningKeyList(deps: { db: Database; kek: Buffer }) {
  return {
    async list(caller: CallerContext): Promise<SigningKeyView[]> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: 'see signing keys' });
      const keys = await deps.db.withTenant(c.tenantId, (em) => signingKeysOf(em, deps.kek, c.tenantId));
      return keys.map(signingKeyView);
    },
  };
}
export type SigningKeyList = ReturnType<typeof createSigningKeyList>;
