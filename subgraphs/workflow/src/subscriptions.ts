import { errors } from '@tansu/platform/errors';
import { eventIterator } from '@tansu/platform/events/event-iterator';
import type { StreamEvent, StreamHub } from '@tansu/platform/events/stream-hub';
import { startAfter } from '@tansu/platform/events/stream-start';
import { authorize } from '@tansu/tenant-core/guards';
import { TOPICS } from './engine/run-engine.ts';
import type { RunFilter, WorkflowService } from './workflow-service.ts';
import type { WorkflowContext } from './resolvers.ts';

const READ = { role: 'VIEWER', scope: 'tansu:read', action: 'follow runs' } as const;

export interface RunEventView {
  eventId: string;
  kind: 'RUN' | 'STEP';
  runId: string;
  status: string | null;
  stepId: string | null;
  stepStatus: string | null;
  attempt: number | null;
  error: string | null;
  workflow: string | null;
}

function runEvent(event: StreamEvent): RunEventView | undefined {
  const p = event.payload;
  if (event.topic === TOPICS.runUpdated) {
    return {
      eventId: event.id,
      kind: 'RUN',
      runId: String(p.runId),
      status: String(p.status),
      stepId: null,
      stepStatus: null,
      attempt: null,
      error: (p.error as string | null) ?? null,
      workflow: String(p.workflow),
    };
  }
  if (event.topic === TOPICS.stepUpdated) {
    return {
      eventId: event.id,
      kind: 'STEP',
      runId: String(p.runId),
      status: null,
      stepId: String(p.stepId),
      stepStatus: String(p.status),
      attempt: Number(p.attempt),
      error: (p.error as string | null) ?? null,
      workflow: null,
    };
  }
  return undefined;
}

/**
 * Subscriptions read the tenant's event stream through the process's hub: the caller's
 * tenant comes from the router's context, so another tenant's events are out of reach.
 */
export function createSubscriptionResolvers(service: WorkflowService, hub: StreamHub) {
  /** Events of one run of the caller's tenant; a run the caller cannot see is NOT_FOUND. */
  async function runEvents<T>(ctx: WorkflowContext, args: { runId: string; after?: string | null }, select: (event: StreamEvent) => T | undefined) {
    const caller = authorize(ctx.caller, READ);
    if ((await service.run(caller, args.runId)) === null) throw errors.notFound('Run');
    // Events carry the id as stored (lowercase); the argument may be spelled otherwise.
    args.runId = args.runId.toLowerCase();
    return eventIterator({ hub, tenantId: caller.tenantId, after: startAfter(args.after), select });
  }

  return {
    Subscription: {
      runUpdated: {
        subscribe: (_: unknown, args: { runId: string; after?: string | null }, ctx: WorkflowContext) =>
          runEvents(ctx, args, (event) => {
            const view = runEvent(event);
            return view?.runId === args.runId ? view : undefined;
          }),
        resolve: (value: RunEventView) => value,
      },
      runs: {
        subscribe: async (_: unknown, args: { filter?: RunFilter | null; after?: string | null }, ctx: WorkflowContext) => {
          const caller = authorize(ctx.caller, READ);
          // Events do not carry a run's creation time: refuse the filter rather than ignore it.
          for (const field of ['createdAfter', 'createdBefore'] as const) {
            if (args.filter?.[field] != null)
              throw errors.badInput(
                `filter.${field}`,
                'is not supported by the runs subscription (it filters by status and workflow); use after to choose where the feed starts',
              );
          }
          const statuses = args.filter?.status ?? [];
          return eventIterator({
            hub,
            tenantId: caller.tenantId,
            after: startAfter(args.after),
            select: (event) => {
              const view = runEvent(event);
              if (view?.kind !== 'RUN') return undefined;
              if (statuses.length > 0 && !statuses.includes(view.status as never)) return undefined;
              if (args.filter?.workflow != null && view.workflow !== args.filter.workflow) return undefined;
              return view;
            },
            // Every state change is delivered; only a subscriber far behind skips to each run's latest state.
            coalesceKey: (view) => view.runId,
          });
        },
        resolve: (value: RunEventView) => value,
      },
      runLogs: {
        subscribe: (_: unknown, args: { runId: string; after?: string | null }, ctx: WorkflowContext) =>
          runEvents(ctx, args, (event) => {
            if (event.topic !== TOPICS.runLog || event.payload.runId !== args.runId) return undefined;
            const p = event.payload;
            return {
              eventId: event.id,
              runId: args.runId,
              logId: String(p.logId),
              stepId: (p.stepId as string | null) ?? null,
              level: String(p.level),
              message: String(p.message),
            };
          }),
        resolve: (value: unknown) => value,
      },
    },
    RunEvent: {
      run: (event: RunEventView, _: unknown, ctx: WorkflowContext) => service.run(ctx.caller, event.runId),
    },
  };
}
