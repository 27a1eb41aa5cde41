import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors as oidcErrors } from 'oidc-provider';
import { CLIENT_HEADER, type ContextTokenCodec } from '@tansu/platform/context-token';
import { TansuError, errors } from '@tansu/platform/errors';
import { readBody } from '@tansu/platform/http/read-body';
import type { Logger } from '@tansu/platform/logger';
import type { RequestOrigin } from '@tansu/tenant-core/audit-log';
import type { Tenant } from '@tansu/tenant-core/entities';
import type { AuthService } from '../auth-service.ts';
import type { AccountFlows } from '../email/account-flows.ts';
import type { MfaService } from '../mfa/mfa-service.ts';
import { accountDonePage, accountFormPage, type AccountPage } from '../pages/account-pages.ts';
import { denyFraming, sendHtml } from '../pages/page-headers.ts';
import { consentPage, loginPage, secondFactorPage, upstreamErrorPage } from '../pages/sign-in-pages.ts';
import type { ProviderSignInRoutes } from '../sign-in-providers/provider-routes.ts';
import type { IdentityProviders } from '../sign-in-providers/provider-settings.ts';
import { API_RESOURCE, type TenantProviders } from './tenant-providers.ts';

const ISSUER_PATH = /^\/identity\/([a-z0-9-]{1,64})(\/.*)?$/;
const INTERACTION = /^\/interaction\/([\w-]{1,100})(\/login|\/mfa|\/consent|\/federated\/[a-z][a-z0-9-]{1,39})?$/;
const UPSTREAM_CALLBACK = /^\/federation\/([a-z][a-z0-9-]{1,39})\/callback$/;
/** Wrong codes allowed on the issuer's second-factor page before the sign-in starts over. */
const MAX_PAGE_CODE_FAILURES = 5;
const ACCOUNT = /^\/account\/(verify-email|reset-password|accept-invitation)$/;
/** Our forms hold a few short fields: anything bigger is refused before it is parsed. */
const FORM_LIMIT_BYTES = 16_384;
const FORM_TYPE = 'application/x-www-form-urlencoded';

const DONE: Record<AccountPage, string> = {
  'verify-email': 'Your email address is confirmed. You can close this page.',
  'reset-password': 'Your password is changed, and every other session is signed out. Sign in with the new password.',
  'accept-invitation': 'Your account is ready. Sign in with your email address and the password you chose.',
};

const html = sendHtml;

/**
 * Who is at the other end: the address the router signed, or else this socket's peer (a
 * caller who reaches the identity port directly is limited by its own address, never by none).
 */
function originOf(req: IncomingMessage, codec: ContextTokenCodec): RequestOrigin {
  const header = req.headers[CLIENT_HEADER];
  const signed = codec.verifyClient(typeof header === 'string' ? header : undefined);
  const userAgent = req.headers['user-agent'];
  return { ip: signed?.ip ?? req.socket.remoteAddress, userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : undefined };
}

/**
 * The fields a page's form posted. A body over the limit is PAYLOAD_TOO_LARGE (413) and one
 * that is not a form is BAD_USER_INPUT (400): the sender's mistake, shown on the page.
 */
async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== '' && type !== FORM_TYPE) {
    req.resume();
    throw errors.badRequest(`This page takes its form as ${FORM_TYPE}, not ${type.slice(0, 60)}; send it from the page.`);
  }
  try {
    return new URLSearchParams((await readBody(req, FORM_LIMIT_BYTES)).toString('utf8'));
  } catch (error) {
    if (!(error instanceof TansuError) || error.code !== 'PAYLOAD_TOO_LARGE') throw error;
    throw new TansuError('PAYLOAD_TOO_LARGE', `What was sent is too large for this form (the limit is ${FORM_LIMIT_BYTES / 1024} KiB); go back and try again.`);
  }
}

/**
 * The posted form, or undefined once the sender's mistake (too large, not a form) was answered
 * with `page` showing it.
 */
async function formOrAnswer(req: IncomingMessage, res: ServerResponse, page: (message: string) => string): Promise<URLSearchParams | undefined> {
  try {
    return await formOf(req);
  } catch (error) {
    const mistake = clientMistake(error);
    if (mistake === undefined) throw error;
    sendHtml(res, mistake.status, page(mistake.message));
    return undefined;
  }
}

