import type { CallerContext } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { decryptSecret, encryptSecret } from '@tansu/platform/crypto/key-encryption';
import { recordAudit } from '@tansu/tenant-core/audit-log';
import { errors } from '@tansu/platform/errors';
import { authorize, requireRecentMfa, type TenantCaller } from '@tansu/tenant-core/guards';
import type { UpstreamClients, UpstreamProvider } from './upstream-clients.ts';

export interface IdentityProviderView {
  slug: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string;
  /** What to register at the upstream provider as the redirect URI. */
  redirectUri: string;
  createdAt: Date;
}

export interface IdentityProviderRecord extends UpstreamProvider {
  slug: string;
  name: string;
  scopes: string;
}

interface Row {
  id: string;
  slug: string;
  name: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  scopes: string;
  created_at: Date;
}

const SLUG = /^[a-z][a-z0-9-]{1,39}$/;

/** Where the upstream provider sends the browser back. Tenants register this URL at their providers, so it must not change. */
export function upstreamCallbackUrl(publicUrl: string, tenantSlug: string, providerSlug: string): string {
  return `${publicUrl}/identity/${tenantSlug}/federation/${providerSlug}/callback`;
}

function requireAdmin(caller: CallerContext): TenantCaller {
  return authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: 'see identity providers' });
}

/** A provider can vouch for any address of the tenant: only an owner, with a fresh second factor, adds or removes one. */
function requireOwner(caller: CallerContext): TenantCaller {
  const c = authorize(caller, { role: 'OWNER', scope: 'tansu:admin', action: 'add or remove identity providers' });
  requireRecentMfa(c);
  return c;
}

/** A tenant's external OpenID providers ("Sign in with …"): client secrets sealed at rest, checked by discovery when added. */
export function createIdentityProviders(deps: { db: Database; kek: Buffer; publicUrl: string; upstream: UpstreamClients }) {
  const view = (row: Row, tenantSlug: string): IdentityProviderView => ({
    slug: row.slug,
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    scopes: row.scopes,
    redirectUri: upstreamCallbackUrl(deps.publicUrl, tenantSlug, row.slug),
    createdAt: new Date(row.created_at),
  });

  return {
    async add(
      caller: CallerContext,
      input: { slug: string; name: string; issuer: string; clientId: string; clientSecret: string; scopes?: string | null },
    ): Promise<IdentityProviderView> {
      const c = requireOwner(caller);
      if (!SLUG.test(input.slug)) throw errors.badInput('slug', 'must be 2-40 lowercase letters, digits and dashes, starting with a letter');
      const name = input.name.trim();
      if (name.length === 0 || name.length > 100) throw errors.badInput('name', 'must be 1-100 characters');
      let issuer: URL;
      try {
        issuer = new URL(input.issuer);
      } catch {
        throw errors.badInput('issuer', 'is not a URL');
      }
      if (!deps.upstream.acceptsIssuer(issuer)) throw errors.badInput('issuer', 'must use https');
      if (input.clientId.length === 0 || input.clientId.length > 500) throw errors.badInput('clientId', 'must be 1-500 characters');
      if (input.clientSecret.length === 0 || input.clientSecret.length > 1000) throw errors.badInput('clientSecret', 'must be 1-1000 characters');
      const scopes = (input.scopes ?? 'openid email profile').trim();
      if (!scopes.split(/\s+/).includes('openid') || scopes.length > 500) throw errors.badInput('scopes', 'must include openid');
      const id = crypto.randomUUID();
      // Refused now, with the reason, rather than at a user's first sign-in.
      try {
        await deps.upstream.config({ id, issuer: input.issuer, clientId: input.clientId, clientSecret: input.clientSecret });
      } catch (error) {
        throw errors.badInput('issuer', `OpenID discovery failed (${error instanceof Error ? error.message.slice(0, 200) : 'unreachable'})`);
      }
      return deps.db.withTenant(c.tenantId, async (em) => {
        const [existing] = await em.execute<{ n: number }[]>(`select count(*)::int as n from identity.identity_providers where slug = ?`, [input.slug]);
        if ((existing?.n ?? 0) > 0) throw errors.conflict(`An identity provider "${input.slug}" already exists`);
        const [row] = await em.execute<Row[]>(
          `insert into identity.identity_providers (id, tenant_id, slug, name, issuer, client_id, client_secret_sealed, scopes) values (?, ?, ?, ?, ?, ?, ?, ?) returning *`,
          [id, c.tenantId, input.slug, name, input.issuer.trim(), input.clientId, encryptSecret(deps.kek, input.clientSecret), scopes],
        );
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'identity_provider.added',
          target: input.slug,
          outcome: 'success',
          detail: { issuer: row!.issuer },
        });
        return view(row!, c.tenantSlug);
      });
    },

    async list(caller: CallerContext): Promise<IdentityProviderView[]> {
      const c = requireAdmin(caller);
      const rows = await deps.db.withTenant(c.tenantId, (em) => em.execute<Row[]>(`select * from identity.identity_providers order by created_at`));
      return rows.map((row) => view(row, c.tenantSlug));
    },

    async remove(caller: CallerContext, slug: string): Promise<boolean> {
      const c = requireOwner(caller);
      return deps.db.withTenant(c.tenantId, async (em) => {
        const rows = await em.execute<{ id: string }[]>(`delete from identity.identity_providers where slug = ? returning id`, [String(slug).slice(0, 40)]);
        if (rows.length === 0) throw errors.notFound('Identity provider');
        deps.upstream.forget(rows[0]!.id);
        await recordAudit(em, { tenantId: c.tenantId, actorId: c.subject, action: 'identity_provider.removed', target: slug, outcome: 'success' });
        return true;
      });
    },

    /** The buttons of the tenant's sign-in page. */
    async forSignIn(tenantId: string): Promise<{ slug: string; name: string }[]> {
      return deps.db.withTenant(tenantId, (em) =>
        em.execute<{ slug: string; name: string }[]>(`select slug, name from identity.identity_providers order by created_at`),
      );
    },

    async find(tenantId: string, slug: string): Promise<IdentityProviderRecord | null> {
      const [row] = await deps.db.withTenant(tenantId, (em) => em.execute<Row[]>(`select * from identity.identity_providers where slug = ?`, [slug]));
      if (row === undefined) return null;
      return {
        id: row.id,
        slug: row.slug,
        name: row.name,
        issuer: row.issuer,
        clientId: row.client_id,
        clientSecret: decryptSecret(deps.kek, row.client_secret_sealed),
        scopes: row.scopes,
      };
    },
  };
}
export type IdentityProviders = ReturnType<typeof createIdentityProviders>;
