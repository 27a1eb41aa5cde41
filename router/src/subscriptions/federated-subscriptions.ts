import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { createClient, type Client } from 'graphql-ws';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import WebSocket from 'ws';
import { CONTEXT_HEADER } from '@tansu/platform/context-token';
import type { RouterContext } from '../router-context.ts';
import { createSubscriber, type Subscriber, type Subscription, type SubscriptionConsumer } from './subscriber.ts';

/** The fetch that serves each event: the planner's primary fetch, answered from the event. */
const EVENT_SERVICE = '__subscription_event__';

interface Fan {
  /** By connection: one connection's subscribers get each event one after another, so their frames can leave together. */
  connections: Map<object | undefined, Set<Subscriber>>;
  close(): void;
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
  /** The client connection it arrives on (any object that identifies it), if the transport has one. */
  connection?: object;
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
    const fan: Fan = { connections: new Map(), close: () => undefined };
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
          for (const subscribers of fan.connections.values()) for (const subscriber of subscribers) subscriber.push(result);
        }
      } catch (error) {
        failure = error;
      }
      if (fans.get(key) === fan) fans.delete(key);
      upstream.release();
      for (const subscribers of fan.connections.values()) for (const subscriber of subscribers) subscriber.end(failure);
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

    /** The events of one subscription, each completed across subgraphs, to its consumer until either side ends it. */
    subscribe(request: SubscriptionRequest, consumer: SubscriptionConsumer): Subscription {
      const key = `${request.context.shareKey}\n${request.operationName ?? ''}\n${printed(request.document)}\n${JSON.stringify(request.variables ?? {})}`;
      let fan = fans.get(key);
      if (fan === undefined) {
        fan = openFan(key, request);
        fans.set(key, fan);
      }
      const joined = fan;
      const subscriber = createSubscriber(consumer, () => {
        const siblings = joined.connections.get(request.connection);
        siblings?.delete(subscriber);
        if (siblings?.size === 0) joined.connections.delete(request.connection);
        if (joined.connections.size === 0 && fans.get(key) === joined) {
          fans.delete(key);
          joined.close();
        }
      });
      const siblings = joined.connections.get(request.connection) ?? new Set<Subscriber>();
      siblings.add(subscriber);
      joined.connections.set(request.connection, siblings);
      return subscriber;
    },
  };
}
export type FederatedSubscriptions = ReturnType<typeof createFederatedSubscriptions>;