/** A mistake of the sender that the page can explain (bad form, refused step), as opposed to our failure. */
function clientMistake(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof TansuError) return error.expose ? { status: error.status, message: error.message } : undefined;
  // The provider's own refusals (no interaction cookie, an interaction that expired or is unknown).
  if (error instanceof oidcErrors.OIDCProviderError && error.expose) return { status: 400, message: 'This sign-in expired or is invalid; start again.' };
  return undefined;
}

/**
 * Everything under `/identity/{slug}/`: the tenant's OpenID Provider (discovery, authorize,
 * token, JWKS, userinfo, revocation, introspection, end-session) and its sign-in and consent
 * pages. Unknown tenants are 404.
 */
export function createOidcRoutes(deps: {
  providers: TenantProviders;
  auth: AuthService;
  flows: AccountFlows;
  mfa: MfaService;
  identityProviders: IdentityProviders;
  providerSignIn: ProviderSignInRoutes;
  codec: ContextTokenCodec;
  logger: Logger;
}) {
  /** The pages emailed links open: GET shows the form, POST spends the token. */
  async function accountPage(req: IncomingMessage, res: ServerResponse, kind: AccountPage, tenant: Tenant) {
    const linkToken = new URL(req.url ?? '/', 'http://local').searchParams.get('token') ?? '';
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (linkToken === '')
        return html(
          res,
          400,
          accountFormPage({ kind, tenantName: tenant.name, token: linkToken, error: 'This link is incomplete; open the whole link from the email.' }),
        );
      return html(res, 200, accountFormPage({ kind, tenantName: tenant.name, token: linkToken }));
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'GET, HEAD, POST');
      return html(res, 405, accountDonePage({ tenantName: tenant.name, message: 'Open the link from the email.' }));
    }
    const form = await formOrAnswer(req, res, (error) => accountFormPage({ kind, tenantName: tenant.name, token: linkToken, error }));
    if (form === undefined) return;
    const token = form.get('token') ?? '';
    const password = form.get('password') ?? '';
    const origin = originOf(req, deps.codec);
    try {
      if (kind === 'verify-email') await deps.flows.verifyEmail({ tenant: tenant.slug, token }, origin);
      else if (kind === 'reset-password') await deps.flows.resetPassword({ tenant: tenant.slug, token, password }, origin);
      else await deps.flows.acceptInvitation({ tenant: tenant.slug, token, password }, origin);
    } catch (error) {
      if (!(error instanceof TansuError) || !error.expose) throw error;
      return html(res, error.status, accountFormPage({ kind, tenantName: tenant.name, token, error: error.message }));
    }
    return html(res, 200, accountDonePage({ tenantName: tenant.name, message: DONE[kind] }));
  }

  async function interaction(
    req: IncomingMessage,
    res: ServerResponse,
    slug: string,
    uid: string,
    action: string | undefined,
    tp: NonNullable<Awaited<ReturnType<TenantProviders['forSlug']>>>,
  ) {
    const { provider, tenant } = tp;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method !== 'GET' && method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'GET, HEAD, POST');
      return html(
        res,
        405,
        loginPage({ action: '', tenantName: tenant.name, clientName: '', error: 'This page is opened or posted from the sign-in, nothing else.' }),
      );
    }
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid)
      return html(res, 400, loginPage({ action: '', tenantName: tenant.name, clientName: '', error: 'This sign-in expired; start again.' }));
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = (client?.clientName as string | undefined) ?? String(details.params.client_id);
    const base = `/identity/${slug}/interaction/${uid}`;
    const prompt = details.prompt.name;
    if (req.method === 'GET' && prompt === 'login' && action?.startsWith('/federated/') === true) {
      return deps.providerSignIn.start(res, provider, tenant, details, action.slice('/federated/'.length));
    }
    if (method === 'GET') {
      if (prompt === 'login') {
        const providers = (await deps.identityProviders.forSignIn(tenant.id)).map((p) => ({ href: `${base}/federated/${p.slug}`, name: p.name }));
        return html(res, 200, loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, providers }));
      }
      return html(
        res,
        200,
        consentPage({
          action: `${base}/consent`,
          clientName,
          scopes: String(details.params.scope ?? '')
            .split(' ')
            .filter(Boolean),
        }),
      );
    }
    // Every posted step reads its form first: too large or not a form is answered on the page.
    const form = await formOrAnswer(req, res, (error) => {
      if (action === '/mfa') return secondFactorPage({ action: `${base}/mfa`, tenantName: tenant.name, error });
      if (action === '/consent' && prompt === 'consent')
        return consentPage({
          action: `${base}/consent`,
          clientName,
          scopes: String(details.params.scope ?? '')
            .split(' ')
            .filter(Boolean),
          error,
        });
      return loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, error });
    });
    if (form === undefined) return;
    if (action === '/login' && prompt === 'login') {
      let user = null;
      try {
        user = await deps.auth.verifyCredentials(tenant, form.get('email') ?? '', form.get('password') ?? '', originOf(req, deps.codec));
      } catch (error) {
        if (error instanceof TansuError && (error.code === 'RATE_LIMITED' || error.code === 'FORBIDDEN' || error.code === 'EMAIL_NOT_VERIFIED')) {
          const status = error.status;
          return html(
            res,
            status,
            loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, email: form.get('email') ?? '', error: error.message }),
          );
        }
        // A malformed address is just a failed sign-in here; our own failures are not.
        if (!(error instanceof TansuError) || !error.expose) throw error;
        user = null;
      }
      if (user === null) {
        return html(
          res,
          401,
          loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, email: form.get('email') ?? '', error: 'Invalid email or password' }),
        );
      }
      const step = await deps.mfa.secondStep(tenant, user.id);
      if (step === 'enroll') {
        return html(
          res,
          403,
          loginPage({
            action: `${base}/login`,
            tenantName: tenant.name,
            clientName,
            error: `${tenant.name} requires two-step verification: set up an authenticator in your account first, then sign in again.`,
          }),
        );
      }
      if (step === 'verify') {
        // The password was right: remember whose it was, on the server, until a code proves the rest.
        details.result = { pendingSecondFactor: { accountId: user.id, failures: 0, method: 'pwd' } };
        await details.persist();
        return html(res, 200, secondFactorPage({ action: `${base}/mfa`, tenantName: tenant.name }));
      }
      return provider.interactionFinished(req, res, { login: { accountId: user.id, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
    }
    if (action === '/mfa' && prompt === 'login') {
      const pending = (details.result as { pendingSecondFactor?: { accountId: string; failures: number; method?: string } } | undefined)?.pendingSecondFactor;
      if (pending === undefined)
        return html(res, 400, loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, error: 'Sign in with your password first.' }));
      let proven: boolean;
      try {
        proven = await deps.mfa.proveCode(tenant, pending.accountId, (form.get('code') ?? '').slice(0, 32), originOf(req, deps.codec));
      } catch (error) {
        if (error instanceof TansuError && error.code === 'RATE_LIMITED')
          return html(res, 429, secondFactorPage({ action: `${base}/mfa`, tenantName: tenant.name, error: error.message }));
        throw error;
      }
      if (proven) {
        // The first factor was a password here, or a sign-in through another provider.
        return provider.interactionFinished(
          req,
          res,
          { login: { accountId: pending.accountId, amr: [pending.method ?? 'pwd', 'mfa'] } },
          { mergeWithLastSubmission: false },
        );
      }
      pending.failures += 1;
      if (pending.failures >= MAX_PAGE_CODE_FAILURES) {
        details.result = {};
        await details.persist();
        return html(res, 401, loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, error: 'Too many wrong codes; sign in again.' }));
      }
      await details.persist();
      return html(
        res,
        401,
        secondFactorPage({
          action: `${base}/mfa`,
          tenantName: tenant.name,
          error: `That code is not valid (${MAX_PAGE_CODE_FAILURES - pending.failures} attempts left).`,
        }),
      );
    }
    if (action === '/consent' && prompt === 'consent') {
      const accountId = details.session?.accountId;
      if (accountId === undefined) return html(res, 400, loginPage({ action: '', tenantName: tenant.name, clientName, error: 'Sign in first.' }));
      const grant =
        details.grantId === undefined
          ? new provider.Grant({ accountId, clientId: String(details.params.client_id) })
          : await provider.Grant.find(details.grantId);
      if (grant === undefined)
        return html(res, 400, loginPage({ action: '', tenantName: tenant.name, clientName, error: 'This sign-in expired; start again.' }));
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? { [API_RESOURCE]: [] }))
        grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return html(res, 400, loginPage({ action: `${base}/login`, tenantName: tenant.name, clientName, error: 'Unexpected step; start again.' }));
  }

  /** Renders what went wrong on a page: the sender's mistake with its status, ours as 500 (logged). */
  function failed(res: ServerResponse, error: unknown, slug: string, what: string, render: (message: string) => string): void {
    const mistake = clientMistake(error);
    if (mistake === undefined) deps.logger.error({ err: error, tenant: slug }, `${what} failed`);
    else deps.logger.debug({ err: error, tenant: slug }, `${what} refused`);
    // Half a page already went out: the connection cannot carry an answer any more.
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    html(res, mistake?.status ?? 500, render(mistake?.message ?? 'Something went wrong; try again in a moment.'));
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    const match = ISSUER_PATH.exec(url.split('?')[0] ?? '');
    if (match === null) return false;
    // Nothing the issuer answers may be shown inside another site's frame (clickjacking a sign-in or consent).
    denyFraming(res);
    const slug = match[1]!;
    const rest = match[2] ?? '/';
    const cached = await deps.providers.forSlug(slug);
    // The cached provider outlives a status change: the tenant's state is read per request.
    let state: 'ACTIVE' | 'SUSPENDED' | 'DELETED' = 'DELETED';
    let tp = cached;
    if (cached !== null) {
      try {
        const current = await deps.auth.tenantBySlug(slug);
        // A slug purged and provisioned again is another tenant: its provider is rebuilt.
        state = current.id === cached.tenant.id ? 'ACTIVE' : 'DELETED';
        if (current.id !== cached.tenant.id) deps.providers.forget(slug);
        // The pages act on the tenant as it is now (settings included), not as it was cached.
        tp = { provider: cached.provider, tenant: current };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'FORBIDDEN' && code !== 'NOT_FOUND') throw error;
        state = code === 'FORBIDDEN' ? 'SUSPENDED' : 'DELETED';
      }
    }
    if (tp === null || state !== 'ACTIVE') {
      res
        .writeHead(state === 'SUSPENDED' ? 403 : 404, { 'content-type': 'application/json' })
        .end(state === 'SUSPENDED' ? '{"error":"tenant suspended"}' : '{"error":"unknown tenant"}');
      return true;
    }
    const account = ACCOUNT.exec(rest);
    if (account !== null) {
      try {
        await accountPage(req, res, account[1] as AccountPage, tp.tenant);
      } catch (error) {
        failed(res, error, slug, 'account page', (message) => accountDonePage({ tenantName: tp.tenant.name, message }));
      }
      return true;
    }
    const upstream = UPSTREAM_CALLBACK.exec(rest);
    if (upstream !== null && req.method === 'GET') {
      try {
        await deps.providerSignIn.callback(req, res, tp.provider, tp.tenant, upstream[1]!, originOf(req, deps.codec));
      } catch (error) {
        failed(res, error, slug, 'upstream sign-in', (message) => upstreamErrorPage({ tenantName: tp.tenant.name, message }));
      }
      return true;
    }
    const step = INTERACTION.exec(rest);
    if (step !== null) {
      try {
        await interaction(req, res, slug, step[1]!, step[2], tp);
      } catch (error) {
        failed(res, error, slug, 'sign-in step', (message) => loginPage({ action: '', tenantName: tp.tenant.name, clientName: '', error: message }));
      }
      return true;
    }
    // The provider sees paths relative to its issuer, as if mounted there.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = url.slice(`/identity/${slug}`.length) || '/';
    await tp.provider.callback()(req, res);
    return true;
  };
}
