/**
 * The one contract every Store implementation passes. Each implementation's test file calls `storeContract` with
 * a harness that opens a store on a fresh, empty database; the behaviour asserted here is what the pipeline and
 * the commands rely on, whatever the database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HaloEvent } from '../../src/domain/event.ts';
import type { NewOutboxItem, Store } from '../../src/pipeline/store-port.ts';

export interface StoreHarness {
  /** A store on a fresh, empty database. */
  fresh(): Promise<Store>;
  /** A new store on the database of the last `fresh()`, whose store has been closed. */
  reopen(): Promise<Store>;
}

export function event(
  eventId: string,
  dateCreated = '2024-05-01 12:00',
  key = 'target-scan-start',
): HaloEvent {
  return {
    eventId,
    subject: `Subject ${eventId}`,
    dateCreated,
    key,
    url: `https://www.halosecurity.com/link?q=user-event&id=${eventId}`,
    target: { name: '', id: 1, host: 'www.example.com' },
  };
}

export function alert(channel: string, eventId: string): NewOutboxItem {
  return {
    channel,
    kind: 'alert',
    payload: JSON.stringify(event(eventId)),
    dedupKey: `${channel}:event:${eventId}`,
  };
}

/** Every event of a page is news. */
const all = (n: number): boolean[] => Array<boolean>(n).fill(true);

