import { setTimeout as sleep } from 'node:timers/promises';

/** Repeats a request until its answer is accepted (or the tries run out, returning the last); for changes that travel through Redis. */
export async function eventually<T>(request: () => Promise<T>, accept: (answer: T) => boolean, tries = 40, pauseMs = 50): Promise<T> {
  let last = await request();
  for (let i = 0; i < tries && !accept(last); i++) {
    await sleep(pauseMs);
    last = await request();
  }
  return last;
}
