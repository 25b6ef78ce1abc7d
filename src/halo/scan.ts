import { setMaxListeners } from 'node:events';
import type PQueue from 'p-queue';
import { childController } from '../abort.ts';
import type { EventPage, HaloClient } from './client.ts';
import { HaloResponseError } from './errors.ts';
import type { PageMemo } from './page-memo.ts';
import type { EventListFilter } from '../domain/event.ts';

/** A total above this is garbage, not an account: it would schedule millions of requests. */
const MAX_TOTAL = 10_000_000;

export interface ScanResult {
  readonly pages: number;
  readonly events: number;
  readonly invalid: number;
  /** `pagination.total` of the first page, when Halo sent one. */
  readonly total: number | null;
  /**
   * Every page reported the same total as the first (or none did): nothing was added or deleted while the scan
   * ran, so no event can have slipped between two pages. Only such a scan proves that an event is gone.
   */
  readonly steady: boolean;
}

export interface ScanOptions {
  readonly pageSize: number;
  /** Shared by every scan of a poll, so that the whole poll keeps to one bound on requests in flight. */
  readonly queue: PQueue;
  readonly signal: AbortSignal;
  /** Pages read before (see `page-memo.ts`); a page it knows comes with no IDs, and its counts. */
  readonly memo?: PageMemo;
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
  // The scan's own controller, aborted by the caller's signal (shutdown) or by a failed page; released at the end
  // so that nothing of the scan stays attached to the long-lived caller's signal.
  const link = childController(options.signal);
  try {
    return await scanWith(client, filter, options, link.controller);
  } finally {
    link.release();
  }
}

async function scanWith(
  client: HaloClient,
  filter: EventListFilter,
  options: ScanOptions,
  failed: AbortController,
): Promise<ScanResult> {
  const { pageSize, queue, onPage } = options;
  // Aborting it ends the sibling requests as soon as one page has failed: the poll has failed anyway.
  const signal = failed.signal;
  // Every queued page listens on this signal; a 100-page scan is expected, not a leak.
  setMaxListeners(0, signal);
  let pages = 0;
  let events = 0;
  let invalid = 0;
  let latestTotal = 0;
  const totals = new Set<number | null>();
  /** Only counts come back: holding every page until the scan ends would hold every event at once. */
  const fetchPage = async (start: number): Promise<{ total: number | null; returned: number }> => {
    const memo = options.memo;
    const page = await queue.add(
      () => client.listEvents(filter, { start, limit: pageSize, signal, ...(memo ? { memo } : {}) }),
      { signal },
    );
    // Pages that arrive together are handled one per turn of the event loop, so a slash command in between is
    // acknowledged without waiting for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    pages++;
    events += page.returned - page.invalid;
    invalid += page.invalid;
    latestTotal = Math.max(latestTotal, page.total ?? 0);
    if (totals.size < 2) totals.add(page.total);
    await onPage(page);
    return { total: page.total, returned: page.returned };
  };
  /**
   * Reads the pages at `starts` with at most `queue.concurrency` of them queued or in flight at once. Enqueueing
   * every page up front held them all: p-queue keeps its consumed entries (each closing over its resolved page)
   * until half the queue is consumed, so a scan kept up to half of Halo's events alive (~75 MB at 500k events).
   * A short queue also leaves room for other Halo requests (a `/halo events` command) between a scan's pages.
   */
  const fetchAll = async (starts: readonly number[]): Promise<void> => {
    let next = 0;
    const errors: unknown[] = [];
    const worker = async (): Promise<void> => {
      while (next < starts.length && errors.length === 0) {
        const start = starts[next++]!;
        try {
          await fetchPage(start);
        } catch (error) {
          errors.push(error);
          failed.abort();
        }
      }
    };
    const width = Math.max(1, Math.min(queue.concurrency, starts.length));
    await Promise.all(Array.from({ length: width }, worker));
    // The first real failure, not the aborts it caused in its siblings.
    const cause =
      errors.find((reason) => !(reason instanceof Error && reason.name === 'AbortError')) ?? errors[0];
    if (errors.length > 0) throw cause;
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
    await fetchAll(starts);
    // Events added while the scan ran show in later pages' totals: read them now rather than a poll later.
    const more: number[] = [];
    const end = Math.min(latestTotal, MAX_TOTAL);
    for (let start = Math.max(step, starts.length * step + step); start < end; start += step)
      more.push(start);
    await fetchAll(more);
  } else {
    let last = first;
    for (let start = pageSize; last.returned >= pageSize; start += pageSize) last = await fetchPage(start);
  }
  return {
    pages,
    events,
    invalid,
    total: first.total === null ? null : Math.max(first.total, latestTotal),
    steady: totals.size === 1,
  };
}
