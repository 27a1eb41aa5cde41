import type { Logger } from './logger.ts';

export interface PollLoop {
  start(): void;
  /** Run the next round now instead of after the idle wait. */
  nudge(): void;
  stop(): Promise<void>;
}

/**
 * Runs `round` again and again: at once while it reports a full batch, after `idleMs` when
 * it found little to do, after `failureMs` when it failed (its dependency may be away).
 */
export function createPollLoop(options: {
  name: string;
  round: () => Promise<{ full: boolean }>;
  idleMs: number;
  failureMs: number;
  logger: Logger;
}): PollLoop {
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function run(): Promise<void> {
    while (running) {
      let full = false;
      let delay = options.idleMs;
      try {
        ({ full } = await options.round());
      } catch (error) {
        options.logger.error({ err: error }, `${options.name} failed; retrying`);
        delay = options.failureMs;
      }
      if (full || !running) continue;
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
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
