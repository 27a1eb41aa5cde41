import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { MAX_SUBSCRIBER_BACKLOG, createSubscriber, type Subscriber } from '../src/subscriptions/subscriber.ts';

const event = (n: number): ExecutionResult => ({ data: { n } });

/** A consumer that takes events while `open`, recording what it got and how it ended. */
function recording() {
  const got: unknown[] = [];
  const state = { open: true, ended: false, error: undefined as GraphQLError | undefined, left: 0 };
  const subscriber: Subscriber = createSubscriber(
    {
      next(result) {
        got.push(result.data?.n);
        return state.open;
      },
      end(error) {
        assert.equal(state.ended, false, 'ended once');
        state.ended = true;
        state.error = error;
      },
    },
    () => void state.left++,
  );
  return { got, state, subscriber };
}

describe('fan subscriber', () => {
  it('hands events straight over while the consumer keeps up', () => {
    const r = recording();
    for (let n = 1; n <= 3; n++) r.subscriber.push(event(n));
    assert.deepEqual(r.got, [1, 2, 3]);
    r.subscriber.end();
    assert.equal(r.state.ended, true);
    assert.equal(r.state.error, undefined);
    assert.equal(r.state.left, 1);
  });

  it('queues events in order while the consumer cannot take them, and resumes with them', () => {
    const r = recording();
    r.state.open = false;
    r.subscriber.push(event(1));
    r.subscriber.push(event(2));
    r.subscriber.push(event(3));
    assert.deepEqual(r.got, [1], 'the consumer said it was full after the first');
    r.state.open = true;
    r.subscriber.resume();
    assert.deepEqual(r.got, [1, 2, 3]);
    r.subscriber.push(event(4));
    assert.deepEqual(r.got, [1, 2, 3, 4]);
  });

  it('ends after the events queued before an upstream failure, with that failure', () => {
    const r = recording();
    r.state.open = false;
    r.subscriber.push(event(1));
    r.subscriber.push(event(2));
    r.subscriber.end(new GraphQLError('upstream went away', { extensions: { code: 'INTERNAL' } }));
    assert.equal(r.state.left, 1, 'it leaves the fan at once');
    assert.equal(r.state.ended, false, 'but ends only after what was queued');
    r.subscriber.push(event(3));
    r.state.open = true;
    r.subscriber.resume();
    assert.deepEqual(r.got, [1, 2]);
    assert.equal(r.state.error?.message, 'upstream went away');
  });

  it('ends a subscriber that falls too far behind, dropping what it had not taken', () => {
    const r = recording();
    r.state.open = false;
    for (let n = 1; n <= MAX_SUBSCRIBER_BACKLOG + 2; n++) r.subscriber.push(event(n));
    assert.equal(r.state.ended, true);
    assert.equal(r.state.error?.extensions.code, 'RATE_LIMITED');
    assert.match(r.state.error!.message, /fell too far behind/);
    assert.equal(r.state.left, 1);
    r.subscriber.resume();
    assert.deepEqual(r.got, [1]);
  });

  it('delivers nothing more once its consumer stopped it, and does not end it', () => {
    const r = recording();
    r.state.open = false;
    r.subscriber.push(event(1));
    r.subscriber.push(event(2));
    r.subscriber.stop();
    r.subscriber.resume();
    r.subscriber.push(event(3));
    r.subscriber.end();
    assert.deepEqual(r.got, [1]);
    assert.equal(r.state.ended, false);
    assert.equal(r.state.left, 1);
  });
});
