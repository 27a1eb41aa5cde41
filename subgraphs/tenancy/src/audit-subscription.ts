import { eventIterator } from '@tansu/platform/events/event-iterator';
import type { StreamHub } from '@tansu/platform/events/stream-hub';
import { startAfter } from '@tansu/platform/events/stream-start';
import { AUDIT_RECORDED, auditFilterMatches, auditRecordOf, type AuditFilter } from '@tansu/tenant-core/audit-log';
import { auditEntryView, type AuditEntryView } from './audit-entry-view.ts';
import type { TenancyContext } from './resolvers.ts';
import type { TenancyService } from './tenancy-service.ts';

export interface AuditLogEventView {
  eventId: string;
  entry: AuditEntryView;
}

/** The stream delivers at least once: a subscriber remembers this many entry ids to drop a repeat. */
const REMEMBERED_IDS = 1_000;

function createRepeatFilter(): (id: string) => boolean {
  const seen = new Set<string>();
  return (id) => {
    if (seen.has(id)) return true;
    seen.add(id);
    if (seen.size > REMEMBERED_IDS) seen.delete(seen.values().next().value!);
    return false;
  };
}

/**
 * The audit log as it is recorded, read from the caller's tenant's event stream through the
 * process's hub. The tenant comes from the router's signed context, never from an argument.
 */
export function createAuditSubscriptionResolvers(service: TenancyService, hub: StreamHub) {
  return {
    Subscription: {
      auditLog: {
        subscribe: async (_: unknown, args: { filter?: AuditFilter | null; after?: string | null }, ctx: TenancyContext) => {
          const { tenantId, filter } = await service.auditFeed(ctx.caller, args.filter);
          const repeated = createRepeatFilter();
          return eventIterator<AuditLogEventView>({
            hub,
            tenantId,
            after: startAfter(args.after),
            select: (event) => {
              if (event.topic !== AUDIT_RECORDED) return undefined;
              const record = auditRecordOf(event.payload);
              if (record === undefined || !auditFilterMatches(filter, record) || repeated(record.id)) return undefined;
              return { eventId: event.id, entry: auditEntryView(record) };
            },
          });
        },
        resolve: (value: AuditLogEventView) => value,
      },
    },
  };
}
