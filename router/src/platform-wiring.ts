import type { TansuConfig } from '@tansu/platform/config';

/** The platform's subgraphs at the addresses the configuration gives them. */
export function platformSubgraphUrls(config: Pick<TansuConfig, 'identityUrl' | 'tenancyUrl' | 'workflowUrl'>): Record<string, string> {
  return { identity: `${config.identityUrl}/graphql`, tenancy: `${config.tenancyUrl}/graphql`, workflow: `${config.workflowUrl}/graphql` };
}

/** A readiness probe: the dependency answers 2xx within two seconds. */
export function httpReadyCheck(url: string): () => Promise<boolean> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  };
}
