import { GraphQLError, type ExecutionResult } from 'graphql';

/** A subscriber falls this far behind before it is ended (to resubscribe with `after`). */
export const MAX_SUBSCRIBER_BACKLOG = 1_000;

/** Takes one subscription's events as they come. */
export interface SubscriptionConsumer {
  /** One event; false when it cannot take the next one yet (it calls `resume` once it can). */
  next(result: ExecutionResult): boolean;
  /** After the last event: the subscription ended, with the error that ended it if one did. */
  end(error: GraphQLError | undefined): void;
}

export interface Subscription {
  /** The consumer can take events again. */
  resume(): void;
  /** The consumer is gone: no more events, and no end. */
  stop(): void;
}

/** The side a fan sees. */
export interface Subscriber extends Subscription {
  push(result: ExecutionResult): void;
  end(error?: unknown): void;
}

/**
 * One subscriber of a fan. Events go straight to its consumer while it keeps up and queue up,
 * in order, while it does not; a subscriber more than MAX_SUBSCRIBER_BACKLOG events behind is
 * ended (RATE_LIMITED, to resume with `after`), so a slow one never holds up the others.
 * An upstream end reaches the consumer after the events queued before it.
 */
export function createSubscriber(consumer: SubscriptionConsumer, onLeave: () => void): Subscriber {
  const queue: ExecutionResult[] = [];
  let paused = false;
  /** Takes no more events. */
  let ended = false;
  /** The consumer got its end, or left. */
  let closed = false;
  let failure: GraphQLError | undefined;
  const leave = () => {
    if (ended) return;
    ended = true;
    onLeave();
  };
  const drain = () => {
    while (!paused && !closed && queue.length > 0) paused = !consumer.next(queue.shift()!);
    if (ended && !closed && queue.length === 0) {
      closed = true;
      consumer.end(failure);
    }
  };
  const subscriber: Subscriber = {
    push(result) {
      if (ended) return;
      if (!paused && queue.length === 0) {
        paused = !consumer.next(result);
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
      failure = error === undefined ? undefined : toGraphQLError(error);
      leave();
      drain();
    },
    resume() {
      paused = false;
      drain();
    },
    stop() {
      queue.length = 0;
      closed = true;
      leave();
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
