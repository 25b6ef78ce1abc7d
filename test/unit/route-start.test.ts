import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  awaitLeaderStart,
  STANDBY_START_WAIT,
  STARTED_STATE,
  startKey,
} from '../../src/pipeline/route-start.ts';
import { openSqliteStore } from '../stores.ts';
import type { Store } from '../../src/pipeline/store-port.ts';

let store: Store;
beforeEach(() => {
  store = openSqliteStore(':memory:');
});
afterEach(() => store.close());

describe('a standby waiting for the leader to start a subscription', () => {
  const sub = { id: 7, createdAt: 1_700_000_000_000 };
  const running = new AbortController().signal;

  it('answers started as soon as the leader lists it, by ID and creation time', async () => {
    const waiting = awaitLeaderStart(store, sub, { now: () => 0 }, running, { totalMs: 10_000, everyMs: 5 });
    // Another subscription that once had ID 7 (SQLite may hand an ID out again) does not count.
    await store.setState({ [STARTED_STATE]: JSON.stringify(['7@1', '8@1700000000000']) });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await store.setState({ [STARTED_STATE]: JSON.stringify(['7@1', startKey(sub)]) });
    expect(await waiting).toBe('started');
    expect(startKey(sub)).toBe('7@1700000000000');
  });

  it('answers pending when the leader has not listed it by the deadline of the clock', async () => {
    let now = 0;
    const waiting = awaitLeaderStart(store, sub, { now: () => now }, running, {
      totalMs: 10_000,
      everyMs: 5,
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    now = 10_000;
    expect(await waiting).toBe('pending');
  });

  it('stops waiting when the replica stops, and when its clock stands still for as many turns', async () => {
    const stopping = new AbortController();
    const wait = { totalMs: 60_000, everyMs: 1000 };
    const waiting = awaitLeaderStart(store, sub, { now: () => 0 }, stopping.signal, wait);
    await new Promise((resolve) => setTimeout(resolve, 30));
    stopping.abort();
    expect(await waiting).toBe('pending');
    const still = { now: () => 0 };
    expect(await awaitLeaderStart(store, sub, still, running, { totalMs: 20, everyMs: 5 })).toBe('pending');
  });

  it('waits up to 10 s in production, looking every 100 ms (README)', () => {
    expect(STANDBY_START_WAIT).toEqual({ totalMs: 10_000, everyMs: 100 });
  });
});
