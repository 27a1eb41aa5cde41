import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface UpstreamAccount {
  email: string;
  email_verified: boolean;
}

/**
 * A second, independent OpenID Provider on a free local port, playing Google or a company's
 * own provider. Its built-in development pages sign in any login name given (the accounts
 * map decides what that account's email claims say).
 */
export async function startUpstreamIdp(options: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accounts: Record<string, UpstreamAccount>;
}): Promise<{ issuer: string; stop(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'profile'],
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, ...(options.accounts[id] ?? {}) }) }),
    jwks: {
      keys: [
        { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'upstream', alg: 'RS256', use: 'sig' },
      ] as never,
    },
    features: { devInteractions: { enabled: true } },
    // Set, so the provider does not print a notice for each default it uses.
    ttl: { AccessToken: 600, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    // Put every claim in the ID token, as Google does, rather than only at userinfo.
    conformIdTokenClaims: false,
  });
  server.on('request', provider.callback());
  return { issuer, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
