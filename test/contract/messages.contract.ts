/**
 * The contract for keeping alerts true (`MessageStore`): the messages each alerted event was posted as, the
 * conclusive scans that missed those events, and marking them gone with their updates in the outbox. Every Store
 * implementation passes it; called from each implementation's test file beside `storeContract`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEventMessage, ScanCoverage, Store } from '../../src/pipeline/store-port.ts';
import type { StoreHarness } from './store.contract.ts';

const message = (eventId: string, partial: Partial<NewEventMessage> = {}): NewEventMessage => ({
  channel: 'C1',
  ts: `1.${eventId}`,
  eventId,
  payload: JSON.stringify({ eventId }),
  key: 'port-open',
  targetId: null,
  ...partial,
});

const keys = (...list: string[]): ScanCoverage => ({ all: false, keys: list, targetIds: [] });
const targets = (...list: number[]): ScanCoverage => ({ all: false, keys: [], targetIds: list });
const ALL: ScanCoverage = { all: true, keys: [], targetIds: [] };
const NONE: ScanCoverage = { all: false, keys: [], targetIds: [] };

export function messagesContract(harness: StoreHarness): void {
  let store: Store;
  beforeEach(async () => {
    store = await harness.fresh();
  });
  afterEach(() => store.close());

  describe('watched events', () => {
    it('counts a miss only for events a conclusive scan covered and did not list, and two in a row make them gone', async () => {
      await store.recordMessage(message('a', { key: 'k1' }), 100);
      await store.recordMessage(message('b', { key: 'k2', targetId: 5 }), 100);
      await store.recordMessage(message('c', { key: 'k3', targetId: 6 }), 100);
      expect((await store.watchedEventIds()).sort()).toEqual(['a', 'b', 'c']);

      // Poll 1 (began at 200) listed a, and an ID nobody alerted; k1 and k2 scanned completely.
      await store.markListed(['a', 'never-alerted'], 200);
      expect(await store.countMisses(keys('k1', 'k2'), 200, 2)).toEqual([]);
      // Poll 2: nothing listed. b misses again; a misses once; c is covered by no scan.
      expect(await store.countMisses(keys('k1', 'k2'), 300, 2)).toEqual(['b']);
      // Still returned until marked gone (a crash between the two steps repeats the update, never loses it).
      expect(await store.countMisses(NONE, 400, 2)).toEqual(['b']);

      // A listing, even by a scan that then failed, resets the count.
      await store.markListed(['a'], 500);
      expect(await store.countMisses(keys('k1'), 600, 2)).toEqual(['b']);
      expect(await store.countMisses(keys('k1'), 700, 2)).toEqual(['a', 'b']);

      // By target (c's first miss), then "everything" (a and b at three, c at two).
      expect(await store.countMisses(targets(6), 800, 1)).toEqual(['a', 'b', 'c']);
      expect(await store.countMisses(ALL, 900, 3)).toEqual(['a', 'b']);
      expect(await store.countMisses(NONE, 900, 2)).toEqual(['a', 'b', 'c']);
    });

    it('takes the events a poll listed with the count, and writes no row for them unless a count starts over', async () => {
      await store.recordMessage(message('a', { key: 'k1' }), 100);
      await store.recordMessage(message('b', { key: 'k1' }), 100);
      // Listed: not a miss; b, not listed, misses.
      expect(await store.countMisses(keys('k1'), 200, 2, ['a', 'never-alerted'])).toEqual([]);
      expect(await store.countMisses(keys('k1'), 300, 2, ['a'])).toEqual(['b']);
      // a misses once, then is listed again: its count starts over.
      expect(await store.countMisses(keys('k1'), 400, 2, [])).toEqual(['b']);
      expect(await store.countMisses(keys('k1'), 500, 2, ['a'])).toEqual(['b']);
      expect(await store.countMisses(keys('k1'), 600, 2, [])).toEqual(['b']);
      expect(await store.countMisses(keys('k1'), 700, 2, [])).toEqual(['a', 'b']);
      // Listing leaves the posting time as it was: what "posted since" counts.
      expect((await store.postedSince([], [], 101)).counts).toEqual([]);
    });

    it('does not count a scan that began before the message was posted', async () => {
      await store.recordMessage(message('a'), 1000);
      expect(await store.countMisses(ALL, 999, 1)).toEqual([]);
      expect(await store.countMisses(ALL, 1000, 1)).toEqual([]);
      expect(await store.countMisses(ALL, 1001, 1)).toEqual(['a']);
    });
  });

  describe('messages', () => {
    it('keeps every message of an event with its acknowledgements and summary, and survives a restart', async () => {
      expect(await store.recordMessage(message('a'), 100)).toEqual({ goneAt: null });
      await store.recordMessage(message('a', { channel: 'C2', ts: '2.0' }), 100);
      // The same message twice is one.
      await store.recordMessage(message('a'), 150);
      await store.recordMessage(message('b'), 100);
      await store.acknowledge({ channel: 'C1', messageTs: '1.a', eventId: 'a', userId: 'UB', at: 20 });
      await store.acknowledge({ channel: 'C1', messageTs: '1.a', eventId: 'a', userId: 'UA', at: 10 });
      expect(await store.setMessageSummary('C2', '2.0', 'Scan complete · nothing new')).toEqual({
        goneAt: null,
      });
      await store.close();
      store = await harness.reopen();

      expect(await store.eventMessages(['a'])).toEqual([
        {
          channel: 'C1',
          ts: '1.a',
          eventId: 'a',
          payload: '{"eventId":"a"}',
          summary: null,
          acks: [
            { channel: 'C1', messageTs: '1.a', eventId: 'a', userId: 'UA', at: 10 },
            { channel: 'C1', messageTs: '1.a', eventId: 'a', userId: 'UB', at: 20 },
          ],
        },
        {
          channel: 'C2',
          ts: '2.0',
          eventId: 'a',
          payload: '{"eventId":"a"}',
          summary: 'Scan complete · nothing new',
          acks: [],
        },
      ]);
      expect(await store.eventMessages([])).toEqual([]);
    });

    it('marks events gone with their updates in the outbox, once', async () => {
      await store.recordMessage(message('a'), 100);
      await store.recordMessage(message('b'), 100);
      const update = {
        channel: 'C1',
        kind: 'gone' as const,
        payload: '{"ts":"1.a"}',
        dedupKey: 'C1:gone:1.a',
      };
      await store.markGone(['a'], [update], 500);
      await store.markGone(['a'], [update], 600);

      const due = await store.nextDue('C1', 600);
      expect(due).toMatchObject({ kind: 'gone', payload: '{"ts":"1.a"}', dedupKey: 'C1:gone:1.a' });
      await store.markDelivered(due!.id, 600);
      expect(await store.nextDue('C1', 600)).toBeNull();

      // Gone events are not watched or counted any more; a message posted later learns when its event went.
      expect(await store.watchedEventIds()).toEqual(['b']);
      expect(await store.countMisses(ALL, 700, 1)).toEqual(['b']);
      expect(await store.recordMessage(message('a', { channel: 'C3', ts: '3.0' }), 800)).toEqual({
        goneAt: 500,
      });
      expect(await store.setMessageSummary('C1', '1.a', 'Scan complete')).toEqual({ goneAt: 500 });
      expect(await store.setMessageSummary('C9', '9.9', 'Scan complete')).toEqual({ goneAt: null });
    });
  });

  describe('what the subscribe dialog reads: the events posted', () => {
    const posted = (eventId: string, key: string, targetId: number | null, host = `h${targetId}`) =>
      message(eventId, {
        key,
        targetId,
        payload: JSON.stringify({ eventId, subject: `S ${eventId}`, target: { host } }),
      });

    it('counts the events posted since a time by key, for some keys and targets, and gives the newest', async () => {
      await store.recordMessage(posted('old', 'k1', 7), 100);
      await store.recordMessage(posted('a', 'k1', 7), 1000);
      await store.recordMessage(posted('b', 'k2', 7), 1100);
      await store.recordMessage(posted('c', 'k1', 8), 1200);
      // A second message of the same event (another channel) counts once.
      await store.recordMessage({ ...posted('a', 'k1', 7), channel: 'C2', ts: '2.a' }, 1300);
      expect(await store.postedSince([], [], 500)).toEqual({
        counts: [
          { key: 'k1', count: 2 },
          { key: 'k2', count: 1 },
        ],
        latest: {
          payload: JSON.stringify({ eventId: 'c', subject: 'S c', target: { host: 'h8' } }),
          at: 1200,
        },
      });
      expect(await store.postedSince(['k1'], [7], 500)).toMatchObject({
        counts: [{ key: 'k1', count: 1 }],
        latest: { at: 1000 },
      });
      expect(await store.postedSince(['k9'], [], 0)).toEqual({ counts: [], latest: null });
    });

    it('lists the targets of the events posted, newest first, each once, with an event of it', async () => {
      await store.recordMessage(posted('a', 'k1', 7), 100);
      await store.recordMessage(posted('b', 'k1', 8), 200);
      await store.recordMessage(posted('c', 'k2', 7), 300);
      await store.recordMessage(posted('d', 'k2', null), 400);
      const targets = await store.postedTargets(10);
      expect(targets.map((t) => t.targetId)).toEqual([7, 8]);
      expect(JSON.parse(targets[0]!.payload)).toMatchObject({ target: { host: 'h7' } });
      expect(await store.postedTargets(1)).toHaveLength(1);
    });
  });
}
