import { createHash, randomBytes } from 'node:crypto';

/**
 * An authorization-code request with PKCE, as a browser app opens it at a tenant's issuer,
 * built by hand where a test needs the raw URL (no discovery round trip).
 */
export function authorizationUrl(issuer: string, options: { clientId: string; redirectUri: string; scope: string; prompt?: string }): string {
  const url = new URL(`${issuer}/auth`);
  const verifier = randomBytes(32).toString('base64url');
  const params: Record<string, string> = {
    client_id: options.clientId,
    response_type: 'code',
    scope: options.scope,
    redirect_uri: options.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  if (options.prompt !== undefined) params.prompt = options.prompt;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}
