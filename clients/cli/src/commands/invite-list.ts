import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { UsageError } from '../prompt.ts';

export const ROLES = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

/** A role as typed (any case); `where` names the line it came from. */
export function roleOf(value: string | undefined, where?: string): Role {
  const role = value?.toUpperCase();
  if (!ROLES.includes(role as Role)) throw new UsageError(`${where === undefined ? '' : `${where}: `}The role must be one of ${ROLES.join(', ')}`);
  return role as Role;
}

export interface Invitee {
  email: string;
  role: Role;
}

/**
 * Addresses to invite, one a line, or `email,role` lines (CSV; a first line `email,role` is a
 * header). Blank lines and `#` comments are skipped; a line without a role gets `role`.
 * Every line is checked before anyone is invited, and a bad one is named by its number.
 */
export function parseInviteList(content: string, source: string, role: Role): Invitee[] {
  const invitees: Invitee[] = [];
  let first = true;
  for (const [index, raw] of content.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source}:${index + 1}`;
    const cells = line.split(',').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));
    const header = first && cells[0]?.toLowerCase() === 'email';
    first = false;
    if (header) continue;
    if (cells.length > 2) throw new UsageError(`${where}: expected an address, or address,role`);
    const [email = '', lineRole = ''] = cells;
    if (email === '') throw new UsageError(`${where}: the address is missing`);
    invitees.push({ email, role: lineRole === '' ? role : roleOf(lineRole, where) });
  }
  return invitees;
}

/** The list a `--file` names; `-` reads stdin. */
export async function readInviteList(path: string, role: Role): Promise<Invitee[]> {
  const content =
    path === '-'
      ? await text(process.stdin)
      : await readFile(path, 'utf8').catch(() => {
          throw new UsageError(`Cannot read ${path}`);
        });
  const invitees = parseInviteList(content, path === '-' ? 'stdin' : path, role);
  if (invitees.length === 0) throw new UsageError(`${path === '-' ? 'stdin' : path} holds no address`);
  return invitees;
}
