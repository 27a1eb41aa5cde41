import { randomBytes } from 'node:crypto';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { decryptSecret, encryptSecret } from '@tansu/platform/crypto/key-encryption';
import { recordAudit } from '@tansu/tenant-core/audit-log';
import { errors } from '@tansu/platform/errors';
import { authorize, requireRecentMfa } from '@tansu/tenant-core/guards';

export type ClientType = 'PUBLIC' | 'CONFIDENTIAL';

export interface ClientRecord {
  client_id: string;
  name: string;
  kind: ClientType;
  metadata: { redirect_uris: string[]; grant_types: string[] };
  created_at: Date;
}

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'];

function checkRedirectUri(uri: string, index: number): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw errors.badInput(`redirectUris[${index}]`, 'is not an absolute URI');
  }
  if (url.hash !== '') throw errors.badInput(`redirectUris[${index}]`, 'must not have a fragment');
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(url.protocol))
    throw errors.badInput(`redirectUris[${index}]`, `the ${url.protocol} scheme is not allowed`);
  // http only for loopback (native apps and development); custom schemes are for mobile apps.
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw errors.badInput(`redirectUris[${index}]`, 'must use https (http is allowed for localhost only)');
  }
}

/**
 * The applications of a tenant that sign users in through its issuer. A confidential client's
 * secret is shown at creation; it is kept sealed (the provider must compare it) and shown
 * again only to owners and admins who just proved a second factor.
 */
export function createClientService(deps: { db: Database; kek: Buffer }) {
  return {
    async create(caller: CallerContext, input: { name: string; type: ClientType; redirectUris: string[]; grantTypes?: string[] | null }) {
      const c = authorize(caller, { role: 'DEVELOPER', scope: 'tansu:admin', action: 'register clients' });
      const name = input.name.trim();
      if (name.length === 0 || name.length > 200) throw errors.badInput('name', 'must be 1-200 characters');
      if (input.redirectUris.length > 20) throw errors.badInput('redirectUris', 'at most 20');
      input.redirectUris.forEach(checkRedirectUri);
      const grantTypes = input.grantTypes ?? ['authorization_code', 'refresh_token'];
      for (const grant of grantTypes) if (!GRANTS.includes(grant)) throw errors.badInput('grantTypes', `unknown grant type ${grant}`);
      if (input.type === 'PUBLIC' && grantTypes.includes('client_credentials'))
        throw errors.badInput('grantTypes', 'public clients cannot use client_credentials');
      if (grantTypes.includes('authorization_code') && input.redirectUris.length === 0)
        throw errors.badInput('redirectUris', 'the authorization code flow needs at least one');
      const clientId = `${c.tenantSlug}_${randomBytes(12).toString('base64url')}`;
      const secret = input.type === 'CONFIDENTIAL' ? randomBytes(32).toString('base64url') : null;
      const metadata = {
        client_id: clientId,
        client_name: name,
        redirect_uris: input.redirectUris,
        grant_types: grantTypes,
        response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
        token_endpoint_auth_method: input.type === 'PUBLIC' ? 'none' : 'client_secret_basic',
      };
      const rows = await deps.db.withTenant(c.tenantId, async (em) => {
        const created = await em.execute<ClientRecord[]>(
          `insert into identity.clients (tenant_id, client_id, name, kind, metadata, secret_enc, created_by) values (?, ?, ?, ?, ?::jsonb, ?, ?)
           returning client_id, name, kind, metadata, created_at`,
          [c.tenantId, clientId, name, input.type, JSON.stringify(metadata), secret === null ? null : encryptSecret(deps.kek, secret), c.subject],
        );
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'client.created',
          target: clientId,
          outcome: 'success',
          detail: { type: input.type },
        });
        return created;
      });
      return { client: rows[0]!, clientSecret: secret };
    },

    /** A confidential client's secret, shown again to its owners and admins after a fresh second factor. */
    async revealSecret(caller: CallerContext, clientId: string): Promise<string> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: 'reveal client secrets' });
      requireRecentMfa(c);
      return deps.db.withTenant(c.tenantId, async (em) => {
        const [row] = await em.execute<{ secret_enc: string | null }[]>(`select secret_enc from identity.clients where client_id = ?`, [
          String(clientId).slice(0, 100),
        ]);
        if (row === undefined) throw errors.notFound('Client');
        if (row.secret_enc === null) throw errors.badInput('clientId', 'is a public client: it has no secret');
        await recordAudit(em, { tenantId: c.tenantId, actorId: c.subject, action: 'client.secret_revealed', target: clientId, outcome: 'success' });
        return decryptSecret(deps.kek, row.secret_enc);
      });
    },

    async list(caller: CallerContext): Promise<ClientRecord[]> {
      const c = authorize(caller, { role: 'VIEWER', scope: 'tansu:read', action: 'list clients' });
      return deps.db.withTenant(c.tenantId, (em) =>
        em.execute<ClientRecord[]>(`select client_id, name, kind, metadata, created_at from identity.clients order by created_at`),
      );
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
