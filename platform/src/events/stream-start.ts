import { errors } from '../errors.ts';
import { isStreamId } from './stream-hub.ts';

/** `after: "0"` replays from the first event still kept; Redis's own spelling `0-0` works too. */
export const FROM_THE_START = '0';

/**
 * Where a subscription to a tenant's stream starts, from its `after` argument: live only
 * (omitted), from the first event kept (`"0"`), or right after an event the client has seen
 * (its `eventId`).
 */
export function startAfter(after: string | null | undefined): string | undefined {
  if (after == null) return undefined;
  if (after === FROM_THE_START) return '0-0';
  if (!isStreamId(after))
    throw errors.badInput(
      'after',
      `must be "${FROM_THE_START}" to start from the first event, or the eventId of an event received before (like "1718000000000-0")`,
    );
  return after;
}
