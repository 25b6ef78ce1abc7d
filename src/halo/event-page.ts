/** The two ways an {@link EventPage} is made: from the fast reading of its bytes, or from a full parse. */
import type { EventPage } from '../pipeline/halo-port.ts';
import type { PageCounts } from './page-memo.ts';
import { scanEventListBody } from './page-scan.ts';
import { parseEvent, type ListBody } from './response-parse.ts';
import type { HaloEvent } from '../domain/event.ts';

const utf8 = new TextDecoder();

/** A list body read by `scanEventListBody`, or null when it must be parsed in full. */
export function fastEventPage(body: Uint8Array): EventPage | null {
  const scan = scanEventListBody(body);
  if (scan === null) return null;
  const { ids, starts, ends, invalid, total } = scan;
  const eventAt = (position: number): HaloEvent => {
    // The event's own bytes: each starts and ends with an ASCII brace, so decoding them alone gives the same
    // text as decoding the page, and `JSON.parse` of it the same object.
    const json = JSON.parse(utf8.decode(body.subarray(starts[position], ends[position]))) as unknown;
    const event = parseEvent(json);
    // The reader accepts exactly the IDs `parseEvent` accepts; a difference is a bug to see, not to hide.
    if (event === null || event.eventId !== ids[position])
      throw new Error(`page-scan read event ${position} differently`);
    return event;
  };
  return {
    ids,
    events: (positions) =>
      positions === undefined ? ids.map((_, i) => eventAt(i)) : positions.map((p) => eventAt(p)),
    total,
    invalid,
    returned: ids.length + invalid,
  };
}

/** A page parsed in full by `parseEventList`. */
export function parsedEventPage(list: ListBody<HaloEvent>): EventPage {
  const { items, invalid, total } = list;
  return {
    ids: items.map((event) => event.eventId),
    events: (positions) => (positions === undefined ? [...items] : positions.map((p) => items[p]!)),
    total,
    invalid,
    returned: items.length + invalid,
  };
}

/** A page the memo knew: nothing in it to read, only its counts. */
export function knownEventPage({ total, invalid, returned }: PageCounts): EventPage {
  return { ids: [], events: () => [], total, invalid, returned };
}
