import type { ExecutionResult } from 'graphql';

/**
 * graphql-ws Next messages, byte for byte as graphql-ws writes them
 * (`JSON.stringify({ id, type: 'next', payload })`), with each result's payload serialised
 * once however many subscriptions it goes to: the subscribers of one fan receive the same
 * result object, so only the envelope with the subscription's id is made per subscription.
 */
export function createNextFrames(payloadOf: (result: ExecutionResult) => unknown) {
  const serialised = new WeakMap<ExecutionResult, string>();
  return {
    /** The frames of the subscription with this id. */
    of(id: string): (result: ExecutionResult) => string {
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      return (result) => {
        let payload = serialised.get(result);
        if (payload === undefined) serialised.set(result, (payload = JSON.stringify(payloadOf(result))));
        return `${prefix}${payload}}`;
      };
    },
  };
}
