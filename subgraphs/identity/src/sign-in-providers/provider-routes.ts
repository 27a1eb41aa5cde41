import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type Provider from 'oidc-provider';
import { recordAuditNow, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import type { Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import type { Logger } from '@tansu/platform/logger';
import type { Tenant } from '@tansu/tenant-core/entities';
import type { AuthService } from '../auth-service.ts';
import type { CredentialGuard } from '../credential-guard.ts';
import type { MfaService } from '../mfa/mfa-service.ts';
import { secondFactorPage, upstreamErrorPage } from '../pages/sign-in-pages.ts';
import { hashOpaqueToken, newOpaqueToken } from '../tokens.ts';
import { userForUpstream } from './linked-accounts.ts';
import { upstreamCallbackUrl, type IdentityProviders } from './provider-settings.ts';
import type { UpstreamClients } from './upstream-clients.ts';

/** What the sign-in remembers (server-side, in its interaction) while the browser is upstream. */
interface PendingUpstream {
  idp: string;
  state: string;
  nonce: string;
  verifier: string;
  /** Hash of a cookie only the browser that started holds: the sign-in finishes in that browser or not at all. */
  binding: string;
}

const BINDING_COOKIE = '_tansu_upstream';
/** What an interaction id looks like (the provider's ids); anything else in `state` is not ours. */
const INTERACTION_ID = /^[\w-]{1,100}$/;

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type Html = (res: ServerResponse, status: number, body: string) => void;

const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * "Continue with …" on a tenant's sign-in page: the browser goes to the upstream provider
 * (code flow with PKCE, state and nonce) and comes back to our callback, where the upstream
 * account is linked to one of the tenant's users and the sign-in resumes.
 */
export function createProviderSignInRoutes(deps: {
  db: Database;
  auth: AuthService;
  mfa: MfaService;
  identityProviders: IdentityProviders;
  upstream: UpstreamClients;
  publicUrl: string;
  logger: Logger;
  html: Html;
  /** The per-address limit of credential requests; the callback spends a code, so it counts. */
  guard?: CredentialGuard;
}) {
  const { html } = deps;

  /** GET /identity/{slug}/interaction/{uid}/federated/{idp}: leave for the upstream provider. */
  async function start(
    res: ServerResponse,
    provider: Provider,
    tenant: Tenant,
    details: Awaited<ReturnType<Provider['interactionDetails']>>,
    idp: string,
  ): Promise<void> {
    const record = await deps.identityProviders.find(tenant.id, idp);
    if (record === null) return html(res, 404, upstreamErrorPage({ tenantName: tenant.name, message: 'This sign-in option does not exist.' }));
    let config: client.Configuration;
    try {
      config = await deps.upstream.config(record);
    } catch (error) {
      deps.logger.warn({ err: error, tenant: tenant.slug, idp }, 'upstream discovery failed');
      return html(
        res,
        502,
        upstreamErrorPage({ tenantName: tenant.name, message: `${record.name} cannot be reached; try again later or sign in with your password.` }),
      );
    }
    const { token: binding, hash: bindingHash } = newOpaqueToken();
    const pending: PendingUpstream = {
      idp,
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      binding: bindingHash,
    };
    details.result = { upstream: pending };
    await details.persist();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: upstreamCallbackUrl(deps.publicUrl, tenant.slug, idp),
      scope: record.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      // The interaction id rides in the state: the callback finds the sign-in it belongs to.
      state: `${details.uid}.${pending.state}`,
      nonce: pending.nonce,
    });
    // Lax still travels on the top-level redirect back from the upstream provider.
    const secure = deps.publicUrl.startsWith('https:') ? '; Secure' : '';
    const cookie = `${BINDING_COOKIE}=${binding}; Path=${callbackPath(tenant.slug, idp)}; Max-Age=600; HttpOnly; SameSite=Lax${secure}`;
    res.writeHead(303, { location: url.toString(), 'cache-control': 'no-store', 'set-cookie': cookie }).end();
  }

  const callbackPath = (tenantSlug: string, idp: string) => new URL(upstreamCallbackUrl(deps.publicUrl, tenantSlug, idp)).pathname;

  /** GET /identity/{slug}/federation/{idp}/callback: back from upstream; link the account and resume. */
  async function callback(req: IncomingMessage, res: ServerResponse, provider: Provider, tenant: Tenant, idp: string, origin: RequestOrigin): Promise<void> {
    try {
      await deps.guard?.throttle(origin.ip);
    } catch (error) {
      if (!(error instanceof TansuError) || !error.expose) throw error;
      await recordAuditNow(deps.db, { tenantId: tenant.id, action: 'auth.sign_in', outcome: 'failure', detail: { via: idp, reason: error.message }, origin });
      return html(res, error.status, upstreamErrorPage({ tenantName: tenant.name, message: error.message }));
    }
    const current = new URL(`${deps.publicUrl}${(req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/'}`);
    const [uid, state] = (current.searchParams.get('state') ?? '').split('.');
    const interaction = uid === undefined || !INTERACTION_ID.test(uid) ? undefined : await provider.Interaction.find(uid);
    const pending = (interaction?.result as { upstream?: PendingUpstream } | undefined)?.upstream;
    const binding = cookieValue(req, BINDING_COOKIE);
    const sameBrowser = binding !== undefined && pending !== undefined && safeEqual(hashOpaqueToken(binding), pending.binding);
    if (interaction === undefined || pending === undefined || pending.idp !== idp || pending.state !== state || !sameBrowser) {
      return html(res, 400, upstreamErrorPage({ tenantName: tenant.name, message: 'This sign-in expired or did not start here; start again.' }));
    }
    // The binding is spent whatever happens next.
    res.setHeader('set-cookie', `${BINDING_COOKIE}=; Path=${callbackPath(tenant.slug, idp)}; Max-Age=0; HttpOnly; SameSite=Lax`);
    const upstreamError = current.searchParams.get('error');
    if (upstreamError !== null)
      return html(res, 401, upstreamErrorPage({ tenantName: tenant.name, message: `The other provider did not sign you in (${upstreamError.slice(0, 60)}).` }));
    const record = await deps.identityProviders.find(tenant.id, idp);
    if (record === null) return html(res, 404, upstreamErrorPage({ tenantName: tenant.name, message: 'This sign-in option was removed; start again.' }));
    let claims: client.IDToken | undefined;
    try {
      const config = await deps.upstream.config(record);
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: `${uid}.${state}`,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      deps.logger.warn({ err: error, tenant: tenant.slug, idp }, 'upstream code exchange failed');
    }
    if (claims === undefined)
      return html(res, 401, upstreamErrorPage({ tenantName: tenant.name, message: `${record.name} did not confirm the sign-in; start again.` }));
    let userId: string;
    try {
      userId = (await userForUpstream(deps, tenant, record, claims, origin)).id;
    } catch (error) {
      if (!(error instanceof TansuError) || !error.expose) throw error;
      const target = typeof claims.email === 'string' ? claims.email : claims.sub;
      await recordAuditNow(deps.db, {
        tenantId: tenant.id,
        action: 'auth.sign_in',
        target,
        outcome: 'failure',
        detail: { via: idp, reason: error.message },
        origin,
      });
      return html(res, error.status, upstreamErrorPage({ tenantName: tenant.name, message: error.message }));
    }
    const ttl = Math.max(1, (interaction.exp ?? 0) - Math.floor(Date.now() / 1000));
    // An account with a second factor still proves it here; one that needs a factor first is sent to set one up.
    const step = await deps.mfa.secondStep(tenant, userId);
    if (step === 'enroll') {
      return html(
        res,
        403,
        upstreamErrorPage({
          tenantName: tenant.name,
          message: `${tenant.name} requires two-step verification: set up an authenticator in your account first, then sign in again.`,
        }),
      );
    }
    if (step === 'verify') {
      interaction.result = { pendingSecondFactor: { accountId: userId, failures: 0, method: 'fed' } };
      await interaction.save(ttl);
      return html(res, 200, secondFactorPage({ action: `/identity/${tenant.slug}/interaction/${uid}/mfa`, tenantName: tenant.name }));
    }
    interaction.result = { login: { accountId: userId, amr: ['fed'] } };
    await interaction.save(ttl);
    res.writeHead(303, { location: interaction.returnTo, 'cache-control': 'no-store' }).end();
  }

  return { start, callback };
}
export type ProviderSignInRoutes = ReturnType<typeof createProviderSignInRoutes>;
