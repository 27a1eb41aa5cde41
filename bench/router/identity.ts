// The bench acts as the tenant's identity issuer so the router under test runs with
// real JWT verification (JWKS fetch + RS256 signature check) on every request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const BENCH_TENANT = 'bench';
export const BENCH_AUDIENCE = 'tansu';
export const BENCH_TENANT_ID = '00000000-0000-4000-8000-00000000be7c';

export interface Issuer {
  publicUrl: string;
  port: number;
  token: string;
  tokens: string[];
  close(): Promise<void>;
}

/** `users` distinct subjects, one token each: with more than one, no two connections share a caller. */
export async function startIssuer(users = 1): Promise<Issuer> {
  // Key ids lead with the tenant id; the router binds a token's tenant to its key this way.
  const kid = `${BENCH_TENANT_ID}.bench-rs256-1`;
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const jwksPath = `/identity/${BENCH_TENANT}/.well-known/jwks.json`;

  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === jwksPath) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
      res.end(jwks);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const publicUrl = `http://127.0.0.1:${port}`;

  const mint = (i: number) =>
    new SignJWT({
      tid: BENCH_TENANT_ID,
      tenant: BENCH_TENANT,
      roles: ['VIEWER'],
      scope: 'openid',
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(`${publicUrl}/identity/${BENCH_TENANT}`)
      .setAudience(BENCH_AUDIENCE)
      .setSubject(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  const tokens = await Promise.all(Array.from({ length: Math.max(1, users) }, (_, i) => mint(i)));
  const token = tokens[0]!;

  return {
    publicUrl,
    port,
    token,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
