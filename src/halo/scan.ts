import type PQueue from 'p-queue';
import type { EventPage, HaloClient } from './client.ts';
import { HaloResponseError } from './errors.ts';
import type { EventListFilter } from './types.ts';

/** A total above this is garbage, not an account: it would schedule millions of requests. */
const MAX_TOTAL = 10_000_000;

export interface ScanResult {
  readonly pages: number;
  readonly events: number;
  readonly invalid: number;
  /** `pagination.total` of the first page, when Halo sent one. */
  readonly total: number | null;
}

export interface ScanOptions {
  readonly pageSize: number;
  /** Shared by every scan of a poll, so that the whole poll keeps to one bound on requests in flight. */
  readonly queue: PQueue;
  readonly signal: AbortSignal;
  /** Called once per page as it arrives; pages arrive in any order. */
  readonly onPage: (page: EventPage) => Promise<void>;
}

/**
 * Reads every event matching `filter`. The first page tells the total, and the remaining pages are then fetched
 * in parallel through the queue. Without a total, pages are read one after another until a short one.
 * Offsets shift if events are added or deleted meanwhile: the caller dedups, and the next scan catches a miss.
 */
export async function scanEvents(
  client: HaloClient,
  filter: EventListFilter,
  options: ScanOptions,
): Promise<ScanResult> {
  const { pageSize, queue, onPage } = options;
  // Ends the sibling requests as soon as one page has failed: the poll has failed anyway.
  const failed = new AbortController();
  const signal = AbortSignal.any([options.signal, failed.signal]);
  let pages = 0;
  let events = 0;
  let invalid = 0;
  const fetchPage = async (start: number): Promise<EventPage> => {
    const page = await queue.add(() => client.listEvents(filter, { start, limit: pageSize, signal }), {
      signal,
    });
    pages++;
    events += page.events.length;
    invalid += page.invalid;
    await onPage(page);
    return page;
  };

  const first = await fetchPage(0);
  if (first.total !== null) {
    if (first.total > MAX_TOTAL) {
      throw new HaloResponseError('event/list.json', `pagination.total of ${first.total} is not plausible`);
    }
    // Halo may cap pages below what was asked: step by what it served, or pages would be skipped silently.
    const step =
      first.returned > 0 && first.returned < pageSize && first.total > first.returned
        ? first.returned
        : pageSize;
    const starts: number[] = [];
    for (let start = step; start < first.total; start += step) starts.push(start);
    const results = await Promise.allSettled(
      starts.map((start) =>
        fetchPage(start).catch((error: unknown) => {
          failed.abort();
          throw error;
        }),
      ),
    );
    // The first real failure, not the aborts it caused in its siblings.
    const reasons = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    const cause =
      reasons.find((reason) => !(reason instanceof Error && reason.name === 'AbortError')) ?? reasons[0];
    if (reasons.length > 0) throw cause;
  } else {
    let last = first;
    for (let start = pageSize; last.returned >= pageSize; start += pageSize) last = await fetchPage(start);
  }
  return { pages, events, invalid, total: first.total };
}
