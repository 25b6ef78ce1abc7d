import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { createHaloClient } from '../../src/halo/client.ts';
import { PageMemo } from '../../src/halo/page-memo.ts';
import { startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';

describe('PageMemo', () => {
  it('knows a page only at the same request with the same digest', () => {
    const memo = new PageMemo();
    const counts = { total: 5, invalid: 1, returned: 3 };
    memo.remember('start=0', 'd1', counts);
    expect(memo.known('start=0', 'd1')).toEqual(counts);
    expect(memo.known('start=0', 'd2')).toBeUndefined();
    expect(memo.known('start=3', 'd1')).toBeUndefined();
    memo.remember('start=0', 'd2', counts);
    expect(memo.known('start=0', 'd1')).toBeUndefined();
    memo.forget('start=0');
    expect(memo.known('start=0', 'd2')).toBeUndefined();
  });

  it('forgets the oldest request past its bound', () => {
    const memo = new PageMemo(2);
    const counts = { total: null, invalid: 0, returned: 1 };
    memo.remember('a', 'x', counts);
    memo.remember('b', 'x', counts);
    memo.remember('a', 'x', counts); // used again: now the newest
    memo.remember('c', 'x', counts);
    expect([memo.size, memo.known('a', 'x'), memo.known('b', 'x')]).toEqual([2, counts, undefined]);
  });

  it('digests bytes, however chunked, so one changed byte is another page', () => {
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    const a = PageMemo.digest([bytes('{"list":[]}')]);
    // The same bytes in other chunks are the same page.
    expect(PageMemo.digest([bytes('{"li'), bytes('st":[]}')])).toBe(a);
    expect(PageMemo.digest([bytes('{"list":[ ]}')])).not.toBe(a);
  });
});

describe('listEvents with a memo', () => {
  let halo: FakeHalo;
  beforeAll(async () => {
    halo = await startFakeHalo();
  });
  afterAll(() => halo.close());
  afterEach(() => {
    halo.events.length = 0;
  });
  const client = () =>
    createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 2000, clock: systemClock });

  it('skips a page recorded before that came back the same, and reads it again once it changed', async () => {
    for (let i = 0; i < 3; i++) halo.addEvent({ event_id: `m${i}` });
    const memo = new PageMemo();
    const list = () => client().listEvents({}, { start: 0, limit: 1000, memo });

    const first = await list();
    expect(first.ids).toEqual(['m0', 'm1', 'm2']);
    // Not recorded yet: the same page is read in full again.
    expect((await list()).ids).toEqual(['m0', 'm1', 'm2']);
    first.recorded?.();
    const known = await list();
    expect([known.ids, known.events(), known.total, known.invalid, known.returned]).toEqual([
      [],
      [],
      3,
      0,
      3,
    ]);
    expect(known.recorded).toBeUndefined();

    halo.addEvent({ event_id: 'm3' });
    const changed = await list();
    expect(changed.ids).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(changed.events([3]).map((e) => e.eventId)).toEqual(['m3']);
    // Another request (here: another start) is another page.
    changed.recorded?.();
    expect((await client().listEvents({}, { start: 1, limit: 1000, memo })).ids).toEqual(['m1', 'm2', 'm3']);
  });
});
