import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { dataOf, expectError, gql, type AuthPayload } from './graphql-client.ts';

const AUTH_FIELDS = 'accessToken refreshToken expiresIn user { id email roles tenant { id slug name } }';
const lastStep = new Map<string, number>();

/**
 * A code the server has not seen yet, as an authenticator app would show it: each 30-second
 * step works once, and the server accepts one step either side of its clock.
 */
export async function nextTotp(secret: string): Promise<string> {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), period: 30 });
  for (;;) {
    const current = totp.counter();
    const step = Math.max((lastStep.get(secret) ?? -Infinity) + 1, current - 1);
    if (step <= current + 1) {
      lastStep.set(secret, step);
      return totp.generate({ timestamp: step * 30_000 });
    }
    await sleep(30_000 - (Date.now() % 30_000) + 50);
  }
}

/** Sets up an authenticator for a signed-in user; returns its secret, the recovery codes and a session proven by it. */
export async function enrollTotp(url: string, token: string): Promise<{ secret: string; factorId: string; recoveryCodes: string[]; session: AuthPayload }> {
  const enrollment = dataOf(
    await gql<{ enrollTotp: { factorId: string; secret: string } }>(url, 'mutation { enrollTotp { factorId secret } }', { token }),
  ).enrollTotp;
  const confirmed = dataOf(
    await gql<{ confirmTotp: { recoveryCodes: string[]; session: AuthPayload } }>(
      url,
      `mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes session { ${AUTH_FIELDS} } } }`,
      {
        token,
        variables: { i: { factorId: enrollment.factorId, code: await nextTotp(enrollment.secret) } },
      },
    ),
  ).confirmTotp;
  return { secret: enrollment.secret, factorId: enrollment.factorId, ...confirmed };
}

/** Password, then MFA_REQUIRED, then a code: a full sign-in of a user with an authenticator. */
export async function signInWithTotp(url: string, tenant: string, email: string, password: string, secret: string): Promise<AuthPayload> {
  const first = await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', { variables: { i: { tenant, email, password } } });
  const mfaToken = String(expectError(first, 'MFA_REQUIRED').extensions?.mfaToken);
  const res = await gql<{ verifyMfa: AuthPayload }>(url, `mutation($i: VerifyMfaInput!) { verifyMfa(input: $i) { ${AUTH_FIELDS} } }`, {
    variables: { i: { tenant, mfaToken, code: await nextTotp(secret) } },
  });
  return dataOf(res).verifyMfa;
}
