import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createLogger } from '@tansu/platform/logger';
import { createPollLoop, type RoundResult } from '@tansu/platform/poll-loop';

const logger = createLogger({ level: 'silent', service: 'test' });
/** So long that a round running after it would time the test out: any quick second round was asked for. */
const FOREVER_MS = 600_000;

/**
 * A loop whose rounds the test finishes by hand: `started(n)` resolves when round n begins,
 * `finish(result)` ends the running round.
 */
function scriptedLoop(options: { idleMs?: number; failureMs?: number } = {}) {
  const starts: (() => void)[] = [];
  const startedPromises: Promise<void>[] = [];
  const startedAt = (n: number) => {
    while (startedPromises.length <= n) startedPromises.push(new Promise<void>((resolve) => starts.push(resolve)));
    return startedPromises[n]!;
  };
  let rounds = 0;
  let finishRound: ((result: RoundResult | Error) => void) | undefined;
  const loop = createPollLoop({
    name: 'scripted',
    round: () => {
      startedAt(rounds);
      starts[rounds]!();
      rounds += 1;
      return new Promise<RoundResult>((resolve, reject) => {
        finishRound = (result) => (result instanceof Error ? reject(result) : resolve(result));
      });
    },
    idleMs: options.idleMs ?? FOREVER_MS,
    failureMs: options.failureMs ?? FOREVER_MS,
    logger,
  });
  return {
    loop,
    rounds: () => rounds,
    /** Resolves when round `n` (from 1) has begun; fails after a generous guard. */
    started: (n: number) =>
      Promise.race([startedAt(n - 1), sleep(10_000, undefined, { ref: false }).then(() => assert.fail(`round ${n} never began (${rounds} ran)`))]),
    finish: (result: RoundResult | Error) => finishRound!(result),
    async stop() {
      const stopping = loop.stop();
      finishRound?.({ full: false });
      await stopping;
    },
  };
}

/** Lets every pending callback run, so a round that was going to begin has begun. */
const settle = () => sleep(20);

describe('poll loop', () => {
  it('runs another round at once when nudged during a round', async () => {
    const s = scriptedLoop();
    s.loop.start();
    await s.started(1);
    // The round may already have read: what the nudge announces could be missing from it.
    s.loop.nudge();
    s.finish({ full: false });
    await s.started(2);
    assert.equal(s.rounds(), 2);
    await s.stop();
  });

  it('waits after a round nobody nudged, until a nudge arrives', async () => {
    const s = scriptedLoop();
    s.loop.start();
    await s.started(1);
    s.finish({ full: false });
    await settle();
    assert.equal(s.rounds(), 1);
    s.loop.nudge();
    await s.started(2);
    await s.stop();
  });

  it('forgets a nudge once a round has begun after it', async () => {
    const s = scriptedLoop();
    s.loop.start();
    await s.started(1);
    s.loop.nudge();
    s.finish({ full: false });
    await s.started(2);
    // Round 2 reads everything the nudge announced; it ends with nothing new to do.
    s.finish({ full: false });
    await settle();
    assert.equal(s.rounds(), 2);
    await s.stop();
  });

  it('goes on at once after a full batch, and waits no longer than the round says something becomes due', async () => {
    const s = scriptedLoop();
    s.loop.start();
    await s.started(1);
    s.finish({ full: true });
    await s.started(2);
    s.finish({ full: false, nextInMs: 0 });
    await s.started(3);
    await s.stop();
  });

  it('waits out the failure delay after a failed round, even when nudged during it', async () => {
    const s = scriptedLoop({ idleMs: 0 });
    s.loop.start();
    await s.started(1);
    s.loop.nudge();
    s.finish(new Error('database away'));
    await settle();
    assert.equal(s.rounds(), 1);
    // A nudge during the wait still ends it.
    s.loop.nudge();
    await s.started(2);
    await s.stop();
  });
});
