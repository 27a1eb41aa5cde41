import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { createClient, type Client } from 'graphql-ws';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import WebSocket from 'ws';
import { CONTEXT_HEADER } from '@tansu/platform/context-token';
import type { RouterContext } from '../router-context.ts';

/** The fetch that serves each event: the planner's primary fetch, answered from the event. */
const EVENT_SERVICE = '__subscription_event__';

interface Subscriber {
  push(result: ExecutionResult): void;
  end(error?: unknown): void;
  iterator: AsyncIterableIterator<ExecutionResult>;
}

interface Fan {
  subscribers: Set<Subscriber>;
  close(): void;
}

/** A subscriber falls this far behind before it is ended (to resubscribe with `after`). */
const MAX_SUBSCRIBER_BACKLOG = 1_000;

function createSubscriberQueue(onDone: () => void): Subscriber {
  const queue: ExecutionResult[] = [];
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  let ended = false;
  let failure: unknown;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    onDone();
  };
  const subscriber: Subscriber = {
    push(result) {
      if (ended) return;
      if (waiting !== undefined) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: result, done: false });
        return;
      }
      queue.push(result);
      if (queue.length > MAX_SUBSCRIBER_BACKLOG) {
        queue.length = 0;
        subscriber.end(
          new GraphQLError('Subscriber fell too far behind; subscribe again with the last eventId as `after`', { extensions: { code: 'RATE_LIMITED' } }),
        );
      }
    },
    end(error) {
      if (ended) return;
      ended = true;
      failure = error;
      finish();
      if (waiting !== undefined && queue.length === 0) {
        const resolve = waiting;
        waiting = undefined;
        resolve({
          value: failure === undefined ? undefined : { errors: [toGraphQLError(failure)] },
          done: failure === undefined,
        } as IteratorResult<ExecutionResult>);
        failure = undefined;
      }
    },
    iterator: {
      next() {
        const item = queue.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (ended) {
          if (failure !== undefined) {
            const error = failure;
            failure = undefined;
            return Promise.resolve({ value: { errors: [toGraphQLError(error)] }, done: false });
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return() {
        ended = true;
        queue.length = 0;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return subscriber.iterator;
      },
    },
  };
  return subscriber;
}

function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  // graphql-ws reports a subgraph's errors as the formatted list it received: keep them.
  const first = Array.isArray(error) ? (error[0] as { message?: unknown; extensions?: Record<string, unknown> } | undefined) : undefined;
  if (first !== undefined && typeof first.message === 'string') return new GraphQLError(first.message, { extensions: first.extensions });
  return new GraphQLError('The subscription ended upstream', { extensions: { code: 'INTERNAL' }, originalError: error instanceof Error ? error : undefined });
}

interface PlannedSubscription {
  primary: FetchNode;
  rest: PlanNode | undefined;
}

export interface SubscriptionRequest {
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  context: RouterContext;
}

/**
 * Federated subscriptions, as Apollo Router does them: the query planner splits the operation
 * into the subscription sent to the subgraph that owns the field (`primary`) and the entity
 * fetches that complete each event (`rest`). The primary runs over graphql-ws with the
 * router's signed context; for every event, the gateway's own executor runs a plan made of
 * "the event" followed by `rest`, so other subgraphs' fields are resolved, merged and shaped
 * exactly as for a query.
 */
