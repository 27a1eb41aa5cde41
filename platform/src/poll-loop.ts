import type { Logger } from './logger.ts';

export interface PollLoop {
  start(): void;
  /** Run the next round now instead of after the idle wait; a nudge during a round runs another at once. */
  nudge(): void;
  stop(): Promise<void>;
}

/** What a round found: a full batch (more is waiting), and how soon something it saw becomes due. */
export interface RoundResult {
  full: boolean;
  /** Wait at most this long before the next round (never longer than `idleMs`). */
  nextInMs?: number;
}

/**
 * Runs `round` again and again: at once while it reports a full batch or was nudged during
 * the round, after `idleMs` (or sooner, when the round says something becomes due) when it
 * found little to do, after `failureMs` when it failed (its dependency may be away).
 */
export function createPollLoop(options: { name: string; round: () => Promise<RoundResult>; idleMs: number; failureMs: number; logger: Logger }): PollLoop {
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  // A nudge that arrives while a round runs: that round may have read before the change it announces.
  let nudgedDuringRound = false;

  async function run(): Promise<void> {
    while (running) {
      let result: RoundResult = { full: false };
      let delay = options.idleMs;
      nudgedDuringRound = false;
      try {
        result = await options.round();
        if (result.nextInMs !== undefined) delay = Math.max(0, Math.min(delay, result.nextInMs));
      } catch (error) {
        options.logger.error({ err: error }, `${options.name} failed; retrying`);
        delay = options.failureMs;
        // A failed round waits out its delay, nudged or not: its dependency may be away.
        nudgedDuringRound = false;
      }
      if (result.full || nudgedDuringRound || !running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    nudge() {
      if (wake !== undefined) wake();
      else nudgedDuringRound = true;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
