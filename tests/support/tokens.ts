import { SignJWT } from 'jose';
import { deriveSecrets } from '@tansu/platform/config';
import type { Database } from '@tansu/platform/db/database';
import { createSigningKeyCache } from '@tansu/subgraph-identity/signing-keys';
import { TEST_SECRET } from '@tansu/platform/testing/test-servers';
import { PUBLIC_URL } from './test-stack.ts';

/**
 * An access token signed with the tenant's own active key, as its issuer would sign one, with
 * the claims a test needs (a short life, an application's client id and scopes).
 */
export async function mintAccessToken(
  db: Database,
  tenant: { id: string; slug: string },
  subject: string,
  options: { roles?: string[]; scope?: string; clientId?: string; expiresInSeconds?: number; issuer?: string } = {},
): Promise<string> {
  const kek = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).keyEncryptionKey;
  const key = await db.withTenant(tenant.id, (em) => createSigningKeyCache(kek).active(em, tenant.id));
  const claims: Record<string, unknown> = { tid: tenant.id, roles: options.roles ?? ['VIEWER'], scope: options.scope ?? 'openid' };
  if (options.clientId !== undefined) claims.client_id = options.clientId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(options.issuer ?? `${PUBLIC_URL}/identity/${tenant.slug}`)
    .setAudience('tansu')
    .setSubject(subject)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 300))
    .sign(key.privateKey);
}
