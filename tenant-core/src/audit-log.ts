import type { Database, EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';

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
  detail?: Record<string, unknown>;
}

/** Written in the caller's tenant transaction, so the record and the change commit together. */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  await em.execute(
    `insert into platform.audit_log (tenant_id, actor_id, action, target, outcome, ip, user_agent, detail) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
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
}

/** A failure has no transaction of its own to join: it is recorded in one of its own. */
export function recordAuditNow(db: Database, entry: AuditEntry): Promise<void> {
  return db.withTenant(entry.tenantId, (em) => recordAudit(em, entry));
}

export interface AuditFilter {
  action?: string | null;
  actorId?: string | null;
  outcome?: 'success' | 'failure' | null;
  since?: string | null;
  until?: string | null;
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

function checkedDate(field: string, value: string): Date {
  const time = Date.parse(value);
  const year = Number.isNaN(time) ? 0 : new Date(time).getUTCFullYear();
  if (year < 1 || year > 9999) throw errors.badInput(`filter.${field}`, 'must be an ISO-8601 date-time');
  return new Date(time);
}

/** One page of a tenant's audit log, newest first; `after` is the cursor of the last page. */
export async function readAuditLog(db: Database, tenantId: string, filter: AuditFilter, first: number, after: string | null | undefined) {
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
    if (value == null) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (filter.since != null) {
    where.push('at >= ?');
    params.push(checkedDate('since', filter.since));
  }
  if (filter.until != null) {
    where.push('at < ?');
    params.push(checkedDate('until', filter.until));
  }
  const rows = await db.withTenant(tenantId, (em) =>
    em.execute<AuditRow[]>(
      `select id::text as id, at, actor_id, action, target, outcome, ip, user_agent, detail from platform.audit_log
       ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by id desc limit ?`,
      [...params, first + 1],
    ),
  );
  const entries = rows.slice(0, first);
  const last = entries.at(-1);
  return { entries, hasMore: rows.length > first, endCursor: last === undefined ? null : Buffer.from(last.id).toString('base64url') };
}
