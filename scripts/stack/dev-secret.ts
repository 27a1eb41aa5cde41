import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** In development the master secret is made once and kept in the data directory. */
export async function ensureDevSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'secret');
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined && existing.trim().length >= 32) return existing.trim();
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
