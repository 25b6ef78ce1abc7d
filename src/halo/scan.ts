import { setMaxListeners } from 'node:events';
import { childController } from '../abort.ts';
import { HaloResponseError } from '../pipeline/halo-errors.ts';
import type { EventListFilter } from '../domain/event.ts';
import type { CutShort, HaloClient, ScanOptions, ScanResult } from '../pipeline/halo-port.ts';

/** A total above this is garbage, not an account: it would schedule millions of requests. */
const MAX_TOTAL = 10_000_000;

/**
 * How far past the first page's `pagination.total` a scan reads when later pages say events were added
 * meanwhile: a tenth more, and at least one page. Past that the pages promise more than an account grows by in
 * one scan, and the scan stops there.
 */
const promiseMargin = (total: number, pageSize: number): number => Math.max(pageSize, Math.ceil(total / 10));

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
  let cut: CutShort | null = null;
  const budget = options.budget;
  /** The first event ID of each page read: a page that starts with one again is Halo going round in circles. */
  const firstIds = new Map<string, number>();
  /**
   * Only counts come back: holding every page until the scan ends would hold every event at once. Null when
   * the scan is cut short: the page was not asked for, or repeated one already read and was not recorded.
   */
  const fetchPage = async (start: number): Promise<{ total: number | null; returned: number } | null> => {
    if (cut !== null) return null;
    if (budget !== undefined) {
      if (budget.left <= 0) {
        cut = {
          reason: 'request-cap',
          detail: `${budget.limit} list requests made this poll (HALO_MAX_REQUESTS_PER_POLL); stopped before start=${start}`,
        };
        return null;
      }
      budget.left--;
    }
    const memo = options.memo;
    const page = await queue.add(
      () => client.listEvents(filter, { start, limit: pageSize, signal, ...(memo ? { memo } : {}) }),
      { signal },
    );
    // Pages that arrive together are handled one per turn of the event loop, so a slash command in between is
    // acknowledged without waiting for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    // A page the memo knew comes without IDs: it was checked when it was read.
    const first = page.ids[0];
    if (first !== undefined) {
      const before = firstIds.get(first);
      if (before !== undefined) {
        cut ??= {
          reason: 'repeated-page',
          detail: `the page at start=${start} begins with event ${first}, as the page at start=${before} did`,
        };
        return null;
      }
      firstIds.set(first, start);
    }
    pages++;
    events += page.returned - page.invalid;
    invalid += page.invalid;
    latestTotal = Math.max(latestTotal, page.total ?? 0);
    if (totals.size < 2) totals.add(page.total);
    await onPage(page);
    return { total: page.total, returned: page.returned };
  };
  /**
   * Reads the pages from `from` up to `end`, `step` apart, with at most `queue.concurrency` of them queued or
   * in flight at once. Enqueueing every page up front held them all: p-queue keeps its consumed entries (each closing over its resolved page)
   * until half the queue is consumed, so a scan kept up to half of Halo's events alive (~75 MB at 500k events).
   * A short queue also leaves room for other Halo requests (a `/halo events` command) between a scan's pages.
   */
  const fetchAll = async (from: number, end: number, step: number): Promise<void> => {
    // Made as they are asked for: a total of 5,000,000 at one entry a page would be a 5,000,000-entry array.
    let next = from;
    const errors: unknown[] = [];
    const worker = async (): Promise<void> => {
      while (next < end && errors.length === 0 && cut === null) {
        const start = next;
        next += step;
        try {
          await fetchPage(start);
        } catch (error) {
          errors.push(error);
          failed.abort();
        }
      }
    };
    const width = Math.max(1, Math.min(queue.concurrency, Math.ceil((end - from) / step)));
    await Promise.all(Array.from({ length: width }, worker));
    // The first real failure, not the aborts it caused in its siblings.
    const cause =
      errors.find((reason) => !(reason instanceof Error && reason.name === 'AbortError')) ?? errors[0];
    if (errors.length > 0) throw cause;
  };

  const first = await fetchPage(0);
  if (first === null) {
    return { pages, events, invalid, total: null, steady: false, cutShort: cut };
  }
  if (first.total !== null) {
    if (first.total > MAX_TOTAL) {
      throw new HaloResponseError('event/list.json', `pagination.total of ${first.total} is not plausible`);
    }
    // Halo may cap pages below what was asked: step by what it served, or pages would be skipped silently.
    const step =
      first.returned > 0 && first.returned < pageSize && first.total > first.returned
        ? first.returned
        : pageSize;
    await fetchAll(step, first.total, step);
    // Events added while the scan ran show in later pages' totals: read them now rather than a poll later.
    const promised = first.total + promiseMargin(first.total, pageSize);
    await fetchAll(
      Math.max(step, Math.ceil(first.total / step) * step),
      Math.min(latestTotal, MAX_TOTAL, promised),
      step,
    );
    // Said after the pages up to the promise are read: a cut stops every page not yet asked for.
    if (latestTotal > promised)
      cut ??= {
        reason: 'past-promise',
        detail: `later pages said ${latestTotal} events where the first said ${first.total}; read up to ${promised}`,
      };
  } else {
    // No total to bound it: the poll's request cap and the repeated-page check end a list that never ends.
    let last: { returned: number } | null = first;
    for (let start = pageSize; last !== null && last.returned >= pageSize; start += pageSize)
      last = await fetchPage(start);
  }
  return {
    pages,
    events,
    invalid,
    total: first.total === null ? null : Math.max(first.total, latestTotal),
    steady: totals.size === 1 && cut === null,
    cutShort: cut,
  };
}
