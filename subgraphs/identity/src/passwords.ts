import { hash, verify } from '@node-rs/argon2';
import { errors } from '@tansu/platform/errors';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (argon2id is the library's default algorithm). */
const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

export function validatePassword(password: string, minLength = MIN_PASSWORD_LENGTH): void {
  if (password.length < minLength) {
    throw errors.badInput('password', `must be at least ${minLength} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw errors.badInput('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

/** Compared against when the account does not exist, so timing does not reveal accounts. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  // No account, or one without a password (it signs in through another provider): the same work.
  if (storedHash === undefined || !storedHash.startsWith('$argon2')) {
    decoyHash ??= hashPassword('decoy password never used');
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
