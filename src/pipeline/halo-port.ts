/**
 * The Halo port: what the core needs of Halo's Event API, defined here and implemented by `halo/` (ky over a
 * node:http transport, the page memo, the scan). The core holds a {@link HaloClient} handed over by the composition
 * root; every failure is one of `halo-errors.ts`.
 */
import type PQueue from 'p-queue';
import type { EventListFilter, HaloEvent, HaloEventType } from '../domain/event.ts';

/**
 * What a scan keeps between polls to skip a list page that came back byte for byte the same. The Halo adapter
 * makes it and reads it; the core only decides when to keep one and when to drop it.
 */
export interface ScanMemo {
  readonly kind: 'scan-memo';
}

/**
 * One page of `event/list.json`. Its events are parsed and validated when asked for: a poll asks only for the
 * few it has not seen, and reading the rest into objects was most of its CPU (see `page-scan.ts`).
 */
export interface EventPage {
  /** The ID of each valid entry, in order. */
  readonly ids: readonly string[];
  /** The valid entries at these positions of `ids` (all of them when omitted), parsed and validated in full. */
  events(positions?: readonly number[]): HaloEvent[];
  /**
   * Tells the page memo (`ListOptions.memo`) that every event of this page is now recorded as seen. Absent
   * without a memo, and when the memo knew the page already: `ids` is then empty, the counts are the page's.
   */
  readonly recorded?: () => void;
  /** `pagination.total`, when Halo sent it. */
  readonly total: number | null;
  /** Entries that were malformed and skipped. */
  readonly invalid: number;
  /** How many entries Halo returned, valid or not: decides whether this was the last page. */
  readonly returned: number;
}

export interface ListOptions {
  readonly start: number;
  readonly limit: number;
  readonly sort?: number;
  readonly sortDesc?: boolean;
  readonly signal?: AbortSignal;
  /** Pages read before, to skip one that came back byte for byte the same (the adapter's, opaque here). */
  readonly memo?: ScanMemo;
}

/** The four endpoints of Halo's Event API. Every failure is a {@link HaloError}. */
export interface HaloClient {
  listEvents(filter: EventListFilter, options: ListOptions): Promise<EventPage>;
  getEvent(eventId: string, signal?: AbortSignal): Promise<HaloEvent>;
  deleteEvent(eventId: string, signal?: AbortSignal): Promise<void>;
  listTypes(signal?: AbortSignal): Promise<HaloEventType[]>;
  /**
   * Reads every event matching `filter`: the first page tells the total, the rest are fetched in parallel through
   * `options.queue`, each handed to `options.onPage` as it arrives. Bounded by what the first page promised, by
   * a page that repeats one already read, and by `options.budget`; a scan cut short says so in its result.
   */
  scan(filter: EventListFilter, options: ScanOptions): Promise<ScanResult>;
}

/** Why a scan stopped before Halo said it was done. */
export type CutReason = 'request-cap' | 'repeated-page' | 'past-promise';

export interface CutShort {
  readonly reason: CutReason;
  /** What happened, in numbers and event IDs. */
  readonly detail: string;
}

/** The list requests a poll may still make (HALO_MAX_REQUESTS_PER_POLL), shared by all of its scans. */
export interface RequestBudget {
  readonly limit: number;
  left: number;
}

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
  /**
   * Set when the scan stopped before its end: too many requests this poll, a page that repeats one already
   * read, or pages past what the first one promised. Such a scan is not steady: it proves no event gone.
   */
  readonly cutShort: CutShort | null;
}

export interface ScanOptions {
  readonly pageSize: number;
  /** Shared by every scan of a poll, so that the whole poll keeps to one bound on requests in flight. */
  readonly queue: PQueue;
  readonly signal: AbortSignal;
  /** Pages read before (the adapter's memo); a page it knows comes with no IDs, and its counts. */
  readonly memo?: ScanMemo;
  /** Requests left to this poll; absent: no bound but the scan's own. */
  readonly budget?: RequestBudget;
  /** Called once per page as it arrives; pages arrive in any order. */
  readonly onPage: (page: EventPage) => Promise<void>;
}
