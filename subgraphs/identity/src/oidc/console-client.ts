/**
 * The web console signs in at every tenant's issuer as this one public client (authorization
 * code with PKCE), returning to the router's `/console/`. Created clients are named
 * `{slug}_{random}`, so this id can never be taken by a tenant's own client.
 */
export const CONSOLE_CLIENT_ID = 'tansu-console';

export function consoleClientMetadata(publicUrl: string): Record<string, unknown> {
  const home = `${publicUrl.replace(/\/+$/, '')}/console/`;
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Tansu console',
    redirect_uris: [home],
    post_logout_redirect_uris: [home],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}
