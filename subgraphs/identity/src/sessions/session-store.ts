import type { EntityManager } from '@tansu/platform/db/database';
import { isUuid } from '@tansu/platform/uuid';
import { revokeRefreshTokens } from '../auth-service.ts';

/**
 * A session is what can still be renewed: a family of first-party refresh tokens (`DIRECT`:
 * signIn, verifyMfa, passkeys, external providers), or an application's grant at the tenant's
 * issuer that holds a live refresh token (`ISSUER`). Reads and writes run in the caller's
 * tenant transaction, so row security keeps them to that tenant.
 */
export type SessionKind = 'DIRECT' | 'ISSUER';

export interface SessionView {
  id: string;
  userId: string;
  kind: SessionKind;
  clientId: string | null;
  startedAt: Date;
  lastRefreshedAt: Date | null;
  expiresAt: Date;
  authMethods: string[];
  authenticatedAt: Date | null;
}

export type SessionRef = { kind: 'DIRECT'; familyId: string } | { kind: 'ISSUER'; grantId: string };

const DIRECT_PREFIX = 'direct:';
const ISSUER_PREFIX = 'issuer:';
/** oidc-provider's ids are URL-safe random strings. */
const GRANT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A session id as a client gave it, or null when it cannot name a session at all. */
export function parseSessionId(id: unknown): SessionRef | null {
  if (typeof id !== 'string') return null;
  if (id.startsWith(DIRECT_PREFIX)) {
    const familyId = id.slice(DIRECT_PREFIX.length);
    return isUuid(familyId) ? { kind: 'DIRECT', familyId: familyId.toLowerCase() } : null;
  }
  if (id.startsWith(ISSUER_PREFIX)) {
    const grantId = id.slice(ISSUER_PREFIX.length);
    return GRANT_ID.test(grantId) ? { kind: 'ISSUER', grantId } : null;
  }
  return null;
}

interface DirectRow {
  family_id: string;
  user_id: string;
  created_at: Date | string;
  started_at: Date | string;
  expires_at: Date | string;
  amr: string[] | null;
  auth_time: Date | string | null;
}

interface IssuerRow {
  grant_id: string;
  user_id: string;
  client_id: string | null;
  granted_at: number | null;
  expires_at: Date | string;
  amr: unknown;
  auth_time: number | null;
  issued_at: number | null;
  rotations: number | null;
}

const fromSeconds = (seconds: number | null): Date | null => (seconds === null || !Number.isFinite(Number(seconds)) ? null : new Date(Number(seconds) * 1000));

/** Each family's newest token that can still be exchanged: rotated, revoked and expired ones cannot. */
async function directSessions(em: EntityManager, where: { userIds: readonly string[] } | { familyId: string }): Promise<SessionView[]> {
  const filter = 'userIds' in where ? 't.user_id in (?)' : 't.family_id = ?';
  const rows = await em.execute<DirectRow[]>(
    `select distinct on (t.family_id) t.family_id, t.user_id, t.created_at, t.expires_at, t.amr, t.auth_time,
       (select min(s.created_at) from identity.refresh_tokens s where s.family_id = t.family_id) as started_at
     from identity.refresh_tokens t
     where ${filter} and t.revoked_at is null and t.rotated_at is null and t.expires_at > now()
     order by t.family_id, t.created_at desc`,
    ['userIds' in where ? [...where.userIds] : where.familyId],
  );
  return rows.map((row) => {
    const current = new Date(row.created_at);
    const startedAt = new Date(row.started_at);
    return {
      id: `${DIRECT_PREFIX}${row.family_id}`,
      userId: row.user_id,
      kind: 'DIRECT' as const,
      clientId: null,
      startedAt,
      lastRefreshedAt: current.getTime() > startedAt.getTime() ? current : null,
      expiresAt: new Date(row.expires_at),
      authMethods: row.amr ?? ['pwd'],
      authenticatedAt: row.auth_time === null ? null : new Date(row.auth_time),
    };
  });
}

