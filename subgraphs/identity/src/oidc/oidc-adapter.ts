import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '@tansu/platform/db/database';
import { decryptSecret } from '@tansu/platform/crypto/key-encryption';
import { CONSOLE_CLIENT_ID, consoleClientMetadata } from './console-client.ts';

interface PayloadRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

/**
 * oidc-provider's storage for one tenant's issuer, in Postgres under that tenant's row
 * security. Registered clients come from `identity.clients`; their secrets are sealed at
 * rest and opened only here, when the provider authenticates a client.
 */
export function createOidcAdapterClass(deps: { db: Database; tenantId: string; kek: Buffer; refreshReuseGraceSeconds: number; publicUrl: string }) {
  const { db, tenantId } = deps;
  return class TenantOidcAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      await db.withTenant(tenantId, (em) =>
        em.execute(
          `insert into identity.oidc_payloads (tenant_id, model, id, payload, grant_id, user_code, uid, expires_at)
           values (?, ?, ?, ?::jsonb, ?, ?, ?, ${expiresIn === undefined ? 'null' : "now() + (? * interval '1 second')"})
           on conflict (tenant_id, model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
             user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
          [
            tenantId,
            this.model,
            id,
            JSON.stringify(payload),
            payload.grantId ?? null,
            payload.userCode ?? null,
            payload.uid ?? null,
            ...(expiresIn === undefined ? [] : [expiresIn]),
          ],
        ),
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return this.findClient(id);
      return this.findBy('id', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      // The first use counts: reusing within the grace window must not extend it.
      await db.withTenant(tenantId, (em) =>
        em.execute(`update identity.oidc_payloads set consumed_at = coalesce(consumed_at, now()) where model = ? and id = ?`, [this.model, id]),
      );
    }

    async destroy(id: string): Promise<void> {
      await db.withTenant(tenantId, (em) => em.execute(`delete from identity.oidc_payloads where model = ? and id = ?`, [this.model, id]));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.withTenant(tenantId, (em) => em.execute(`delete from identity.oidc_payloads where grant_id = ?`, [grantId]));
    }

    private async findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const rows = await db.withTenant(tenantId, (em) =>
        em.execute<PayloadRow[]>(
          `select payload, consumed_at from identity.oidc_payloads
           where model = ? and ${column} = ? and (expires_at is null or expires_at > now())`,
          [this.model, value],
        ),
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      if (row.consumed_at === null) return row.payload;
      // Two tabs refreshing at once present the same token: within the grace window it still
      // works; after it, its reuse is reported as consumed and the provider revokes the grant.
      const consumedAt = new Date(row.consumed_at).getTime();
      if (this.model === 'RefreshToken' && Date.now() - consumedAt < deps.refreshReuseGraceSeconds * 1000) return row.payload;
      return { ...row.payload, consumed: Math.floor(consumedAt / 1000) };
    }

    private async findClient(clientId: string): Promise<AdapterPayload | undefined> {
      if (clientId === CONSOLE_CLIENT_ID) return consoleClientMetadata(deps.publicUrl) as AdapterPayload;
      const rows = await db.withTenant(tenantId, (em) =>
        em.execute<{ metadata: AdapterPayload; secret_enc: string | null }[]>(`select metadata, secret_enc from identity.clients where client_id = ?`, [
          clientId,
        ]),
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return row.secret_enc === null ? row.metadata : { ...row.metadata, client_secret: decryptSecret(deps.kek, row.secret_enc) };
    }
  };
}
