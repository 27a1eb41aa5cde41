import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { createClient, type Client } from 'graphql-ws';
import { GraphQLError, print, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import WebSocket from 'ws';
import { CONTEXT_HEADER } from '@tansu/platform/context-token';
import type { RouterContext } from '../router-context.ts';

/** The fetch that serves each event: the planner's primary fetch, answered from the event. */
const EVENT_SERVICE = '__subscription_event__';

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

/** Upstream graphql-ws clients of one downstream connection: one socket per subgraph, multiplexed. */
export interface UpstreamClients {
  get(serviceName: string): Client;
  dispose(): Promise<void>;
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

  function upstreamClients(context: RouterContext): UpstreamClients {
    const clients = new Map<string, Client>();
    return {
      get(serviceName) {
        let client = clients.get(serviceName);
        if (client === undefined) {
          const url = options.subgraphWsUrls[serviceName];
          if (url === undefined) throw new Error(`no subscription endpoint for subgraph ${serviceName}`);
          client = createClient({
            url,
            webSocketImpl: WebSocket,
            lazy: true,
            retryAttempts: 0,
            connectionParams: { [CONTEXT_HEADER]: context.contextToken, requestId: context.requestId },
          });
          clients.set(serviceName, client);
        }
        return client;
      },
      async dispose() {
        await Promise.all([...clients.values()].map((client) => client.dispose()));
        clients.clear();
      },
    };
  }

  async function completeEvent(request: SubscriptionRequest, planned: PlannedSubscription, event: ExecutionResult): Promise<ExecutionResult> {
    const eventSource: GraphQLDataSource = { process: async () => ({ data: event.data ?? null, errors: event.errors as never }) };
    const serviceMap: ServiceMap = { ...options.dataSources(), [EVENT_SERVICE]: eventSource };
    const primary: FetchNode = { ...planned.primary, serviceName: EVENT_SERVICE };
    const node: PlanNode = planned.rest === undefined ? primary : { kind: 'Sequence', nodes: [primary, planned.rest] };
    const requestContext = {
      request: { query: print(request.document), variables: request.variables ?? {}, operationName: request.operationName },
      context: request.context,
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
    upstreamClients,

    /** The events of one subscription, each completed across subgraphs, until either side ends it. */
    async *subscribe(request: SubscriptionRequest, clients: UpstreamClients): AsyncGenerator<ExecutionResult> {
      const planned = plan(request.document, request.operationName);
      const variables: Record<string, unknown> = {};
      for (const name of planned.primary.variableUsages ?? []) {
        if (request.variables !== undefined && Object.hasOwn(request.variables, name)) variables[name] = request.variables[name];
      }
      const upstream = clients.get(planned.primary.serviceName).iterate<Record<string, unknown>>({
        query: planned.primary.operation,
        variables,
        operationName: planned.primary.operationName,
      });
      try {
        for await (const event of upstream) {
          if (event.data == null) {
            yield { data: null, errors: (event.errors ?? []) as unknown as GraphQLError[] };
            continue;
          }
          yield await completeEvent(request, planned, event as ExecutionResult);
        }
      } finally {
        await upstream.return?.();
      }
    },
  };
}
export type FederatedSubscriptions = ReturnType<typeof createFederatedSubscriptions>;
