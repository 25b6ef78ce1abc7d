import { describe, expect, it } from 'vitest';
import { cachedRead } from '../../src/metrics.ts';

describe('cachedRead', () => {
  it('turns a read that throws at once (SQLite is synchronous) into a failed value, not a thrown scrape', async () => {
    let now = 0;
    let calls = 0;
    const read = cachedRead<number>(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('database closed');
        return Promise.resolve(7);
      },
      5000,
      { now: () => now },
    );
    const first = read();
    await expect(first).rejects.toThrow('database closed');
    await expect(read()).rejects.toThrow('database closed');
    now = 5000;
    await expect(read()).resolves.toBe(7);
    expect(calls).toBe(2);
  });
});
