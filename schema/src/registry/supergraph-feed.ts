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
  await redis
    .multi()
    .hset(documentsKey(namespace, variant), Object.fromEntries(documents))
    .publish(documentsChannel(namespace, variant), String(documents.size))
    .exec();
}

// Replaces the supergraph only with a newer one (by registry id), so two publishes landing out
// of order leave the later one in place; then announces it.
const PUSH = `local current = redis.call('HGET', KEYS[1], 'id')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'sdl', ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1`;

export async function pushSupergraph(redis: Redis, namespace: string, variant: string, id: string, sdl: string): Promise<void> {
  await redis.eval(PUSH, 2, supergraphKey(namespace, variant), supergraphChannel(namespace, variant), id, sdl);
}

export async function publishedSupergraph(redis: Redis, namespace: string, variant: string): Promise<{ id: string; sdl: string } | null> {
  const [id, sdl] = await redis.hmget(supergraphKey(namespace, variant), 'id', 'sdl');
  return id == null || sdl == null ? null : { id, sdl };
}

/**
 * Calls `onChange` with each supergraph published to the variant after `since` (a registry
 * id; null for none yet): on each announcement and, in case one was lost, every half minute.
 * A failure to read or apply one is logged and retried at the next turn, never thrown.
 */
export async function watchSupergraph(deps: {
  subscriber: Redis;
  reader: Redis;
  namespace: string;
  variant: string;
  since: string | null;
  onChange: (sdl: string) => void;
  onError: (error: unknown) => void;
  resyncMs?: number;
}): Promise<() => Promise<void>> {
  const channel = supergraphChannel(deps.namespace, deps.variant);
  let applied = deps.since === null ? 0 : Number(deps.since);
  const check = async () => {
    const published = await publishedSupergraph(deps.reader, deps.namespace, deps.variant);
    if (published === null || Number(published.id) <= applied) return;
    deps.onChange(published.sdl);
    applied = Number(published.id);
  };
  const checkLogged = () => void check().catch(deps.onError);
  const listener = (from: string) => {
    if (from === channel) checkLogged();
  };
  deps.subscriber.on('message', listener);
  await deps.subscriber.subscribe(channel);
  // Subscribed first, then read: a publish in between is seen either way.
  checkLogged();
  const timer = setInterval(checkLogged, deps.resyncMs ?? 30_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    deps.subscriber.off('message', listener);
    await deps.subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