export function createFederatedSubscriptions(options: {
  supergraphSdl: string;
  /** The data sources the gateway uses for queries, by subgraph name. */
  dataSources: () => ServiceMap;
  /** Subgraph graphql-ws URLs by subgraph name. */
  subgraphWsUrls: Record<string, string>;
  /** Signs a fresh context for each event's fetches (a subscription outlives any one token). */
  signContext: ((caller: RouterContext['caller']) => string) | undefined;
}) {
  const supergraph = Supergraph.build(options.supergraphSdl);
  const apiSchema: Schema = supergraph.apiSchema();
  const apiGraphQLSchema: GraphQLSchema = apiSchema.toGraphQLJSSchema();
  const supergraphSchema: GraphQLSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const plans = new Map<string, PlannedSubscription>();

  function plan(document: DocumentNode, operationName: string | undefined): PlannedSubscription {
    const key = `${operationName ?? ''}\n${print(document)}`;
    let planned = plans.get(key);
    if (planned === undefined) {
      const queryPlan: QueryPlan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
      if (queryPlan.node?.kind !== 'Subscription') throw new GraphQLError('Not a subscription', { extensions: { code: 'BAD_USER_INPUT' } });
      planned = { primary: queryPlan.node.primary, rest: queryPlan.node.rest };
      if (plans.size > 1_000) plans.clear();
      plans.set(key, planned);
    }
    return planned;
  }

  /** One graphql-ws socket per (subgraph, caller identity), shared by that caller's subscriptions. */
  const upstreams = new Map<string, { client: Client; users: number }>();

  function acquireUpstream(serviceName: string, context: RouterContext): { client: Client; release(): void } {
    const key = `${serviceName}\n${context.shareKey}`;
    let entry = upstreams.get(key);
    if (entry === undefined) {
      const url = options.subgraphWsUrls[serviceName];
      if (url === undefined) throw new Error(`no subscription endpoint for subgraph ${serviceName}`);
      entry = {
        client: createClient({
          url,
          webSocketImpl: WebSocket,
          lazy: true,
          retryAttempts: 0,
          connectionParams: { [CONTEXT_HEADER]: context.contextToken, requestId: context.requestId },
        }),
        users: 0,
      };
      upstreams.set(key, entry);
    }
    const held = entry;
    held.users += 1;
    let released = false;
    return {
      client: held.client,
      release() {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users === 0 && upstreams.get(key) === held) {
          upstreams.delete(key);
          void held.client.dispose();
        }
      },
    };
  }

  /**
   * Identical subscriptions of one caller identity (same document and variables) share one
   * upstream subscription and one completion per event; each subscriber then has its own
   * bounded queue, so a slow one never holds up the others.
   */
  const fans = new Map<string, Fan>();

  function openFan(key: string, request: SubscriptionRequest): Fan {
    const planned = plan(request.document, request.operationName);
    const upstream = acquireUpstream(planned.primary.serviceName, request.context);
    const fan: Fan = { subscribers: new Set(), close: () => undefined };
    let iterator: AsyncIterableIterator<FormattedExecutionResult<Record<string, unknown>>>;
    if (planned.rest === undefined) {
      // Everything comes from the owning subgraph: its answer is already the client's shape.
      iterator = upstream.client.iterate({ query: printed(request.document), variables: request.variables ?? {}, operationName: request.operationName });
    } else {
      const variables: Record<string, unknown> = {};
      for (const name of planned.primary.variableUsages ?? []) {
        if (request.variables !== undefined && Object.hasOwn(request.variables, name)) variables[name] = request.variables[name];
      }
      iterator = upstream.client.iterate({ query: planned.primary.operation, variables, operationName: planned.primary.operationName });
    }
    fan.close = () => {
      void iterator.return?.();
      upstream.release();
    };
    void (async () => {
      let failure: unknown;
      try {
        for await (const event of iterator) {
          // Upstream errors are already formatted by the subgraph; they pass through as they are.
          const result =
            planned.rest === undefined || event.data == null
              ? (event as unknown as ExecutionResult)
              : await completeEvent(request, planned, event as unknown as ExecutionResult);
          for (const subscriber of fan.subscribers) subscriber.push(result);
        }
      } catch (error) {
        failure = error;
      }
      if (fans.get(key) === fan) fans.delete(key);
      upstream.release();
      for (const subscriber of fan.subscribers) subscriber.end(failure);
    })();
    return fan;
  }

  /** Documents are printed once each, not once per event. */
  const printedDocuments = new WeakMap<DocumentNode, string>();
  function printed(document: DocumentNode): string {
    let text = printedDocuments.get(document);
    if (text === undefined) {
      text = print(document);
      printedDocuments.set(document, text);
    }
    return text;
  }

  async function completeEvent(request: SubscriptionRequest, planned: PlannedSubscription, event: ExecutionResult): Promise<ExecutionResult> {
    const eventSource: GraphQLDataSource = { process: async () => ({ data: event.data ?? null, errors: event.errors as never }) };
    const serviceMap: ServiceMap = { ...options.dataSources(), [EVENT_SERVICE]: eventSource };
    const primary: FetchNode = { ...planned.primary, serviceName: EVENT_SERVICE };
    const node: PlanNode = planned.rest === undefined ? primary : { kind: 'Sequence', nodes: [primary, planned.rest] };
    const context: RouterContext = { ...request.context, contextToken: options.signContext?.(request.context.caller) };
    const requestContext = {
      request: { query: printed(request.document), variables: request.variables ?? {}, operationName: request.operationName },
      context,
      logger: { debug() {}, info() {}, warn: (m: unknown) => request.context.logger.warn(m), error: (m: unknown) => request.context.logger.error(m) },
      metrics: {},
      document: request.document,
    };
    const operationContext = buildOperationContext({ schema: apiGraphQLSchema, operationDocument: request.document, operationName: request.operationName });
    const result = await executeQueryPlan({ kind: 'QueryPlan', node }, serviceMap, requestContext as never, operationContext, supergraphSchema, apiSchema);
    return { data: result.data ?? null, ...(result.errors === undefined || result.errors.length === 0 ? {} : { errors: result.errors as GraphQLError[] }) };
  }

  return {
    /** The API schema clients see (for validating operations that arrive over WebSocket). */
    apiSchema: apiGraphQLSchema,

    /** The events of one subscription, each completed across subgraphs, until either side ends it. */
    subscribe(request: SubscriptionRequest): AsyncIterableIterator<ExecutionResult> {
      const key = `${request.context.shareKey}\n${request.operationName ?? ''}\n${printed(request.document)}\n${JSON.stringify(request.variables ?? {})}`;
      let fan = fans.get(key);
      if (fan === undefined) {
        fan = openFan(key, request);
        fans.set(key, fan);
      }
      const joined = fan;
      const subscriber = createSubscriberQueue(() => {
        joined.subscribers.delete(subscriber);
        if (joined.subscribers.size === 0 && fans.get(key) === joined) {
          fans.delete(key);
          joined.close();
        }
      });
      joined.subscribers.add(subscriber);
      return subscriber.iterator;
    },
  };
}
export type FederatedSubscriptions = ReturnType<typeof createFederatedSubscriptions>;
