/**
 * The summary scheduler on a real SQLite store, driven by an injected clock: one summary per slot whoever sweeps
 * and however often, a restart straddling the hour sending the missed one late (never twice, never none), and
 * what a summary says of the period's rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { summarizeActivity, SummaryScheduler, type SummaryPayload } from '../../src/pipeline/summaries.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';
import { renderSummary } from '../../src/slack/blocks/summary-message.ts';
import { openPostgresStore, openSqliteStore, setLeaseToken } from '../stores.ts';
import { alert, event } from '../contract/store.contract.ts';
import { describePg, freshSchema } from '../postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'halo-summaries-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const at = (iso: string): number => Date.parse(iso);
const log = createLogger({ level: 'error', secrets: [], write: () => {} });

let path: string;
let store: Store;
let now: number;
const clock = { now: () => now };

function scheduler(): SummaryScheduler {
  return new SummaryScheduler({ store, clock, log, timeZone: 'UTC', intervalMs: 60_000, onRouted: () => {} });
}

async function summaries(): Promise<SummaryPayload[]> {
  const out: SummaryPayload[] = [];
  for (let row = await store.nextDue('C1', now); row !== null; row = await store.nextDue('C1', now)) {
    if (row.kind === 'summary') out.push(JSON.parse(row.payload) as SummaryPayload);
    await store.markDelivered(row.id, now);
  }
  return out;
}

beforeEach(async () => {
  path = join(dir, `s-${++n}`, 'halo.db');
  store = openSqliteStore(path);
  now = at('2026-03-10T08:00:00Z');
  await store.setSummary({
    channel: 'C1',
    cadence: 'daily',
    weekday: null,
    minute: 9 * 60,
    createdBy: 'U1',
    createdAt: now,
  });
});
afterEach(() => store.close());

describe('the summary scheduler', () => {
  it('queues a summary at its hour, once however many sweeps run', async () => {
    const live = scheduler();
    await live.sweep();
    expect(await summaries()).toEqual([]);
    now = at('2026-03-10T09:00:30Z');
    await live.sweep();
    await live.sweep();
    await scheduler().sweep();
    const sent = await summaries();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ schedule: 'daily 09:00', late: false, to: at('2026-03-10T09:00:00Z') });
    expect(sent[0]?.from).toBe(at('2026-03-09T09:00:00Z'));
  });

  it('sends the summary missed across a restart straddling the hour, late, and only once', async () => {
    now = at('2026-03-10T08:59:00Z');
    const before = scheduler();
    await before.sweep();
    await before.stop();
    await store.close();
    // Down from 08:59 to 09:20; a new process on the same database.
    now = at('2026-03-10T09:20:00Z');
    store = openSqliteStore(path);
    await scheduler().sweep();
    const sent = await summaries();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ late: true, to: at('2026-03-10T09:00:00Z') });
    // Restarting again, or a second replica sweeping, sends nothing more.
    await store.close();
    store = openSqliteStore(path);
    await scheduler().sweep();
    await scheduler().sweep();
    expect(await summaries()).toEqual([]);
    // The next day's comes at its time, on time.
    now = at('2026-03-11T09:00:10Z');
    await scheduler().sweep();
    expect(await summaries()).toMatchObject([{ late: false, from: at('2026-03-10T09:00:00Z') }]);
  });

  it('owes one summary per period missed while down', async () => {
    now = at('2026-03-12T10:00:00Z');
    await scheduler().sweep();
    const sent = await summaries();
    expect(sent.map((s) => [s.to, s.late])).toEqual([
      [at('2026-03-10T09:00:00Z'), true],
      [at('2026-03-11T09:00:00Z'), true],
      [at('2026-03-12T09:00:00Z'), true],
    ]);
  });

  it('says what the channel was told in the period, and what is still open', async () => {
    const issue = { ...event('i1', '2026-03-10 08:00', 'issue-new'), subject: 'New Issue' };
    const port = { ...event('p1', '2026-03-10 08:00', 'port-open'), subject: 'New Open Port' };
    const scan = event('s1', '2026-03-10 08:00', 'target-scan-complete');
    now = at('2026-03-09T12:00:00Z');
    await store.route(
      [issue, port, scan].map((e) => ({ ...alert('C1', e.eventId), payload: JSON.stringify(e) })),
      [],
      now,
    );
    for (let row = await store.nextDue('C1', now); row !== null; row = await store.nextDue('C1', now)) {
      await store.markDelivered(row.id, now);
      const posted = JSON.parse(row.payload) as typeof issue;
      await store.recordMessage(
        {
          channel: 'C1',
          ts: `1.${row.id}`,
          eventId: posted.eventId,
          payload: row.payload,
          key: posted.key,
          targetId: 1,
        },
        now,
      );
    }
    await store.acknowledge({ channel: 'C1', messageTs: '1.2', eventId: 'p1', userId: 'U1', at: now });
    now = at('2026-03-10T09:00:00Z');
    await scheduler().sweep();
    const [summary] = await summaries();
    expect(summary).toMatchObject({
      alerts: 3,
      bySeverity: [
        { severity: 'high', count: 2 },
        { severity: 'info', count: 1 },
      ],
      findingsTotal: 2,
      scans: 1,
      unacknowledgedTotal: 2,
    });
    expect(summary?.findings.map((f) => [f.subject, f.target, f.url])).toEqual([
      ['New Issue', 'www.example.com', issue.url],
      ['New Open Port', 'www.example.com', port.url],
    ]);
    expect(summary?.unacknowledged.map((f) => f.eventId)).toEqual(['i1', 's1']);
    const text = JSON.stringify(renderSummary(summary!).blocks);
    expect(text).toContain(`<${issue.url.replace('&', '&amp;')}|New Issue on www.example.com>`);
    expect(text).toContain('Still unacknowledged (2)');
  });

  it('counts the events muted in each period, not a mute’s whole count again', async () => {
    const mute = await store.addMute({
      ...{ channel: 'C1', key: 'port-open', targetId: null, targetLabel: '', createdBy: 'U1' },
      ...{ createdAt: at('2026-03-10T08:30:00Z'), expiresAt: at('2026-03-20T00:00:00Z') },
    });
    await store.countMuted(new Map([[mute.id, 2]]));
    now = at('2026-03-10T09:00:10Z');
    await scheduler().sweep();
    await store.countMuted(new Map([[mute.id, 3]]));
    now = at('2026-03-11T09:00:10Z');
    await scheduler().sweep();
    expect((await summaries()).map((s) => s.muted)).toEqual([2, 3]);
  });

  it('stays within Slack’s limits however long the names, counting what does not fit', () => {
    const long = (i: number) => ({
      eventId: `e${i}`,
      key: 'issue-new',
      subject: '&'.repeat(400),
      target: '<b>'.repeat(100),
      url: `https://www.halosecurity.com/link?q=user-event&id=${'9'.repeat(1500)}${i}`,
    });
    const entries = Array.from({ length: 10 }, (_, i) => long(i));
    const counts = summarizeActivity({ rows: [], held: {} }, () => false);
    const message = renderSummary({
      ...counts,
      ...{ schedule: 'daily 09:00', timeZone: 'UTC', from: 0, to: 86_400_000, late: true, alerts: 30 },
      ...{ findings: entries, findingsTotal: 30, unacknowledged: entries, unacknowledgedTotal: 12 },
    });
    expect(checkLimits(message)).toEqual([]);
    const shown = JSON.stringify(message.blocks);
    expect(shown).toMatch(/…and 2\d more/);
    expect(shown).toContain('(late: the bot was not running at its time)');
  });

  it('keeps one channel’s trouble to that channel: an unreadable row is left out, a failing read waits its turn', async () => {
    await store.setSummary({
      channel: 'C2',
      cadence: 'daily',
      weekday: null,
      minute: 9 * 60,
      createdBy: 'U1',
      createdAt: now,
    });
    // A row whose payload is not the JSON the bot wrote, delivered to C1 in the period.
    await store.route([{ channel: 'C1', kind: 'digest', payload: '{not json', dedupKey: 'C1:bad' }], [], now);
    const bad = await store.nextDue('C1', now);
    await store.markDelivered(bad!.id, now);
    // C2's activity cannot be read this sweep.
    const failing = new Proxy(store, {
      get(target, name, receiver) {
        if (name === 'channelActivity')
          return (channel: string, from: number, to: number) =>
            channel === 'C2'
              ? Promise.reject(new Error('disk I/O error'))
              : target.channelActivity(channel, from, to);
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const sweep = (on: Store): Promise<void> =>
      new SummaryScheduler({
        store: on,
        clock,
        log,
        timeZone: 'UTC',
        intervalMs: 60_000,
        onRouted: () => {},
      }).sweep();
    now = at('2026-03-10T09:00:30Z');
    await sweep(failing);
    expect(await summaries()).toHaveLength(1);
    expect(await store.summaries('C2')).toMatchObject([{ lastSlot: at('2026-03-10T08:00:00Z') }]);
    // The next sweep, the read works again: C2's summary goes out then.
    await sweep(store);
    expect(await store.summaries('C2')).toMatchObject([{ lastSlot: at('2026-03-10T09:00:00Z') }]);
  });

  it('says an empty period in one line', () => {
    const counts = summarizeActivity({ rows: [], held: {} }, () => false);
    const message = renderSummary({
      ...counts,
      schedule: 'daily 09:00',
      timeZone: 'UTC',
      from: 0,
      to: 86_400_000,
      late: false,
    });
    expect(message.blocks).toHaveLength(1);
    expect(JSON.stringify(message.blocks)).toContain('Nothing was posted here in this period.');
  });
});

describePg('summaries across a replica hand-over (PostgreSQL)', () => {
  it('are queued once, by the new leader; the replaced one is refused', async () => {
    const { schema, url } = await freshSchema('summaries');
    const old = await openPostgresStore(url, log);
    const current = await openPostgresStore(url, log);
    const errors: string[] = [];
    const logged = createLogger({ level: 'error', secrets: [], write: (line) => errors.push(line) });
    const on = (replica: Store) =>
      new SummaryScheduler({
        store: replica,
        clock,
        log: logged,
        timeZone: 'UTC',
        intervalMs: 60_000,
        onRouted: () => {},
      });
    try {
      old.setFence(1);
      await setLeaseToken(schema, 1);
      const daily = { channel: 'C1', cadence: 'daily', weekday: null, minute: 540 } as const;
      await old.setSummary({ ...daily, createdBy: 'U1', createdAt: at('2026-03-10T08:00:00Z') });
      now = at('2026-03-10T08:59:00Z');
      await on(old).sweep();
      // The hour passes during the hand-over: the replaced leader sweeps once more, the new one after it.
      current.setFence(2);
      await setLeaseToken(schema, 2);
      now = at('2026-03-10T09:00:20Z');
      await on(old).sweep();
      expect(errors.join('\n')).toContain('This replica no longer holds this account');
      expect(await current.pendingCount()).toBe(0);
      await on(current).sweep();
      await on(current).sweep();
      await on(old).sweep();
      expect(await current.pendingCount()).toBe(1);
      const row = await current.nextDue('C1', now);
      expect(row).toMatchObject({ kind: 'summary', dedupKey: `C1:summary:${at('2026-03-10T09:00:00Z')}` });
      expect(JSON.parse(row!.payload)).toMatchObject({ late: false });
    } finally {
      await Promise.all([old.close(), current.close()]);
    }
  });
});
