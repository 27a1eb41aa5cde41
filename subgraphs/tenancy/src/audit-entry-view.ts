import type { AuditRecord } from '@tansu/tenant-core/audit-log';

/** An audit entry as the `AuditEntry` type shows it, from the page of the query or the event of the feed alike. */
export function auditEntryView(record: AuditRecord) {
  return {
    id: record.id,
    at: record.at,
    actorId: record.actorId,
    action: record.action,
    target: record.target,
    outcome: record.outcome.toUpperCase(),
    ip: record.ip,
    userAgent: record.userAgent,
    detail: record.detail === null ? null : JSON.stringify(record.detail),
  };
}
export type AuditEntryView = ReturnType<typeof auditEntryView>;
