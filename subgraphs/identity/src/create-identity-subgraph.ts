import { readFile } from 'node:fs/promises';
import type { TansuConfig } from '@tansu/platform/config';
import type { ContextTokenCodec } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import type { Logger } from '@tansu/platform/logger';
import { createSubgraphServer } from '@tansu/platform/graphql/subgraph-server';
import { createSigningKeyCache } from './signing-keys.ts';
import type { Mailer } from '@tansu/platform/mail/mailer';
import { createAuthService } from './auth-service.ts';
import { createAccountFlows } from './email/account-flows.ts';
import { createMfaService } from './mfa/mfa-service.ts';
import { createPasskeys } from './mfa/passkeys.ts';
import { createProviderSignInRoutes } from './sign-in-providers/provider-routes.ts';
import { createIdentityProviders } from './sign-in-providers/provider-settings.ts';
import { createUpstreamClients } from './sign-in-providers/upstream-clients.ts';
import type { RateLimiter } from '@tansu/platform/rate-limit';
import { createCredentialGuard } from './credential-guard.ts';
import { createJwksRoute } from './jwks-route.ts';
import { createKeyRotation } from './key-rotation.ts';
import { createClientService } from './oidc/client-service.ts';
import { createOidcRoutes } from './oidc/oidc-routes.ts';
import { sendHtml } from './pages/page-headers.ts';
import { createTenantProviders } from './oidc/tenant-providers.ts';
import { createIdentityResolvers, createUserLoader, type IdentityContext } from './resolvers.ts';
import { createUserSessions } from './sessions/user-sessions.ts';
import { createSigningKeyList } from './signing-key-list.ts';

export const IDENTITY_SCHEMA_PATH = new URL('../schema.graphql', import.meta.url);

export async function createIdentitySubgraph(deps: {
  db: Database;
  codec: ContextTokenCodec;
  logger: Logger;
  kek: Buffer;
  cookieKey: string;
  mailer: Mailer;
  /** Announces to the routers that a user's earlier tokens are void (Redis); without it they live out their lifetime. */
  revokeSessions?: (tenantId: string, userId: string) => Promise<void>;
  /** Shared counters for rate limits and lockout (Redis); without it credentials are not throttled. */
  limiter?: RateLimiter;
  config: Pick<
    TansuConfig,
    | 'publicUrl'
    | 'egressAllowPrivate'
    | 'jwtAudience'
    | 'accessTokenTtlSeconds'
    | 'refreshTokenTtlSeconds'
    | 'refreshReuseGraceSeconds'
    | 'limits'
    | 'lockoutThreshold'
    | 'lockoutSeconds'
    | 'credentialRatePerMinute'
  >;
}) {
  const { config } = deps;
  const keys = createSigningKeyCache(deps.kek);
  const guard =
    deps.limiter === undefined
      ? undefined
      : createCredentialGuard({
          limiter: deps.limiter,
          lockoutThreshold: config.lockoutThreshold,
          lockoutSeconds: config.lockoutSeconds,
          ratePerMinute: config.credentialRatePerMinute,
        });
  const auth = createAuthService({
    db: deps.db,
    keys,
    publicUrl: config.publicUrl,
    audience: config.jwtAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    guard,
    revokeSessions: deps.revokeSessions,
  });
  const flows = createAccountFlows({
    db: deps.db,
    auth,
    mailer: deps.mailer,
    publicUrl: config.publicUrl,
    logger: deps.logger,
    guard,
    revokeSessions: deps.revokeSessions,
  });
  const providers = createTenantProviders({
    db: deps.db,
    kek: deps.kek,
    auth,
    cookieKeys: [deps.cookieKey],
    publicUrl: config.publicUrl,
    audience: config.jwtAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    logger: deps.logger,
  });
  const mfa = createMfaService({ db: deps.db, kek: deps.kek, auth, guard });
  const upstream = createUpstreamClients({ allowPrivate: config.egressAllowPrivate });
  const identityProviders = createIdentityProviders({ db: deps.db, kek: deps.kek, publicUrl: config.publicUrl, upstream });
  const providerSignIn = createProviderSignInRoutes({
    db: deps.db,
    auth,
    mfa,
    identityProviders,
    upstream,
    publicUrl: config.publicUrl,
    logger: deps.logger,
    html: sendHtml,
    guard,
  });
  const clients = createClientService({ db: deps.db, kek: deps.kek });
  const rotation = createKeyRotation({ db: deps.db, kek: deps.kek, keys, providers });
  const sessions = createUserSessions({ db: deps.db, revokeSessions: deps.revokeSessions });
  const server = await createSubgraphServer<IdentityContext>({
    name: 'identity',
    typeDefs: await readFile(IDENTITY_SCHEMA_PATH, 'utf8'),
    resolvers: createIdentityResolvers(
      auth,
      clients,
      rotation,
      flows,
      mfa,
      identityProviders,
      createPasskeys({ db: deps.db, auth, publicUrl: config.publicUrl, guard }),
      createSigningKeyList({ db: deps.db, kek: deps.kek }),
      sessions,
    ),
    codec: deps.codec,
    logger: deps.logger,
    maxBodyBytes: config.limits.maxBodyBytes,
    makeContext: (base) => ({ ...base, users: createUserLoader(auth, base), sessions: sessions.loader(base.caller) }),
    routes: [
      createJwksRoute(deps.db, deps.kek),
      createOidcRoutes({ providers, auth, flows, mfa, identityProviders, providerSignIn, codec: deps.codec, logger: deps.logger }),
    ],
    ready: async () => deps.db.global(async (em) => (await em.execute('select 1')).length === 1),
  });
  return {
    server: {
      server: server.server,
      listen: server.listen,
      close: async () => {
        await server.close();
        await upstream.close();
      },
    },
    auth,
  };
}
