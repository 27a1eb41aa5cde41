import type { Database, EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import { appendEvents } from '@tansu/platform/events/outbox';

/** Where a request came from, as the router saw it. */
export interface RequestOrigin {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface AuditEntry {
  tenantId: string;
  /** A user id, a client id, or undefined for an anonymous attempt. */
  actorId?: string | null;
  /** Dotted names: `auth.sign_in`, `auth.refresh`, `member.role_changed`, `tenant.suspended`, … */
  action: string;
  target?: string | null;
  outcome: 'success' | 'failure';
  origin?: RequestOrigin;
  /**
   * Shown to the tenant's owners and admins and published on the tenant's audit feed: never
   * a secret, a token, a code or a password (say which kind, not which value).
   */
  detail?: Record<string, unknown>;
}

/** The outbox topic announcing a recorded entry; its payload is an `AuditRecord`. */
export const AUDIT_RECORDED = 'audit.recorded';

/**
 * The tenant's stream that audit events go to (tenantStreamKey's feed): sign-ins and refreshes
 * are many, and on a stream of their own they never trim the history other subscribers resume from.
 */
export const AUDIT_FEED = 'audit';

/** Where the outbox relay sends a topic: audit events to their own feed, the rest to the default one. */
export const feedOfTopic = (topic: string): string | undefined => (topic === AUDIT_RECORDED ? AUDIT_FEED : undefined);

/** An entry as the audit log shows it to the tenant's owners and admins. */
export interface AuditRecord {
  /** Increasing per database (a decimal string). */
  id: string;
  /** ISO-8601 time it was recorded. */
  at: string;
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}

const COLUMNS = 'id::text as id, at, actor_id, action, target, outcome, ip, user_agent, detail';

/**
 * Written in the caller's tenant transaction, so the record and the change commit together;
 * so does its `audit.recorded` event, which live audit screens read from the tenant's audit feed.
 */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  const [row] = await em.execute<AuditRow[]>(
    `insert into platform.audit_log (tenant_id, actor_id, action, target, outcome, ip, user_agent, detail) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     returning ${COLUMNS}`,
    [
      entry.tenantId,
      entry.actorId ?? null,
      entry.action,
      entry.target ?? null,
      entry.outcome,
      entry.origin?.ip ?? null,
      entry.origin?.userAgent ?? null,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ],
  );
  await appendEvents(em, [{ tenantId: entry.tenantId, topic: AUDIT_RECORDED, payload: { ...auditRecord(row!) } }]);
}

/** A failure has no transaction of its own to join: it is recorded (with its event) in one of its own. */
export function recordAuditNow(db: Database, entry: AuditEntry): Promise<void> {
  return db.withTenant(entry.tenantId, (em) => recordAudit(em, entry));
}

/** A filter as the client sends it (outcome `SUCCESS` or `FAILURE`, times in ISO-8601). */
export interface AuditFilter {
  action?: string | null;
  actorId?: string | null;
  outcome?: string | null;
  since?: string | null;
  until?: string | null;
}

/** A filter checked once: the outcome as stored, the times as dates; null matches anything. */
export interface CheckedAuditFilter {
  action: string | null;
  actorId: string | null;
  outcome: 'success' | 'failure' | null;
  since: Date | null;
  until: Date | null;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor_id: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown> | null;
}

export function auditRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorId: row.actor_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome === 'failure' ? 'failure' : 'success',
    ip: row.ip,
    userAgent: row.user_agent,
    detail: row.detail,
  };
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** The record an `audit.recorded` event carries; undefined for a payload of any other shape. */
export function auditRecordOf(payload: Record<string, unknown>): AuditRecord | undefined {
  const { id, at, actorId, action, target, outcome, ip, userAgent, detail } = payload;
  if (!isText(id) || !isText(at) || !isText(action) || (outcome !== 'success' && outcome !== 'failure')) return undefined;
  if (!isTextOrNull(actorId) || !isTextOrNull(target) || !isTextOrNull(ip) || !isTextOrNull(userAgent)) return undefined;
  if (detail !== null && (typeof detail !== 'object' || Array.isArray(detail))) return undefined;
  return { id, at, actorId, action, target, outcome, ip, userAgent, detail: detail as Record<string, unknown> | null };
}

function checkedDate(field: string, value: string): Date {
  const time = Date.parse(value);
  const year = Number.isNaN(time) ? 0 : new Date(time).getUTCFullYear();
  if (year < 1 || year > 9999) throw errors.badInput(`filter.${field}`, 'must be an ISO-8601 date-time');
  return new Date(time);
}

/** Checks a client's filter (BAD_USER_INPUT naming the field); the query and the live feed share it. */
export function checkAuditFilter(filter: AuditFilter | null | undefined): CheckedAuditFilter {
  const outcome = filter?.outcome?.toLowerCase() ?? null;
  if (outcome !== null && outcome !== 'success' && outcome !== 'failure') throw errors.badInput('filter.outcome', 'must be SUCCESS or FAILURE');
  return {
    action: filter?.action ?? null,
    actorId: filter?.actorId ?? null,
    outcome,
    since: filter?.since == null ? null : checkedDate('since', filter.since),
    until: filter?.until == null ? null : checkedDate('until', filter.until),
  };
}

/** Whether a recorded entry passes the filter, as `readAuditLog` would select it. */
export function auditFilterMatches(filter: CheckedAuditFilter, record: AuditRecord): boolean {
  if (filter.action !== null && record.action !== filter.action) return false;
  if (filter.actorId !== null && record.actorId !== filter.actorId) return false;
  if (filter.outcome !== null && record.outcome !== filter.outcome) return false;
  const at = Date.parse(record.at);
  if (filter.since !== null && !(at >= filter.since.getTime())) return false;
  if (filter.until !== null && !(at < filter.until.getTime())) return false;
  return true;
}

/** One page of a tenant's audit log, newest first; `after` is the cursor of the last page. */
export async function readAuditLog(db: Database, tenantId: string, filter: CheckedAuditFilter, first: number, after: string | null | undefined) {
  if (!Number.isInteger(first) || first < 1 || first > 200) throw errors.badInput('first', 'must be between 1 and 200');
  const where: string[] = [];
  const params: unknown[] = [];
  if (after != null) {
    const cursor = Buffer.from(after, 'base64url').toString('utf8');
    if (!/^\d{1,18}$/.test(cursor)) throw errors.badInput('after', 'is not a valid cursor');
    where.push('id < ?::bigint');
    params.push(cursor);
  }
  for (const [column, value] of [
    ['action', filter.action],
    ['actor_id', filter.actorId],
    ['outcome', filter.outcome],
  ] as const) {
    if (value === null) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (filter.since !== null) {
    where.push('at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== null) {
    where.push('at < ?');
    params.push(filter.until);
  }
  const rows = await db.withTenant(tenantId, (em) =>
    em.execute<AuditRow[]>(
      `select ${COLUMNS} from platform.audit_log
       ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by id desc limit ?`,
      [...params, first + 1],
    ),
  );
  const entries = rows.slice(0, first);
  const last = entries.at(-1);
  return { entries, hasMore: rows.length > first, endCursor: last === undefined ? null : Buffer.from(last.id).toString('base64url') };
}
