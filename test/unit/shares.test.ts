/** How many accounts a replica claims or gives up at a heartbeat (src/pipeline/shares.ts). */
import { describe, expect, it } from 'vitest';
import { balance, planShare, quotas } from '../../src/pipeline/shares.ts';

const loads = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

describe('quotas', () => {
  it('add up to the accounts and differ by one at most, the extra ones to the most loaded, then by name', () => {
    expect(quotas(30, loads({ a: 0, b: 0, c: 0 }))).toEqual(loads({ a: 10, b: 10, c: 10 }));
    expect(quotas(31, loads({ a: 0, b: 0, c: 0 }))).toEqual(loads({ a: 11, b: 10, c: 10 }));
    expect(quotas(31, loads({ a: 0, b: 16, c: 15 }))).toEqual(loads({ b: 11, c: 10, a: 10 }));
    expect(quotas(30, loads({ a: 0, b: 0, c: 0, d: 0 }))).toEqual(loads({ a: 8, b: 8, c: 7, d: 7 }));
    expect(quotas(1, loads({ 'replica-a': 0, 'replica-b': 1 }))).toEqual(
      loads({ 'replica-b': 1, 'replica-a': 0 }),
    );
    expect(quotas(5, new Map())).toEqual(new Map());
  });
});

describe('planShare', () => {
  it('claims everything alone', () => {
    expect(planShare({ accounts: 30, loads: loads({ a: 0 }), self: 'a', free: 30, margin: 1 })).toEqual({
      quota: 30,
      claim: 30,
      release: 0,
    });
  });

  it('a new replica claims nothing while nothing is free; the others give it their excess', () => {
    const settled = loads({ a: 15, b: 15, c: 0 });
    expect(planShare({ accounts: 30, loads: settled, self: 'c', free: 0, margin: 1 })).toEqual({
      quota: 10,
      claim: 0,
      release: 0,
    });
    expect(planShare({ accounts: 30, loads: settled, self: 'a', free: 0, margin: 1 })).toEqual({
      quota: 10,
      claim: 0,
      release: 5,
    });
    // Once a handed over its 5: b gives up only what the free ones cannot cover.
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 15, c: 0 }), self: 'b', free: 5, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 0,
      release: 5,
    });
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 15, c: 0 }), self: 'c', free: 5, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 5,
      release: 0,
    });
    // b over its quota, but the free ones cover what c lacks: b keeps its own until c has claimed.
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 15, c: 0 }), self: 'b', free: 10, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 0,
      release: 0,
    });
  });

  it('takes a dead replica’s accounts (no longer live, so free) by the survivors’ quotas', () => {
    const after = loads({ a: 10, b: 10 });
    expect(planShare({ accounts: 30, loads: after, self: 'a', free: 10, margin: 1 })).toEqual({
      quota: 15,
      claim: 5,
      release: 0,
    });
    expect(
      planShare({ accounts: 30, loads: loads({ a: 15, b: 10 }), self: 'b', free: 5, margin: 1 }),
    ).toEqual({
      quota: 15,
      claim: 5,
      release: 0,
    });
  });

  it('takes orphans no quota covers, up to the fair share plus the margin', () => {
    // a and b saw different numbers of replicas: 2 accounts nobody's quota covers.
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 10, c: 8 }), self: 'a', free: 2, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 0,
      release: 0,
    });
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 10, c: 8 }), self: 'c', free: 2, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 2,
      release: 0,
    });
    expect(
      planShare({ accounts: 30, loads: loads({ a: 10, b: 10, c: 10 }), self: 'a', free: 3, margin: 1 }),
    ).toEqual({
      quota: 10,
      claim: 1,
      release: 0,
    });
  });

  it('moves nothing once settled, nor where moving would not even the loads', () => {
    expect(
      planShare({ accounts: 31, loads: loads({ a: 10, b: 11, c: 10 }), self: 'b', free: 0, margin: 1 }),
    ).toEqual({
      quota: 11,
      claim: 0,
      release: 0,
    });
    expect(
      planShare({
        accounts: 1,
        loads: loads({ 'replica-a': 0, 'replica-b': 1 }),
        self: 'replica-b',
        free: 0,
        margin: 1,
      }),
    ).toEqual({
      quota: 1,
      claim: 0,
      release: 0,
    });
    expect(
      planShare({
        accounts: 1,
        loads: loads({ 'replica-a': 0, 'replica-b': 1 }),
        self: 'replica-a',
        free: 0,
        margin: 1,
      }),
    ).toEqual({
      quota: 0,
      claim: 0,
      release: 0,
    });
  });

  it('counts itself when the snapshot does not list it yet', () => {
    expect(planShare({ accounts: 4, loads: loads({ a: 4 }), self: 'b', free: 0, margin: 1 })).toEqual({
      quota: 2,
      claim: 0,
      release: 0,
    });
  });
});

describe('balance', () => {
  it('is the most loaded over the least', () => {
    expect(balance([10, 10, 10])).toBe(1);
    expect(balance([8, 8, 7, 7])).toBeCloseTo(8 / 7);
    expect(balance([0, 5])).toBe(Number.POSITIVE_INFINITY);
    expect(balance([])).toBe(1);
  });
});
