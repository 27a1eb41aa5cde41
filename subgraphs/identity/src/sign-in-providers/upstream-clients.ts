import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { guardedConnector } from '@tansu/platform/http/egress';

export interface UpstreamProvider {
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/**
 * openid-client configurations of upstream providers, discovered once and kept ten minutes.
 * Every call goes through the egress guard: an issuer URL a tenant admin typed must not
 * reach our private network (unless this installation allows it, as tests and laptops do).
 */
export function createUpstreamClients(deps: { allowPrivate: boolean; ttlMs?: number }) {
  const agent = new Agent({ connect: guardedConnector(deps.allowPrivate) });
  const guardedFetch = ((url: string, options: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(url, { ...options, dispatcher: agent })) as unknown as client.CustomFetch;
  const cache = new Map<string, { config: Promise<client.Configuration>; until: number }>();
  const ttl = deps.ttlMs ?? 600_000;

  function discover(provider: UpstreamProvider): Promise<client.Configuration> {
    const issuer = new URL(provider.issuer);
    return client.discovery(issuer, provider.clientId, provider.clientSecret, client.ClientSecretPost(provider.clientSecret), {
      [client.customFetch]: guardedFetch,
      execute: issuer.protocol === 'http:' && deps.allowPrivate ? [client.allowInsecureRequests] : [],
      timeout: 10,
    });
  }

  return {
    /** Whether an issuer may be used at all: https, or http where private targets are allowed. */
    acceptsIssuer(issuer: URL): boolean {
      return issuer.protocol === 'https:' || (issuer.protocol === 'http:' && deps.allowPrivate);
    },
    config(provider: UpstreamProvider): Promise<client.Configuration> {
      const key = `${provider.id}|${provider.issuer}|${provider.clientId}`;
      const hit = cache.get(key);
      if (hit !== undefined && hit.until > Date.now()) return hit.config;
      const config = discover(provider);
      cache.set(key, { config, until: Date.now() + ttl });
      config.catch(() => cache.delete(key));
      return config;
    },
    forget(providerId: string): void {
      for (const key of cache.keys()) if (key.startsWith(`${providerId}|`)) cache.delete(key);
    },
    close: () => agent.close(),
  };
}
export type UpstreamClients = ReturnType<typeof createUpstreamClients>;
