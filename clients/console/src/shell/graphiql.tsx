import { useMemo } from 'react';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';
import { consoleClient } from './session.ts';

/** GraphiQL on the platform's endpoint as the signed-in user: queries, mutations and subscriptions (graphql-ws). */
export function GraphiQLPage() {
  const fetcher = useMemo<Fetcher>(() => {
    const url = `${window.location.origin}/graphql`;
    return async (params, options) => {
      // A fresh token for every operation: the session refreshes itself.
      const token = await consoleClient()?.auth.accessToken();
      const authorization = token === undefined ? undefined : `Bearer ${token}`;
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      return createGraphiQLFetcher({
        url,
        subscriptionUrl: url.replace(/^http/, 'ws'),
        headers,
        wsConnectionParams: authorization === undefined ? {} : { authorization },
      })(params, options);
    };
  }, []);
  return (
    <section className="graphiql">
      <GraphiQL fetcher={fetcher} defaultQuery={'# As the signed-in user; subscriptions run over graphql-ws.\n{\n  me {\n    email\n    roles\n  }\n}\n'} />
    </section>
  );
}
