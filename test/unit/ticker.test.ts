import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ticker } from '../../src/pipeline/ticker.ts';

describe('Ticker: many waits and repeats on one timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends each sleep at its time and every repeat at each interval, holding one timer', async () => {
    const ticker = new Ticker(() => Date.now());
    const seen: string[] = [];
    void ticker.sleep(300).then(() => seen.push('sleep 300'));
    void ticker.sleep(100).then(() => seen.push('sleep 100'));
    const stop = ticker.every(200, () => seen.push('every 200'));
    expect(ticker.size).toBe(3);
    expect(vi.getTimerCount()).toBe(1);

    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual(['sleep 100']);
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual(['sleep 100', 'every 200']);
    await vi.advanceTimersByTimeAsync(200);
    expect(seen).toEqual(['sleep 100', 'every 200', 'sleep 300', 'every 200']);
    expect(ticker.size).toBe(1);
    expect(vi.getTimerCount()).toBe(1);

    stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(4);
    expect(ticker.size).toBe(0);
  });

  it('ends a sleep at once when its signal aborts, and forgets it', async () => {
    const ticker = new Ticker(() => Date.now());
    const stopping = new AbortController();
    let ended = false;
    const slept = ticker.sleep(60_000, stopping.signal).then(() => (ended = true));
    expect(ticker.size).toBe(1);
    stopping.abort();
    await slept;
    expect(ended).toBe(true);
    expect(ticker.size).toBe(0);
  });

  it('a thousand accounts waiting hold one timer', () => {
    const ticker = new Ticker(() => Date.now());
    for (let i = 0; i < 1000; i++) {
      void ticker.sleep(1000 + i);
      ticker.every(250, () => undefined);
    }
    expect(ticker.size).toBe(2000);
    expect(vi.getTimerCount()).toBe(1);
  });
});
