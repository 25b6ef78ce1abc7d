import { describe, expect, it } from 'vitest';
import {
  FRESH_LISTING_MS,
  ListingCache,
  LISTING_CACHE_LIMITS,
  type Listing,
} from '../../src/commands/listings.ts';
import type { HaloEvent } from '../../src/domain/event.ts';

function listing(n: number): Listing {
  const events = Array.from({ length: n }, (_, i): HaloEvent => ({
    eventId: `ev-${i}`,
    subject: 'Scan Started',
    dateCreated: '2024-05-01 12:00',
    key: 'target-scan-start',
    url: '',
    target: null,
  }));
  return { events, total: n, truncated: false };
}

/** A cache on a clock the test moves, with a read that counts its calls. */
function setup(limits = { listings: 3, events: 100 }) {
  let now = 1_000_000;
  const reads: string[] = [];
  const cache = new ListingCache(300_000, { now: () => now }, limits);
  const read =
    (key: string, n = 1) =>
    (): Promise<Listing> => {
      reads.push(key);
      return Promise.resolve(listing(n));
    };
  return {
    cache,
    reads,
    read,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ListingCache', () => {
  it('serves a listing until its lifetime ends, counted from its read, then reads it again', async () => {
    const { cache, reads, read, advance } = setup();
    await cache.get({ key: 'a' }, read('a'));
    advance(299_999);
    await cache.get({ key: 'a' }, read('a'));
    expect(reads).toEqual(['a']);
    advance(1);
    await cache.get({ key: 'a' }, read('a'));
    expect(reads).toEqual(['a', 'a']);
  });

  it('keys a listing by its query, whatever the order of its fields; `fresh` reads unless it is very recent', async () => {
    const { cache, reads, read, advance } = setup();
    await cache.get({ key: 'a', target_id: 4 }, read('a4'));
    await cache.get({ target_id: 4, key: 'a' }, read('a4'));
    await cache.get({ key: 'a' }, read('a'));
    advance(FRESH_LISTING_MS - 1);
    await cache.get({ key: 'a' }, read('a'), true);
    expect(reads).toEqual(['a4', 'a']);
    advance(1);
    await cache.get({ key: 'a' }, read('a'), true);
    expect(reads).toEqual(['a4', 'a', 'a']);
  });

  // Issue 23, item 7: 300 `/halo events` in a row each read the whole listing (3,133 Halo requests).
  it('shares one read among identical fresh commands, however long the read takes', async () => {
    const { cache, reads, advance } = setup();
    let finish!: (listing: Listing) => void;
    const slow = (): Promise<Listing> => {
      reads.push('slow');
      return new Promise((resolve) => (finish = resolve));
    };
    const commands = [cache.get({}, slow, true)];
    for (let i = 0; i < 299; i++) {
      advance(1000);
      commands.push(cache.get({}, slow, true));
    }
    finish(listing(3));
    const answers = await Promise.all(commands);
    expect(reads).toEqual(['slow']);
    expect(new Set(answers).size).toBe(1);
  });

  it('reads Halo once for two clicks at once, and keeps no failed read', async () => {
    const { cache, reads, read } = setup();
    let fail!: (error: Error) => void;
    const failing = (): Promise<Listing> => {
      reads.push('failing');
      return new Promise((_, reject) => (fail = reject));
    };
    const both = [cache.get({ key: 'a' }, failing), cache.get({ key: 'a' }, failing)];
    fail(new Error('Halo is down'));
    for (const click of both) await expect(click).rejects.toThrow('Halo is down');
    await cache.get({ key: 'a' }, read('a'));
    expect(reads).toEqual(['failing', 'a']);
  });

  it('keeps at most so many listings and events, dropping the least recently used', async () => {
    const { cache, reads, read } = setup({ listings: 3, events: 100 });
    for (const key of ['a', 'b', 'c']) await cache.get({ key }, read(key));
    await cache.get({ key: 'a' }, read('a'));
    await cache.get({ key: 'd' }, read('d'));
    expect(cache.size).toBe(3);
    // b was the least recently used.
    await cache.get({ key: 'b' }, read('b'));
    expect(reads).toEqual(['a', 'b', 'c', 'd', 'b']);

    // Kept: a, d, b. A fourth goes past 3 listings (a goes), and its 99 events past 100 (d goes).
    await cache.get({ key: 'big' }, read('big', 99));
    expect(cache.size).toBe(2);
    await cache.get({ key: 'big' }, read('big', 99));
    await cache.get({ key: 'b' }, read('b'));
    await cache.get({ key: 'd' }, read('d'));
    expect(reads).toEqual(['a', 'b', 'c', 'd', 'b', 'big', 'd']);
  });

  it('forgets the listings that show a deleted event, and those still being read', async () => {
    const { cache, reads, read } = setup({ listings: 10, events: 1000 });
    await cache.get({ key: 'three' }, read('three', 3)); // ev-0 … ev-2
    await cache.get({ key: 'one' }, read('one', 1)); // ev-0
    let finish: (l: Listing) => void = () => undefined;
    void cache.get({ key: 'slow' }, () => new Promise<Listing>((resolve) => (finish = resolve)));
    cache.forgetEvent('ev-2');
    expect(cache.size).toBe(1);
    finish(listing(1));
    await cache.get({ key: 'one' }, read('one', 1));
    await cache.get({ key: 'three' }, read('three', 3));
    expect(reads).toEqual(['three', 'one', 'three']);
  });

  it('lets go of a listing when its lifetime ends, without waiting for the next /halo events', async () => {
    const cache = new ListingCache(20, { now: () => 0 });
    await cache.get({ key: 'a' }, () => Promise.resolve(listing(5)));
    expect(cache.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.size).toBe(0);
  });

  it('keeps at most 20 listings and 40,000 events in production', () => {
    expect(LISTING_CACHE_LIMITS).toEqual({ listings: 20, events: 40_000 });
  });
});
