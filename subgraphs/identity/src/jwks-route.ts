import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database } from '@tansu/platform/db/database';
import { sendJson } from '@tansu/platform/http/respond';
import { publicJwks } from './signing-keys.ts';
import { findTenantBySlug } from '@tansu/tenant-core/tenant-registry';

const JWKS_PATH = /^\/identity\/([a-z0-9-]{1,64})\/\.well-known\/jwks\.json$/;

/** `GET /identity/{slug}/.well-known/jwks.json`: the tenant's public signing keys. */
export function createJwksRoute(db: Database, kek: Buffer) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const match = JWKS_PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (match === null || req.method !== 'GET') return false;
    const slug = match[1]!;
    const tenant = await db.global((em) => findTenantBySlug(em, slug));
    if (tenant === null || tenant.status === 'DELETED') {
      sendJson(res, 404, { error: 'unknown tenant' });
      return true;
    }
    const jwks = await db.withTenant(tenant.id, (em) => publicJwks(em, kek, tenant.id));
    sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' });
    return true;
  };
}
