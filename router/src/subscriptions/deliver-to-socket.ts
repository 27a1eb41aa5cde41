import type { ExecutionResult } from 'graphql';
import type { SocketWriter } from './socket-writer.ts';
import type { Subscription, SubscriptionConsumer } from './subscriber.ts';

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * Writes a subscription's events onto its socket as Next frames, in order, as the fan hands
 * them over, without graphql-ws's per-message work. graphql-ws gets back an operation that
 * yields nothing and ends when the subscription does, so it still sends Complete after the
 * last frame, and still stops the subscription when the client completes it or the socket
 * closes. While the socket is backlogged, the subscription waits for each frame to be written
 * before taking its next event; meanwhile its events queue up in the fan.
 */
export function deliverToSocket(
  subscribe: (consumer: SubscriptionConsumer) => Subscription,
  frameOf: (result: ExecutionResult) => string,
  writer: SocketWriter,
): AsyncIterableIterator<ExecutionResult> {
  const ended = Promise.withResolvers<IteratorResult<ExecutionResult>>();
  const subscription: Subscription = subscribe({
    next(result) {
      if (!writer.backlogged) {
        writer.send(frameOf(result));
        return true;
      }
      writer.send(frameOf(result), () => subscription.resume());
      return false;
    },
    end(error) {
      if (error !== undefined) writer.send(frameOf({ errors: [error] }));
      ended.resolve(DONE);
    },
  });
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    next: () => ended.promise,
    async return() {
      subscription.stop();
      ended.resolve(DONE);
      return DONE;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