export function storeContract(harness: StoreHarness): void {
  let store: Store;

  beforeEach(async () => {
    store = await harness.fresh();
  });
  afterEach(() => store.close());

  describe('seen and staged events', () => {
    it('records every event as seen and stages only the unseen ones that are news', async () => {
      const [a, b, c] = [event('a'), event('b'), event('c')];
      expect(await store.recordPage([a, b, c], [true, false, true])).toBe(2);
      expect(await store.staged()).toEqual([a, c]);
      // Seen before: never staged again, whatever the page says now.
      expect(await store.recordPage([a, b, c, event('d')], [true, true, true, true])).toBe(1);
      expect((await store.staged()).map((e) => e.eventId)).toEqual(['a', 'c', 'd']);
      expect(await store.stats()).toEqual({ seen: 4, staged: 3, pending: 0, failed: 0, delivered: 0 });
      expect(await store.pendingCount()).toBe(0);
    });

    it('tells which IDs of a page were never seen, by position, without recording them', async () => {
      expect(await store.unseen([])).toEqual([]);
      expect(await store.unseen(['a', 'b', 'a'])).toEqual([0, 1, 2]);
      expect(await store.stats()).toMatchObject({ seen: 0 });
      await store.recordPage([event('a'), event('c')], [false, false]);
      expect(await store.unseen(['c', 'b', 'a', 'd', 'b'])).toEqual([1, 3, 4]);
      // Staged directly counts as seen too.
      await store.stage([event('d')]);
      expect(await store.unseen(['d', 'b', 'e'])).toEqual([1, 2]);
    });

    it('records a baseline silently, and stages an ID listed twice on one page once', async () => {
      expect(await store.recordPage([event('a')], [false])).toBe(0);
      expect(await store.recordPage([event('a'), event('b'), event('b')], [true, true, true])).toBe(1);
      expect((await store.staged()).map((e) => e.eventId)).toEqual(['b']);
      expect(await store.stats()).toMatchObject({ seen: 2, staged: 1 });
    });

    it('stages events directly, once, marking them seen', async () => {
      await store.stage([event('x'), event('y')]);
      await store.stage([event('x')]);
      expect((await store.staged()).map((e) => e.eventId)).toEqual(['x', 'y']);
      expect(await store.recordPage([event('x'), event('y')], all(2))).toBe(0);
      expect(await store.stats()).toMatchObject({ seen: 2, staged: 2 });
    });

    it('returns staged events oldest first by date, then by ID, exactly as recorded', async () => {
      const odd: HaloEvent = { ...event('z'), target: null, url: '' };
      await store.recordPage(
        [event('b', '2024-05-02 09:00'), event('c', '2024-05-01 10:00'), event('a', '2024-05-01 10:00'), odd],
        all(4),
      );
      expect(await store.staged()).toEqual([
        event('a', '2024-05-01 10:00'),
        event('c', '2024-05-01 10:00'),
        odd,
        event('b', '2024-05-02 09:00'),
      ]);
    });
  });

  describe('routing to the outbox', () => {
    it('adds outbox rows and unstages their events in one step', async () => {
      await store.recordPage([event('a'), event('b'), event('c')], all(3));
      await store.route([alert('C1', 'a'), alert('C2', 'a'), alert('C1', 'b')], ['a', 'b'], 1000);
      expect((await store.staged()).map((e) => e.eventId)).toEqual(['c']);
      expect(await store.stats()).toEqual({ seen: 3, staged: 1, pending: 3, failed: 0, delivered: 0 });
      expect(await store.pendingCount()).toBe(3);
    });

    it('routes all or nothing: a bad row leaves the outbox and the staged events as they were', async () => {
      await store.recordPage([event('a'), event('b')], all(2));
      // A null payload makes the second insert throw (NOT NULL), after the first has been written.
      const bad = { ...alert('C2', 'b'), payload: null } as unknown as NewOutboxItem;
      // `then` so that a synchronous throw and a rejection are both caught.
      await expect(
        Promise.resolve().then(() => store.route([alert('C1', 'a'), bad], ['a', 'b'], 1000)),
      ).rejects.toThrow(/NOT NULL|null value/i);
      expect(await store.stats()).toEqual({ seen: 2, staged: 2, pending: 0, failed: 0, delivered: 0 });
    });

    it('ignores a row whose dedup key is already in the outbox', async () => {
      await store.route([alert('C1', 'a')], [], 1000);
      await store.route([alert('C1', 'a'), { ...alert('C1', 'a'), payload: '{"changed":true}' }], [], 2000);
      expect(await store.stats()).toMatchObject({ pending: 1 });
      expect(await store.nextDue('C1', 2000)).toMatchObject({ payload: JSON.stringify(event('a')) });
    });

    it('lists due channels and gives each channel its rows in order, when due', async () => {
      await store.route([alert('C2', 'a'), alert('C1', 'b'), alert('C2', 'c')], [], 1000);
      await store.route([alert('C3', 'd')], [], 5000);
      expect(await store.dueChannels(999)).toEqual([]);
      expect((await store.dueChannels(1000)).sort()).toEqual(['C1', 'C2']);
      expect((await store.dueChannels(5000)).sort()).toEqual(['C1', 'C2', 'C3']);
      expect(await store.nextDue('C3', 4999)).toBeNull();
      expect(await store.nextDue('C2', 1000)).toEqual({
        id: 1,
        channel: 'C2',
        kind: 'alert',
        payload: JSON.stringify(event('a')),
        dedupKey: 'C2:event:a',
        attempts: 0,
        sentAt: null,
        createdAt: 1000,
      });
      await store.markDelivered(1, 1100);
      expect(await store.nextDue('C2', 1100)).toMatchObject({ id: 3, dedupKey: 'C2:event:c' });
      await store.markDelivered(3, 1200);
      expect(await store.nextDue('C2', 1200)).toBeNull();
      expect((await store.dueChannels(5000)).sort()).toEqual(['C1', 'C3']);
      expect(await store.stats()).toMatchObject({ pending: 2, delivered: 2 });
      expect(await store.pendingCount()).toBe(2);
    });

    it('keeps a row for retry: counted, postponed, with its error', async () => {
      await store.route([alert('C1', 'a')], [], 1000);
      await store.markRetry(1, 3000, 'http_503');
      expect(await store.nextDue('C1', 2999)).toBeNull();
      expect(await store.dueChannels(2999)).toEqual([]);
      expect(await store.nextDue('C1', 3000)).toMatchObject({ id: 1, attempts: 1 });
      await store.markRetry(1, 4000, 'http_503');
      expect(await store.nextDue('C1', 4000)).toMatchObject({ attempts: 2 });
      expect(await store.stats()).toMatchObject({ pending: 1, failed: 0 });
    });

    it('remembers when a post began, across a retry, so that the retry can look for it first', async () => {
      await store.route([alert('C1', 'a'), alert('C1', 'b')], [], 1000);
      expect(await store.nextDue('C1', 1000)).toMatchObject({ id: 1, sentAt: null });
      await store.markSending(1, 1500);
      expect(await store.nextDue('C1', 1500)).toMatchObject({ id: 1, sentAt: 1500, attempts: 0 });
      await store.markRetry(1, 3000, 'request_error: ETIMEDOUT');
      expect(await store.nextDue('C1', 3000)).toMatchObject({ id: 1, sentAt: 1500, attempts: 1 });
      await store.markSending(1, 3100);
      expect(await store.nextDue('C1', 3100)).toMatchObject({ id: 1, sentAt: 3100 });
      await store.markDelivered(1, 3200);
      expect(await store.nextDue('C1', 3200)).toMatchObject({ id: 2, sentAt: null });
      // Kept across a close and reopen: a kill -9 mid-post leaves the row uncertain.
      await store.markSending(2, 3300);
      await store.close();
      store = await harness.reopen();
      expect(await store.nextDue('C1', 3300)).toMatchObject({ id: 2, sentAt: 3300 });
    });

    it('records failures, newest first, and fails every pending row of a channel at once', async () => {
      await store.route([alert('C1', 'a'), alert('C1', 'b'), alert('C1', 'c'), alert('C2', 'd')], [], 1000);
      await store.markDelivered(1, 1500);
      await store.markRetry(2, 9000, 'http_503');
      await store.markFailed(4, 'msg_too_long', 2000);
      expect(await store.failChannel('C1', 'is_archived', 3000)).toBe(2);
      expect(await store.failChannel('C1', 'is_archived', 3000)).toBe(0);
      expect(await store.dueChannels(10_000)).toEqual([]);
      expect(await store.stats()).toMatchObject({ pending: 0, failed: 3, delivered: 1 });
      expect(await store.recentFailures(10)).toEqual([
        { channel: 'C1', kind: 'alert', error: 'is_archived', at: 3000 },
        { channel: 'C1', kind: 'alert', error: 'is_archived', at: 3000 },
        { channel: 'C2', kind: 'alert', error: 'msg_too_long', at: 2000 },
      ]);
      expect(await store.recentFailures(1)).toHaveLength(1);
    });

    it('replaces never-attempted alerts by one digest in their place, all or nothing', async () => {
      await store.route(
        [alert('C1', 'a'), alert('C1', 'b'), alert('C1', 'c'), alert('C1', 'd'), alert('C2', 'e')],
        [],
        1000,
      );
      await store.markSending(1, 1100);
      await store.markRetry(1, 1200, 'http_503');
      // a was attempted (it may have reached Slack), e is another channel's.
      expect((await store.unattemptedAlerts('C1')).map((row) => row.dedupKey)).toEqual([
        'C1:event:b',
        'C1:event:c',
        'C1:event:d',
      ]);
      const digest: NewOutboxItem = {
        channel: 'C1',
        kind: 'digest',
        payload: '{}',
        dedupKey: 'C1:backlog:b:3',
      };
      // A row no longer unattempted (claimed meanwhile): nothing changes.
      await store.markSending(4, 1300);
      expect(await store.replaceWithDigest([2, 3, 4], digest, 1400)).toBe(false);
      expect(await store.stats()).toMatchObject({ pending: 5 });
      expect(await store.replaceWithDigest([2, 3], { ...digest, dedupKey: 'C1:backlog:b:2' }, 1400)).toBe(
        true,
      );
      expect(await store.unattemptedAlerts('C1')).toEqual([]);
      expect(await store.stats()).toMatchObject({ pending: 4 });
      // The channel's order: a (being retried), d, then the digest.
      const order: string[] = [];
      for (let row = await store.nextDue('C1', 2000); row !== null; row = await store.nextDue('C1', 2000)) {
        order.push(`${row.kind} ${row.dedupKey}`);
        await store.markDelivered(row.id, 2000);
      }
      expect(order).toEqual(['alert C1:event:a', 'alert C1:event:d', 'digest C1:backlog:b:2']);
    });

    it('prunes delivered rows older than the cut-off, and nothing else', async () => {
      await store.route([alert('C1', 'a'), alert('C1', 'b'), alert('C1', 'c'), alert('C1', 'd')], [], 0);
      await store.markDelivered(1, 100);
      await store.markDelivered(2, 300);
      await store.markFailed(3, 'no_text', 100);
      await store.prune(200);
      expect(await store.stats()).toMatchObject({ delivered: 1, failed: 1, pending: 1 });
      expect(await store.pendingCount()).toBe(1);
    });
  });

  describe('state', () => {
    it('keeps key/value state', async () => {
      expect(await store.getState('last_plan')).toBeNull();
      await store.setState({ last_plan: '[{}]', scan_totals: '{"all":5}' });
      await store.setState({ last_plan: '[]' });
      expect(await store.getState('last_plan')).toBe('[]');
      expect(await store.getState('scan_totals')).toBe('{"all":5}');
    });
  });

  describe('subscriptions', () => {
    const sub = (channel: string, keys: string[], targetIds: number[] = []) => ({
      channel,
      keys,
      targetIds,
      createdBy: 'U0123ABCD',
      createdAt: 1000,
    });

    it('adds a subscription, and returns the existing one for the same filters in any order', async () => {
      expect(await store.addSubscription(sub('C1', ['b', 'a'], [10, 9]))).toEqual({
        subscription: {
          id: 1,
          channel: 'C1',
          keys: ['a', 'b'],
          targetIds: [9, 10],
          minSeverity: null,
          createdBy: 'U0123ABCD',
          createdAt: 1000,
        },
        created: true,
      });
      const again = await store.addSubscription({
        ...sub('C1', ['a', 'b'], [9, 10]),
        createdBy: 'U999',
        createdAt: 5,
      });
      expect(again).toEqual({
        subscription: {
          id: 1,
          channel: 'C1',
          keys: ['a', 'b'],
          targetIds: [9, 10],
          minSeverity: null,
          createdBy: 'U0123ABCD',
          createdAt: 1000,
        },
        created: false,
      });
      expect(await store.addSubscription(sub('C2', ['a', 'b'], [9, 10]))).toMatchObject({
        subscription: { id: 2 },
        created: true,
      });
      expect(await store.addSubscription(sub('C1', []))).toMatchObject({
        subscription: { id: 3 },
        created: true,
      });
    });

    it('keeps a minimum severity, and tells subscriptions apart by it', async () => {
      const high = await store.addSubscription({ ...sub('C1', ['a']), minSeverity: 'high' });
      expect(high).toMatchObject({ subscription: { id: 1, minSeverity: 'high' }, created: true });
      expect(await store.addSubscription({ ...sub('C1', ['a']), minSeverity: 'high' })).toMatchObject({
        subscription: { id: 1 },
        created: false,
      });
      expect(await store.addSubscription(sub('C1', ['a']))).toMatchObject({
        subscription: { id: 2, minSeverity: null },
        created: true,
      });
      expect((await store.subscriptions('C1')).map((s) => s.minSeverity)).toEqual(['high', null]);
    });

    it('lists, removes one (only in its channel) and removes all of a channel', async () => {
      await store.addSubscription(sub('C1', ['a']));
      await store.addSubscription(sub('C2', ['a']));
      await store.addSubscription(sub('C1', [], [42]));
      expect((await store.subscriptions()).map((s) => [s.id, s.channel])).toEqual([
        [1, 'C1'],
        [2, 'C2'],
        [3, 'C1'],
      ]);
      expect((await store.subscriptions('C1')).map((s) => s.id)).toEqual([1, 3]);
      expect(await store.subscriptions('C9')).toEqual([]);
      expect(await store.removeSubscription('C2', 1)).toBe(false);
      expect(await store.removeSubscription('C1', 1)).toBe(true);
      expect(await store.removeSubscription('C1', 1)).toBe(false);
      expect(await store.removeAllSubscriptions('C1')).toBe(1);
      expect(await store.removeAllSubscriptions('C1')).toBe(0);
      expect((await store.subscriptions()).map((s) => s.id)).toEqual([2]);
    });
  });

  describe('scan threads', () => {
    const thread = {
      channel: 'C1',
      targetId: 42,
      parentTs: '1.000100',
      parent: '{"eventId":"s1"}',
      openedAt: 1000,
    };

    it('opens, counts replies by key, and closes a thread, returning it with its counts', async () => {
      expect(await store.thread('C1', 42)).toBeNull();
      await store.openThread(thread);
      expect(await store.thread('C1', 42)).toEqual({ ...thread, counts: {} });
      await store.countReply('C1', 42, 'issue-new', 1);
      await store.countReply('C1', 42, 'issue-new', 2);
      await store.countReply('C1', 42, 'port-open', 1);
      // Another channel's thread for the same target is another thread.
      await store.countReply('C2', 42, 'issue-new', 1);
      expect(await store.openThreads()).toEqual([{ ...thread, counts: { 'issue-new': 3, 'port-open': 1 } }]);
      expect(await store.closeThread('C1', 42)).toEqual({
        ...thread,
        counts: { 'issue-new': 3, 'port-open': 1 },
      });
      expect(await store.thread('C1', 42)).toBeNull();
      expect(await store.closeThread('C1', 42)).toBeNull();
    });

    it('replaces a thread left open by a new scan of the same target, counts reset', async () => {
      await store.openThread(thread);
      await store.countReply('C1', 42, 'issue-new', 1);
      await store.openThread({ ...thread, parentTs: '2.000200', openedAt: 2000 });
      expect(await store.thread('C1', 42)).toEqual({
        ...thread,
        parentTs: '2.000200',
        openedAt: 2000,
        counts: {},
      });
    });

    it('counts keys holding quotes, dots and dollars as they are', async () => {
      await store.openThread(thread);
      await store.countReply('C1', 42, 'a."b$c', 2);
      expect((await store.thread('C1', 42))?.counts).toEqual({ 'a."b$c': 2 });
    });
  });

  describe('deletions', () => {
    it('records who deleted an event, the latest record winning', async () => {
      expect(await store.deletion('ev-1')).toBeNull();
      await store.recordDeletion({ eventId: 'ev-1', userId: 'U1', at: 1000, alreadyDeleted: false });
      expect(await store.deletion('ev-1')).toEqual({
        eventId: 'ev-1',
        userId: 'U1',
        at: 1000,
        alreadyDeleted: false,
      });
      await store.recordDeletion({ eventId: 'ev-1', userId: 'U2', at: 2000, alreadyDeleted: true });
      expect(await store.deletion('ev-1')).toEqual({
        eventId: 'ev-1',
        userId: 'U2',
        at: 2000,
        alreadyDeleted: true,
      });
    });
  });

  describe('scheduled summaries', () => {
    const daily = { channel: 'C1', cadence: 'daily', weekday: null, minute: 540 } as const;
    const summary = (slot: number): NewOutboxItem => ({
      channel: 'C1',
      kind: 'summary',
      payload: '{}',
      dedupKey: `C1:summary:${slot}`,
    });

    it('keeps one setting a channel, replaced by the next, starting from its creation', async () => {
      await store.setSummary({ ...daily, createdBy: 'U1', createdAt: 1000 });
      await store.setSummary({ ...daily, cadence: 'weekly', weekday: 1, createdBy: 'U2', createdAt: 2000 });
      await store.setSummary({ ...daily, channel: 'C2', createdBy: 'U1', createdAt: 3000 });
      expect(await store.summaries('C1')).toEqual([
        {
          ...daily,
          cadence: 'weekly',
          weekday: 1,
          createdBy: 'U2',
          createdAt: 2000,
          lastSlot: 2000,
          held: {},
        },
      ]);
      expect((await store.summaries()).map((s) => s.channel)).toEqual(['C1', 'C2']);
      expect(await store.removeSummary('C1')).toBe(true);
      expect(await store.removeSummary('C1')).toBe(false);
      expect((await store.summaries()).map((s) => s.channel)).toEqual(['C2']);
    });

    it('queues a slot’s summary once and records the slot, which only moves forward', async () => {
      await store.setSummary({ ...daily, createdBy: 'U1', createdAt: 1000 });
      await store.routeSummary(summary(5000), 5000, { '1': 4 }, 5100);
      await store.routeSummary(summary(5000), 5000, { '1': 5 }, 5200);
      expect(await store.summaries('C1')).toMatchObject([{ lastSlot: 5000, held: { '1': 4 } }]);
      // An older slot (a replaced leader's, late) neither moves the record back nor queues a summary.
      await store.routeSummary(summary(4000), 4000, { '1': 1 }, 5300);
      expect(await store.summaries('C1')).toMatchObject([{ lastSlot: 5000, held: { '1': 4 } }]);
      expect(await store.pendingCount()).toBe(1);
    });

    it('keeps a schedule set again unchanged in place, and queues nothing once it is off', async () => {
      await store.setSummary({ ...daily, createdBy: 'U1', createdAt: 1000 });
      await store.routeSummary(summary(5000), 5000, { '1': 4 }, 5100);
      // The same schedule again (a repeat just after its hour) keeps its last slot: nothing is skipped.
      await store.setSummary({ ...daily, createdBy: 'U2', createdAt: 6000 });
      expect(await store.summaries('C1')).toMatchObject([{ lastSlot: 5000, held: { '1': 4 } }]);
      // `off` while a sweep is building the next one: that sweep queues nothing.
      expect(await store.removeSummary('C1')).toBe(true);
      await store.routeSummary(summary(9000), 9000, {}, 9100);
      expect(await store.pendingCount()).toBe(1);
    });

    it('reads the rows delivered to a channel in a period, and what its mutes held then', async () => {
      await store.route([alert('C1', 'a'), alert('C1', 'b'), alert('C1', 'c'), alert('C2', 'd')], [], 100);
      const ids = new Map<string, number>();
      for (const channel of ['C1', 'C2'])
        for (
          let row = await store.nextDue(channel, 100);
          row !== null;
          row = await store.nextDue(channel, 100)
        ) {
          ids.set(row.dedupKey, row.id);
          const at = { 'C1:event:a': 500, 'C1:event:b': 1500, 'C1:event:c': 2500 }[row.dedupKey] ?? 1500;
          await store.markDelivered(row.id, at);
        }
      const muted = { channel: 'C1', key: 'k', targetId: null, targetLabel: '', createdBy: 'U1' };
      const held = await store.addMute({ ...muted, createdAt: 900, expiresAt: 5000 });
      const before = await store.addMute({ ...muted, createdAt: 100, expiresAt: 800 });
      await store.countMuted(
        new Map([
          [held.id, 3],
          [before.id, 4],
        ]),
      );
      const activity = await store.channelActivity('C1', 1000, 2500);
      expect(activity.rows).toEqual([{ kind: 'alert', payload: JSON.stringify(event('b')) }]);
      // The mute ended before the period is not one of its mutes.
      expect(activity.held).toEqual({ [String(held.id)]: 3 });
    });
  });

  describe('the database', () => {
    it('keeps everything across a close and reopen', async () => {
      await store.recordPage([event('a')], [true]);
      await store.route([alert('C1', 'a')], ['a'], 1000);
      await store.addSubscription({ channel: 'C1', keys: [], targetIds: [], createdBy: 'U1', createdAt: 1 });
      await store.setState({ last_plan: '[{}]' });
      await store.close();
      store = await harness.reopen();
      expect(await store.stats()).toEqual({ seen: 1, staged: 0, pending: 1, failed: 0, delivered: 0 });
      expect(await store.subscriptions()).toHaveLength(1);
      expect(await store.getState('last_plan')).toBe('[{}]');
      // Closing twice is harmless.
      await store.close();
      await store.close();
    });
  });
}