/** The user's grants at the issuer that hold an unused, unexpired refresh token, with the newest such token. */
async function issuerSessions(em: EntityManager, where: { userIds: readonly string[] } | { grantId: string }): Promise<SessionView[]> {
  const filter = 'userIds' in where ? `g.payload->>'accountId' in (?)` : 'g.id = ?';
  const rows = await em.execute<IssuerRow[]>(
    `select g.id as grant_id, g.payload->>'accountId' as user_id, g.payload->>'clientId' as client_id,
       (g.payload->>'iat')::float8 as granted_at, r.expires_at, r.payload->'amr' as amr,
       (r.payload->>'authTime')::float8 as auth_time, (r.payload->>'iat')::float8 as issued_at,
       (r.payload->>'rotations')::int as rotations
     from identity.oidc_payloads g
     join lateral (
       select t.expires_at, t.payload from identity.oidc_payloads t
       where t.tenant_id = g.tenant_id and t.grant_id = g.id and t.model = 'RefreshToken'
         and t.consumed_at is null and t.expires_at > now()
       order by (t.payload->>'iat')::float8 desc
       limit 1
     ) r on true
     where g.model = 'Grant' and ${filter} and (g.expires_at is null or g.expires_at > now())`,
    ['userIds' in where ? [...where.userIds] : where.grantId],
  );
  return rows.map((row) => {
    const issuedAt = fromSeconds(row.issued_at);
    const startedAt = fromSeconds(row.granted_at) ?? issuedAt ?? new Date(0);
    return {
      id: `${ISSUER_PREFIX}${row.grant_id}`,
      userId: row.user_id,
      kind: 'ISSUER' as const,
      clientId: row.client_id,
      startedAt,
      // Every refresh rotates the token and counts the rotation; the first token of a chain has none.
      lastRefreshedAt: (row.rotations ?? 0) > 0 ? issuedAt : null,
      expiresAt: new Date(row.expires_at),
      authMethods: Array.isArray(row.amr) ? row.amr.filter((m): m is string => typeof m === 'string') : [],
      authenticatedAt: fromSeconds(row.auth_time),
    };
  });
}

const newestFirst = (a: SessionView, b: SessionView) => b.startedAt.getTime() - a.startedAt.getTime() || a.id.localeCompare(b.id);

/** The live sessions of each user, newest first, in the order of `userIds`. */
export async function liveSessionsOf(em: EntityManager, userIds: readonly string[]): Promise<SessionView[][]> {
  if (userIds.length === 0) return [];
  // One transaction, one connection: the two reads run one after the other.
  const direct = await directSessions(em, { userIds });
  const issuer = await issuerSessions(em, { userIds });
  const byUser = new Map<string, SessionView[]>();
  for (const session of [...direct, ...issuer]) byUser.set(session.userId, [...(byUser.get(session.userId) ?? []), session]);
  return userIds.map((id) => (byUser.get(id) ?? []).sort(newestFirst));
}

/** The session if it can still be renewed; an ended, expired or unknown one is null. */
export async function findLiveSession(em: EntityManager, ref: SessionRef): Promise<SessionView | null> {
  const found = ref.kind === 'DIRECT' ? await directSessions(em, { familyId: ref.familyId }) : await issuerSessions(em, { grantId: ref.grantId });
  return found[0] ?? null;
}

/** Its refresh tokens stop working; the access tokens it issued live out their few minutes. */
export async function endOneSession(em: EntityManager, ref: SessionRef): Promise<void> {
  if (ref.kind === 'DIRECT') {
    await revokeRefreshTokens(em, { familyId: ref.familyId });
    return;
  }
  // The grant and everything issued under it, as the provider itself revokes a grant.
  await em.execute(`delete from identity.oidc_payloads where (model = 'Grant' and id = ?) or grant_id = ?`, [ref.grantId, ref.grantId]);
}
