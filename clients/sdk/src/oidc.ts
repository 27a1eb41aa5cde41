import { TansuError } from './errors.ts';

/** Where a browser app's redirect sign-in keeps its PKCE verifier and state between the two pages. */
export type FlowStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface OidcClientOptions {
  /** The tenant's issuer: `{PUBLIC_URL}/identity/{tenant}`. */
  issuer: string;
  /** A public client of the tenant (`createClient` with type PUBLIC). */
  clientId: string;
  redirectUri: string;
  /** Default `openid email profile offline_access` (a refresh token comes with offline_access). */
  scope?: string;
  fetch?: typeof fetch;
}

export interface OidcTokens {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  expiresIn: number;
  tokenEndpoint: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

const FLOW_KEY = 'tansu.oidc.flow';
const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
const random = (length: number) => base64url(crypto.getRandomValues(new Uint8Array(length)));

async function discover(options: OidcClientOptions): Promise<Discovery> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await doFetch(`${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`).catch((error: unknown) => {
    throw new TansuError('NETWORK', `The issuer ${options.issuer} did not answer`, { cause: error });
  });
  if (!response.ok)
    throw new TansuError(response.status === 404 ? 'NOT_FOUND' : 'INTERNAL', `The issuer ${options.issuer} answered ${response.status}`, {
      status: response.status,
    });
  return (await response.json()) as Discovery;
}

/**
 * First half of the authorization-code flow with PKCE: returns the URL to send the browser to
 * (the tenant's sign-in page) and keeps the verifier and state in `storage` (sessionStorage).
 */
export async function startRedirectSignIn(options: OidcClientOptions, storage: FlowStorage): Promise<string> {
  const discovery = await discover(options);
  const verifier = random(48);
  const state = random(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  storage.setItem(FLOW_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid email profile offline_access',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    // offline_access is granted only with consent asked for.
    prompt: 'consent',
  }).toString();
  return url.toString();
}

async function tokenRequest(tokenEndpoint: string, form: Record<string, string>, doFetch: typeof fetch): Promise<OidcTokens> {
  const response = await doFetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  }).catch((error: unknown) => {
    throw new TansuError('NETWORK', `The token endpoint did not answer`, { cause: error });
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string') {
    const refused = body.error === 'invalid_grant' || response.status === 400 || response.status === 401;
    throw new TansuError(refused ? 'UNAUTHENTICATED' : 'INTERNAL', `The issuer refused: ${String(body.error_description ?? body.error ?? response.status)}`, {
      status: response.status,
      extensions: { error: body.error },
    });
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    idToken: typeof body.id_token === 'string' ? body.id_token : undefined,
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 60,
    tokenEndpoint,
  };
}

/** Second half, on the redirect page: checks the state, exchanges the code with the verifier. */
export async function finishRedirectSignIn(options: OidcClientOptions, storage: FlowStorage, callbackUrl: string): Promise<OidcTokens> {
  const saved = storage.getItem(FLOW_KEY);
  storage.removeItem(FLOW_KEY);
  const params = new URL(callbackUrl).searchParams;
  if (params.get('error') !== null)
    throw new TansuError('UNAUTHENTICATED', `Sign-in was not completed: ${params.get('error_description') ?? params.get('error')}`);
  const flow = saved === null ? null : (JSON.parse(saved) as { verifier: string; state: string });
  if (flow === null || params.get('state') !== flow.state)
    throw new TansuError('BAD_USER_INPUT', 'This sign-in was not started here (state mismatch): start it again');
  const code = params.get('code');
  if (code === null) throw new TansuError('BAD_USER_INPUT', 'The redirect carries no code');
  const discovery = await discover(options);
  return tokenRequest(
    discovery.token_endpoint,
    { grant_type: 'authorization_code', code, redirect_uri: options.redirectUri, client_id: options.clientId, code_verifier: flow.verifier },
    options.fetch ?? globalThis.fetch.bind(globalThis),
  );
}

/** A new access token for an OpenID refresh token (the issuer rotates the refresh token). */
export function refreshOidcTokens(
  tokenEndpoint: string,
  clientId: string,
  refreshToken: string,
  doFetch: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<OidcTokens> {
  return tokenRequest(tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }, doFetch);
}
