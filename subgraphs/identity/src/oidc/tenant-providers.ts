import { createPrivateKey } from 'node:crypto';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '@tansu/platform/db/database';
import { decryptSecret } from '@tansu/platform/crypto/key-encryption';
import type { Logger } from '@tansu/platform/logger';
import type { Tenant } from '@tansu/tenant-core/entities';
import { API_SCOPES } from '@tansu/tenant-core/guards';
import { settingsOf } from '@tansu/tenant-core/settings';
import { verifyingKeysOf } from '../signing-keys.ts';
import { findTenantBySlug } from '@tansu/tenant-core/tenant-registry';
import type { AuthService } from '../auth-service.ts';
import { issuerFor } from '../tokens.ts';
import { issuerErrorPage, signOutPage, signedOutPage } from '../pages/issuer-pages.ts';
import { PAGE_HEADERS } from '../pages/page-headers.ts';
import { createOidcAdapterClass } from './oidc-adapter.ts';

/** Access tokens are issued for the Tansu API: JWTs the router verifies like any other. */
export const API_RESOURCE = 'urn:tansu:api';
/** What an application may ask for: identity, plus what it may do in the API for the user (see `authorize`). */
const SCOPES = ['openid', 'offline_access', 'email', 'profile', ...API_SCOPES];

/** The provider's own pages (errors, sign-out) in our look and under our page headers: no outside assets, no framing. */
function renderPage(ctx: KoaContextWithOIDC, html: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) ctx.set(name, value);
  ctx.body = html;
}

export interface TenantProvider {
  tenant: Tenant;
  provider: Provider;
}

/**
 * One OpenID Provider per tenant, created when first needed and kept in a bounded cache: a
 * thousand tenants do not cost a thousand idle providers. Each signs with its tenant's own
 * keys and stores its state under that tenant's row security.
 */
export function createTenantProviders(deps: {
  db: Database;
  kek: Buffer;
  auth: AuthService;
  cookieKeys: string[];
  publicUrl: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  logger: Logger;
  maxProviders?: number;
  /** A provider is rebuilt after this long, so a key rotated by another replica reaches it. */
  providerTtlMs?: number;
}) {
  const max = deps.maxProviders ?? 200;
  const ttlMs = deps.providerTtlMs ?? 60_000;
  const cache = new Map<string, { built: Promise<TenantProvider | null>; until: number }>();

  async function build(slug: string): Promise<TenantProvider | null> {
    const tenant = await deps.db.global((em) => findTenantBySlug(em, slug));
    if (tenant === null) return null;
    // The active key first: the provider signs with the first key of a kind and publishes all.
    const keys = await deps.db.withTenant(tenant.id, (em) => verifyingKeysOf(em, deps.kek, tenant.id));
    const jwks = keys.map((key) => ({
      ...createPrivateKey(decryptSecret(deps.kek, key.privateKeyEnc)).export({ format: 'jwk' }),
      kid: key.kid,
      alg: key.alg,
      use: 'sig',
    }));
    const sessionSeconds = settingsOf(tenant).sessionLifetimeSeconds ?? deps.refreshTokenTtlSeconds;
    const configuration: Configuration = {
      adapter: createOidcAdapterClass({
        db: deps.db,
        tenantId: tenant.id,
        kek: deps.kek,
        refreshReuseGraceSeconds: deps.refreshReuseGraceSeconds,
        publicUrl: deps.publicUrl,
      }),
      jwks: { keys: jwks as NonNullable<Configuration['jwks']>['keys'] },
      // Each issuer's session cookie stays on its own path: signing in at one tenant's issuer
      // does not replace the session held at another's.
      cookies: { keys: deps.cookieKeys, long: { httpOnly: true, sameSite: 'lax', path: `/identity/${slug}` } },
      scopes: SCOPES,
      // amr tells relying parties whether a second factor was used.
      claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'] },
      // Public clients must use PKCE; confidential ones too: there is no reason not to.
      pkce: { required: () => true },
      rotateRefreshToken: true,
      // A grant and the issuer's session live as long as the refresh tokens they back.
      ttl: {
        AccessToken: deps.accessTokenTtlSeconds,
        RefreshToken: sessionSeconds,
        Grant: sessionSeconds,
        Session: sessionSeconds,
        ClientCredentials: deps.accessTokenTtlSeconds,
        IdToken: deps.accessTokenTtlSeconds,
        // A sign-in page left open longer than this starts over.
        Interaction: 600,
      },
      interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/identity/${slug}/interaction/${interaction.uid}` },
      renderError: (ctx, out) => renderPage(ctx, issuerErrorPage({ tenantName: tenant.name, error: out.error, description: out.error_description })),
      findAccount: async (_ctx, sub) => {
        const user = await deps.auth.me(tenant.id, sub);
        // A disabled user's grants stop working: the provider refuses a refresh for no account.
        if (user === null || user.disabled) return undefined;
        return { accountId: sub, claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified }) };
      },
      extraTokenClaims: async (_ctx, token) => {
        // The router reads the tenant and roles from these, as from a password sign-in's token.
        const accountId = 'accountId' in token ? (token.accountId as string | undefined) : undefined;
        const roles = accountId === undefined ? [] : ((await deps.auth.me(tenant.id, accountId))?.roles ?? []);
        return { tid: tenant.id, tenant: slug, roles };
      },
      formats: {
        customizers: {
          // Milliseconds in iat, as in our own tokens: routers place a token issued in the very
          // second of a revocation (a role change, a password reset) on the right side of it.
          jwt: (_ctx, _token, jwt) => {
            jwt.payload.iat = Date.now() / 1000;
          },
        },
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // An application may look into or revoke only tokens issued to itself, never another application's.
        introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => renderPage(ctx, signOutPage({ tenantName: tenant.name, form })),
          postLogoutSuccessSource: (ctx) => renderPage(ctx, signedOutPage({ tenantName: tenant.name })),
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: SCOPES.join(' '),
            audience: deps.audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: deps.accessTokenTtlSeconds,
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
    };
    const provider = new Provider(issuerFor(deps.publicUrl, slug), configuration);
    // The router forwards the browser's requests; the issuer URL, not the socket, says where we are.
    provider.proxy = true;
    provider.on('server_error', (_ctx, error) => deps.logger.error({ err: error, tenant: slug }, 'OIDC provider error'));
    return { tenant, provider };
  }

  return {
    forget(slug: string): void {
      cache.delete(slug);
    },
    async forSlug(slug: string): Promise<TenantProvider | null> {
      const hit = cache.get(slug);
      cache.delete(slug);
      if (hit !== undefined && hit.until > Date.now()) {
        cache.set(slug, hit);
        return hit.built;
      }
      const built = build(slug);
      cache.set(slug, { built, until: Date.now() + ttlMs });
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      const provider = await built.catch((error: unknown) => {
        if (cache.get(slug)?.built === built) cache.delete(slug);
        throw error;
      });
      if (provider === null && cache.get(slug)?.built === built) cache.delete(slug);
      return provider;
    },
  };
}
export type TenantProviders = ReturnType<typeof createTenantProviders>;
