import { TansuError } from '@tansu/client';
import type { Output } from './output.ts';

export interface BatchOutcome<Item, Value> {
  done: { item: Item; value: Value }[];
  refused: { item: Item; error: TansuError }[];
}

/**
 * Does `work` for each item in turn, the bar advancing as it goes. A refusal is kept with its
 * item and the rest still run, so one bad entry does not hide how the others fared; anything
 * else (a bug) stops at once.
 */
export async function runEach<Item, Value>(
  out: Output,
  items: readonly Item[],
  labelOf: (item: Item) => string,
  work: (item: Item) => Promise<Value>,
): Promise<BatchOutcome<Item, Value>> {
  const outcome: BatchOutcome<Item, Value> = { done: [], refused: [] };
  for (const [index, item] of items.entries()) {
    out.progress(index, items.length, labelOf(item));
    try {
      outcome.done.push({ item, value: await work(item) });
    } catch (error) {
      if (!(error instanceof TansuError)) throw error;
      outcome.refused.push({ item, error });
    }
  }
  out.progress(items.length, items.length, outcome.refused.length === 0 ? 'done' : `done, ${outcome.refused.length} refused`);
  return outcome;
}

/** A refusal as a batch's JSON lists it. */
export function refusalOf(error: TansuError): { code: string; message: string; field?: string } {
  return { code: error.code, message: error.message, ...(error.field === undefined ? {} : { field: error.field }) };
}
