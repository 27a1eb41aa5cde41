import type { Redis } from 'ioredis';

/**
 * How published supergraphs reach running routers: the current one under a key (read at
 * start-up), and a message on a channel when it changes. Keyed by the installation's
 * namespace and the variant, so installations and variants sharing a Redis stay apart.
 */
export const supergraphKey = (namespace: string, variant: string) => `${namespace}:schema:${variant}:supergraph`;
export const supergraphChannel = (namespace: string, variant: string) => `${namespace}:schema:${variant}:published`;

/** Registered client operations (id → document) of a variant, and the channel announcing additions. */
export const documentsKey = (namespace: string, variant: string) => `${namespace}:schema:${variant}:documents`;
export const documentsChannel = (namespace: string, variant: string) => `${namespace}:schema:${variant}:documents-added`;

export async function pushDocuments(redis: Redis, namespace: string, variant: string, documents: Map<string, string>): Promise<void> {
  if (documents.size === 0) return;
  await redis.multi().hset(documentsKey(namespace, variant), Object.fromEntries(documents)).publish(documentsChannel(namespace, variant), String(documents.size)).exec();
}

export async function pushSupergraph(redis: Redis, namespace: string, variant: string, sdl: string): Promise<void> {
  await redis.multi().set(supergraphKey(namespace, variant), sdl).publish(supergraphChannel(namespace, variant), String(sdl.length)).exec();
}

export async function publishedSupergraph(redis: Redis, namespace: string, variant: string): Promise<string | null> {
  return redis.get(supergraphKey(namespace, variant));
}

/** Calls `onChange` with each newly published supergraph of the variant; returns the unsubscribe. */
export async function watchSupergraph(subscriber: Redis, reader: Redis, namespace: string, variant: string, onChange: (sdl: string) => void): Promise<() => Promise<void>> {
  const channel = supergraphChannel(namespace, variant);
  const listener = (from: string) => {
    if (from !== channel) return;
    void reader.get(supergraphKey(namespace, variant)).then((sdl) => {
      if (sdl !== null) onChange(sdl);
    });
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', listener);
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
