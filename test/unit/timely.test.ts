import { describe, expect, it } from 'vitest';
import { timely } from '../../src/clock.ts';

describe('timely: a read within its wait, or why not', () => {
  it('gives the value of a read that answers in time', async () => {
    expect(await timely(Promise.resolve(['a']), 1000)).toEqual({ ok: true, value: ['a'] });
  });

  it('says a read failed, with its error', async () => {
    const error = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    expect(await timely(Promise.reject(error), 1000)).toEqual({ ok: false, late: false, error });
  });

  it('says a read is late, and lets it go on', async () => {
    let finish: (value: string) => void = () => undefined;
    const read = new Promise<string>((resolve) => (finish = resolve));
    expect(await timely(read, 20)).toEqual({ ok: false, late: true });
    finish('later');
    expect(await read).toBe('later');
  });
});
