import DataLoader from 'dataloader';
import { GraphQLScalarType } from 'graphql';
import type { StreamHub } from '@tansu/platform/events/stream-hub';
import type { SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import { requireTenantCaller } from '@tansu/tenant-core/guards';
import type { Json } from './definitions/mapping.ts';
import type { DefinitionRow } from './rows.ts';
import type { RequestOrigin, RunFilter, RunRecord, WorkflowService } from './workflow-service.ts';

export interface WorkflowContext extends SubgraphContext {
  definitions: DataLoader<string, DefinitionView | null>;
}

/** A definition as the service returns it (without its tenant). */
type DefinitionView = Omit<DefinitionRow, 'tenant_id'>;

const iso = (value: Date | string | null | undefined) => (value == null ? null : new Date(value).toISOString());

/** Passes JSON through; GraphQL literals are read as JSON values. */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral(ast, variables): unknown {
    switch (ast.kind) {
      case 'StringValue':
      case 'BooleanValue':
        return ast.value;
      case 'IntValue':
      case 'FloatValue':
        return Number(ast.value);
      case 'NullValue':
        return null;
      case 'ListValue':
        return ast.values.map((v) => JSONScalar.parseLiteral(v, variables));
      case 'ObjectValue':
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, JSONScalar.parseLiteral(f.value, variables)]));
      case 'Variable':
        return variables?.[ast.name.value];
      default:
        return undefined;
    }
  },
});

export function createDefinitionLoader(service: WorkflowService, base: SubgraphContext) {
  return new DataLoader<string, DefinitionView | null>(async (ids) => {
    const tenantId = requireTenantCaller(base.caller).tenantId;
    return Promise.all(ids.map((id) => service.definitionById(tenantId, id) as Promise<DefinitionView | null>));
  });
}

function definition(row: DefinitionView) {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    steps: row.spec.steps,
    createdBy: row.created_by === null ? null : { __typename: 'User', id: row.created_by },
    createdAt: iso(row.created_at),
  };
}

const originOf = (ctx: SubgraphContext): RequestOrigin => ({ requestId: ctx.requestId, traceparent: ctx.traceparent });

/** `hub`: the process's event feed, when it serves subscriptions. */
export function createWorkflowResolvers(service: WorkflowService, hub?: StreamHub) {
  // Read before the rows: the feed from there on holds every change the page lacks.
  const live = async (ctx: WorkflowContext) => (hub === undefined || ctx.caller.tenantId === undefined ? null : hub.position(ctx.caller.tenantId));
  return {
    JSON: JSONScalar,
    Query: {
      workflows: async (_: unknown, args: { first: number }, ctx: WorkflowContext) =>
        ((await service.definitions(ctx.caller, args.first)) as DefinitionView[]).map(definition),
      workflow: async (_: unknown, args: { name: string; version?: number | null }, ctx: WorkflowContext) => {
        const row = (await service.definition(ctx.caller, args.name, args.version)) as DefinitionView | null;
        return row === null ? null : definition(row);
      },
      run: (_: unknown, args: { id: string }, ctx: WorkflowContext) => service.run(ctx.caller, args.id),
      runs: async (_: unknown, args: { filter?: RunFilter; first: number; after?: string }, ctx: WorkflowContext) => {
        const position = await live(ctx);
        return { ...(await service.runs(ctx.caller, args.filter, args.first, args.after)), live: position };
      },
      deadLetterRuns: async (_: unknown, args: { first: number; after?: string }, ctx: WorkflowContext) => {
        const position = await live(ctx);
        return { ...(await service.runs(ctx.caller, null, args.first, args.after, true)), live: position };
      },
    },
    Mutation: {
      createWorkflow: async (_: unknown, { input }: { input: { name: unknown; steps: unknown } }, ctx: WorkflowContext) =>
        definition((await service.createDefinition(ctx.caller, input)) as unknown as DefinitionView),
      startWorkflow: (_: unknown, { input }: { input: { workflow: string; version?: number; input?: Json; idempotencyKey?: string } }, ctx: WorkflowContext) =>
        service.start(ctx.caller, input, originOf(ctx)),
      startWorkflows: (
        _: unknown,
        { input }: { input: { workflow: string; version?: number; runs: { input?: Json; idempotencyKey?: string }[] } },
        ctx: WorkflowContext,
      ) => service.startMany(ctx.caller, input, originOf(ctx)),
      cancelRun: (_: unknown, args: { id: string }, ctx: WorkflowContext) => service.cancel(ctx.caller, args.id),
      retryRun: (_: unknown, args: { id: string }, ctx: WorkflowContext) => service.retry(ctx.caller, args.id),
      sendEvent: async (_: unknown, { input }: { input: { event: string; payload?: Json } }, ctx: WorkflowContext) => ({
        resumedSteps: await service.sendEvent(ctx.caller, input),
      }),
    },
    WorkflowDefinition: {
      __resolveReference: async (ref: { id: string }, ctx: WorkflowContext) => {
        const row = await ctx.definitions.load(ref.id);
        return row === null ? null : definition(row);
      },
    },
    Run: {
      __resolveReference: (ref: { id: string }, ctx: WorkflowContext) => service.run(ctx.caller, ref.id),
      workflow: async (run: RunRecord, _: unknown, ctx: WorkflowContext) => {
        const row = await ctx.definitions.load(run.definition_id);
        return row === null ? null : definition(row);
      },
      idempotencyKey: (run: RunRecord) => run.idempotency_key,
      startedBy: (run: RunRecord) => (run.started_by === null ? null : { __typename: 'User', id: run.started_by }),
      createdAt: (run: RunRecord) => iso(run.created_at),
      updatedAt: (run: RunRecord) => iso(run.updated_at),
      finishedAt: (run: RunRecord) => iso(run.finished_at),
      steps: async (run: RunRecord, _: unknown, ctx: WorkflowContext) => {
        const tenantId = requireTenantCaller(ctx.caller).tenantId;
        const [steps, attempts, def] = await Promise.all([
          service.steps(tenantId, run),
          service.attempts(tenantId, run.id),
          ctx.definitions.load(run.definition_id),
        ]);
        const order = def?.spec.steps.map((s) => s.id) ?? [];
        const types = new Map(def?.spec.steps.map((s) => [s.id, s.type]) ?? []);
        return steps
          .sort((a, b) => order.indexOf(a.step_id) - order.indexOf(b.step_id))
          .map((step) => ({
            id: step.step_id,
            type: types.get(step.step_id) ?? 'unknown',
            status: step.status,
            attempt: step.attempt,
            output: step.output,
            error: step.error,
            errorCode: step.error_code,
            startedAt: iso(step.started_at),
            finishedAt: iso(step.finished_at),
            attempts: attempts
              .filter((a) => a.step_id === step.step_id)
              .map((a) => ({ attempt: a.attempt, status: a.status, error: a.error, startedAt: iso(a.started_at), finishedAt: iso(a.finished_at) })),
          }));
      },
      logs: async (run: RunRecord, args: { first: number; after?: string }, ctx: WorkflowContext) => {
        const page = await service.logs(ctx.caller, run.id, args.first, args.after);
        return {
          ...page,
          edges: page.edges.map((log) => ({
            id: log.id,
            stepId: log.step_id,
            level: log.level,
            message: log.message,
            data: log.data,
            createdAt: iso(log.created_at),
          })),
        };
      },
    },
  };
}
