/**
 * `/halo events` reads every matching event (up to a cap) to sort them, since Halo cannot sort by date: up to
 * 20 requests of 1,000. Its Next page button reads the same listing again, so each listing is kept for a short
 * while (5 minutes in production, `listingCacheMs` in src/delays.ts): a Next page within that time costs Halo
 * nothing, one after it reads the listing afresh. The command itself reads afresh, except that a listing read
 * in the last {@link FRESH_LISTING_MS}, or still being read, is shared: 300 identical commands in a row make one
 * read, not 300.
 */
import type PQueue from 'p-queue';
import type { Clock } from '../clock.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import type { EventListFilter, HaloEvent } from '../domain/event.ts';

/** `/halo events` reads at most this many events to sort them; Halo cannot sort by date itself. */
export const EVENT_LIST_READ_LIMIT = 20_000;

/**
 * A command is answered from a listing read this recently (or still being read) rather than reading it again:
 * Halo's list changes little in a few seconds, and a burst of identical commands must not each cost 20 requests.
 */
export const FRESH_LISTING_MS = 5000;

/** What a listing read found, newest first. */
export interface Listing {
  readonly events: readonly HaloEvent[];
  /** Halo's total, which may exceed what was read. */
  readonly total: number;
  readonly truncated: boolean;
}

/**
 * Bounds of the cache: listings kept, and events across them (a full listing is 20,000 events, ~10 MB). The
 * least recently used go first.
 */
export const LISTING_CACHE_LIMITS = { listings: 20, events: 2 * EVENT_LIST_READ_LIMIT } as const;

/** Reads every event matching `filter`, up to the cap, newest first, through the one bound on Halo requests. */
export async function readListing(
  halo: HaloClient,
  filter: EventListFilter,
  queue: PQueue,
): Promise<Listing> {
  const events: HaloEvent[] = [];
  const seen = new Set<string>();
  let total = 0;
  const reading = new AbortController();
  await halo
    .scan(filter, {
      pageSize: 1000,
      queue,
      signal: reading.signal,
      onPage: (result) => {
        total = Math.max(total, result.total ?? 0);
        for (const event of result.events()) {
          if (seen.has(event.eventId) || events.length >= EVENT_LIST_READ_LIMIT) continue;
          seen.add(event.eventId);
          events.push(event);
        }
        if (events.length >= EVENT_LIST_READ_LIMIT) reading.abort();
        return Promise.resolve();
      },
    })
    .catch((error: unknown) => {
      if (!reading.signal.aborted) throw error;
    });
  // Halo's dates sort as text (`YYYY-MM-DD HH:MM`); the ID breaks ties so pages stay stable.
  events.sort((a, b) => b.dateCreated.localeCompare(a.dateCreated) || b.eventId.localeCompare(a.eventId));
  return { events, total: Math.max(total, events.length), truncated: reading.signal.aborted };
}

interface Entry {
  /** When the read began: a listing is never served older than the lifetime. */
  readonly at: number;
  readonly listing: Promise<Listing>;
  /** Events it holds, once read. */
  size: number;
  /** Their IDs, once read: until then the read is in flight (a failed read leaves the cache). */
  held?: ReadonlySet<string>;
}

/** Listings by their query, each kept for `lifetimeMs` from its read; bounded by {@link LISTING_CACHE_LIMITS}. */
export class ListingCache {
  /** In use order: a Map iterates in insertion order, and a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly clock: Clock,
    private readonly limits: { readonly listings: number; readonly events: number } = LISTING_CACHE_LIMITS,
  ) {}

  /**
   * The listing of `filter`: the kept one while it is young enough (a read in flight included, so that two
   * clicks at once read Halo once); when `fresh`, only one still being read or read in the last
   * {@link FRESH_LISTING_MS}. Otherwise `read()`, kept when it succeeds.
   */
  get(filter: EventListFilter, read: () => Promise<Listing>, fresh = false): Promise<Listing> {
    const key = queryKey(filter);
    const now = this.clock.now();
    const kept = this.entries.get(key);
    this.entries.delete(key);
    const maxAge = fresh ? Math.min(FRESH_LISTING_MS, this.lifetimeMs) : this.lifetimeMs;
    if (kept !== undefined && now >= kept.at && (kept.held === undefined || now - kept.at < maxAge)) {
      this.entries.set(key, kept);
      return kept.listing;
    }
    if (this.lifetimeMs <= 0) return read();
    const entry: Entry = { at: now, listing: read(), size: 0 };
    this.entries.set(key, entry);
    entry.listing.then(
      (listing) => {
        entry.size = listing.events.length;
        entry.held = new Set(listing.events.map((event) => event.eventId));
        this.trim();
        // Dropped when its lifetime ends, not at the next /halo events: a listing holds up to 20,000 events.
        setTimeout(() => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        }, this.lifetimeMs).unref();
      },
      // A failed read is not kept: the next click asks Halo again.
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    this.trim();
    return entry.listing;
  }

  /**
   * Drops the kept listings that show `eventId`, and those still being read (they may show it): after a Delete,
   * Next page must not show the event for the rest of the lifetime.
   */
  forgetEvent(eventId: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.size === 0 || entry.held?.has(eventId) !== false) this.entries.delete(key);
    }
  }

  /** How many listings are kept (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private trim(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries)
      if (now - entry.at >= this.lifetimeMs || now < entry.at) this.entries.delete(key);
    let events = 0;
    for (const entry of this.entries.values()) events += entry.size;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.listings && events <= this.limits.events) break;
      this.entries.delete(key);
      events -= entry.size;
    }
  }
}

/** The listing's query, whatever order its fields were given in. */
function queryKey(filter: EventListFilter): string {
  return JSON.stringify(Object.entries(filter).sort(([a], [b]) => a.localeCompare(b)));
}
