import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { EntityManager } from '../db/database.ts';

/**
 * Written in the same transaction as the state change it announces; the relay moves it
 * to the tenant's Redis Stream. Event payloads are documented in events/README.md.
 */
export const OutboxEventEntity = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox',
  schema: 'platform',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.uuid(),
    topic: p.string(),
    payload: p.json<Record<string, unknown>>(),
    createdAt: p.datetime().onCreate(() => new Date()),
    publishedAt: p.datetime().nullable(),
  },
});
export type OutboxEvent = InferEntity<typeof OutboxEventEntity>;

export function appendEvent(em: EntityManager, event: { tenantId: string; topic: string; payload: Record<string, unknown> }): void {
  em.create(OutboxEventEntity, { tenantId: event.tenantId, topic: event.topic, payload: event.payload, publishedAt: null });
}

/** Several events in one statement, in the given order (cheaper than one entity each). */
export async function appendEvents(em: EntityManager, events: { tenantId: string; topic: string; payload: Record<string, unknown> }[]): Promise<void> {
  if (events.length === 0) return;
  await em.execute(
    `insert into platform.outbox (tenant_id, topic, payload)
     select x.tenant_id, x.topic, x.payload
     from rows from (jsonb_to_recordset(?::jsonb) as (tenant_id uuid, topic text, payload jsonb)) with ordinality as x(tenant_id, topic, payload, n)
     order by x.n`,
    [JSON.stringify(events.map((e) => ({ tenant_id: e.tenantId, topic: e.topic, payload: e.payload })))],
  );
}

/** The feed every event goes to unless the relay is told otherwise. */
export const DEFAULT_FEED = 'events';

/**
 * Redis key of one of a tenant's event streams, a cross-process contract: the workers' relay
 * writes it, the hubs of the subgraphs that serve subscriptions read it, the tenant purge
 * deletes it. A busy kind of event gets a feed of its own, so it cannot trim the others'
 * history. The hash tag keeps a tenant's keys on one cluster slot.
 */
export function tenantStreamKey(namespace: string, tenantId: string, feed: string = DEFAULT_FEED): string {
  return `${namespace}:{${tenantId}}:${feed}`;
}

/**
 * The tenant's outbox rows appended to a stream and not yet marked published, by the relay
 * (same cluster slot as its streams); the tenant purge deletes it with them.
 */
export function tenantOutboxInFlightKey(namespace: string, tenantId: string): string {
  return `${namespace}:{${tenantId}}:outbox-in-flight`;
}
