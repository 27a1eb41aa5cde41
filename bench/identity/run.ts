// `npm run bench:identity`: the router's cost of validating a token per request, against a
// bare jose verify of the same tokens in the same run, and sign-in throughput with the
// argon2id parameters we ship (through the router, on the whole platform). Human lines
// first; the last stdout line is the JSON summary.
//
// Env: BENCH_TOKENS (distinct tokens, default 2000), BENCH_ROUNDS (passes over them, default 20),
// BENCH_SIGNIN_SECONDS (default 5), BENCH_SIGNIN_CONCURRENCY (default 4).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createAuthenticator } from '@tansu/router/auth/authenticator';
import { BENCH_ADMIN, startBenchStack } from '../support/bench-stack.ts';
import { createTenant, gql, signIn, signUp } from '../../tests/support/graphql-client.ts';

const TENANT_ID = '00000000-0000-4000-8000-0000000000aa';
const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const fmt = (n: number, digits = 2) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Average microseconds per call of `fn` over every token, `rounds` times. */
async function timePerCall(tokens: string[], rounds: number, fn: (token: string) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let round = 0; round < rounds; round++) for (const token of tokens) await fn(token);
  return ((performance.now() - started) * 1000) / (tokens.length * rounds);
}

async function measureVerification(tokenCount: number, rounds: number) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `${TENANT_ID}.bench`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const issuer = `${base}/identity/bench`;
    const tokens = await Promise.all(
      Array.from({ length: tokenCount }, (_, i) =>
        new SignJWT({ tid: TENANT_ID, roles: ['VIEWER'], scope: 'openid' })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setIssuer(issuer)
          .setAudience('tansu')
          .setSubject(`user-${i}`)
          .setExpirationTime('1h')
          .sign(privateKey),
      ),
    );
    const authenticator = createAuthenticator({ publicUrl: base, audience: 'tansu', jwksUrlTemplate: `${base}/identity/{tenant}/.well-known/jwks.json` });
    // Cold: every token seen for the first time (a full RS256 verification each).
    const cold = await timePerCall(tokens, 1, (token) => authenticator.authenticate(`Bearer ${token}`));
    // Steady state, as a router serves the same callers again and again.
    const ours = await timePerCall(tokens, rounds, (token) => authenticator.authenticate(`Bearer ${token}`));
    const keySet = createLocalJWKSet(jwks);
    const peer = await timePerCall(tokens, Math.max(1, Math.floor(rounds / 4)), (token) =>
      jwtVerify(token, keySet, { issuer, audience: 'tansu', algorithms: ['RS256'] }),
    );
    return { cold, ours, peer };
  } finally {
    server.close();
  }
}

async function measureSignIn(seconds: number, concurrency: number): Promise<number> {
  // One load generator from one address: the per-address limit would stop it.
  const { stack, stop } = await startBenchStack({ TANSU_CREDENTIAL_RATE_PER_MINUTE: '100000' });
  try {
    const url = stack.graphqlUrl;
    const admin = await signIn(url, 'platform', BENCH_ADMIN.email, BENCH_ADMIN.password);
    await createTenant(url, admin.accessToken, 'bench', 'Bench');
    await signUp(url, 'bench', 'user@bench.test', 'user-password-for-bench');
    const op = 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }';
    const variables = { i: { tenant: 'bench', email: 'user@bench.test', password: 'user-password-for-bench' } };
    const deadline = performance.now() + seconds * 1000;
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const res = await gql<{ signIn: { accessToken: string } }>(url, op, { variables });
          if (res.body.errors !== undefined) throw new Error(`sign-in failed: ${JSON.stringify(res.body.errors)}`);
          done += 1;
        }
      }),
    );
    return done / ((performance.now() - started) / 1000);
  } finally {
    await stop();
  }
}

try {
  const tokens = envInt('BENCH_TOKENS', 2_000);
  const rounds = envInt('BENCH_ROUNDS', 20);
  const verification = await measureVerification(tokens, rounds);
  console.log(
    `token validation at the router: ${fmt(verification.ours)} µs per request once a token was seen (${tokens} tokens × ${rounds} passes); first sight ${fmt(verification.cold)} µs`,
  );
  console.log(`bare jose jwtVerify of the same tokens (local key set): ${fmt(verification.peer)} µs per call`);
  const signInPerS = await measureSignIn(envInt('BENCH_SIGNIN_SECONDS', 5), envInt('BENCH_SIGNIN_CONCURRENCY', 4));
  console.log(`sign-in through the router with argon2id (19 MiB, 2 passes, 1 lane): ${fmt(signInPerS, 1)} sign-ins/s`);
  const ratio = verification.ours / verification.peer;
  console.log(
    JSON.stringify({
      bench: 'identity',
      metric: 'verify_us',
      ours: Number(verification.ours.toFixed(3)),
      peer: 'jose verify',
      peerValue: Number(verification.peer.toFixed(3)),
      ratio: Number(ratio.toFixed(4)),
      signInPerS: Number(signInPerS.toFixed(1)),
    }),
  );
  process.exit(0);
} catch (error) {
  console.error(`bench:identity FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
