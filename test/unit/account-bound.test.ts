import { describe, expect, it } from 'vitest';
import { AccountBound, AccountBounds, HaloBound, inPollLane } from '../../src/pipeline/halo-lane.ts';

/** A request that stays in flight until released, recording the order requests started in. */
function gate(started: string[]) {
  const open: (() => void)[] = [];
  return {
    request: (name: string) => () =>
      new Promise<void>((resolve) => {
        started.push(name);
        open.push(resolve);
      }),
    releaseAll: async () => {
      while (open.length > 0) {
        for (const release of open.splice(0)) release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

describe('AccountBound: per account, inside the process’s total', () => {
  it('a large account holds at most its own bound of the total: a small account’s request starts next', async () => {
    const total = new HaloBound({ concurrency: 3 });
    const large = new AccountBound({ concurrency: 2 }, total);
    const small = new AccountBound({ concurrency: 2 }, total);
    const started: string[] = [];
    const { request, releaseAll } = gate(started);
    const done = [
      ...Array.from({ length: 50 }, (_, i) => inPollLane(() => large.add(request(`large-${i}`)))),
      inPollLane(() => small.add(request('small-0'))),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    // Fifty of the large account's pages queued first: it still has two in flight, and the small one the third.
    expect(started).toEqual(['large-0', 'large-1', 'small-0']);
    expect({ large: large.pending, small: small.pending, total: total.pending }).toEqual({
      large: 2,
      small: 1,
      total: 3,
    });
    await releaseAll();
    await Promise.all(done);
    expect(started).toHaveLength(51);
  });

  it('keeps polls ahead of commands within the account', async () => {
    const total = new HaloBound({ concurrency: 1 });
    const account = new AccountBound({ concurrency: 1 }, total);
    const started: string[] = [];
    const { request, releaseAll } = gate(started);
    const done = [
      account.add(request('first')),
      account.add(request('command')),
      inPollLane(() => account.add(request('poll'))),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    await releaseAll();
    await Promise.all(done);
    expect(started).toEqual(['first', 'poll', 'command']);
  });
});

describe('AccountBounds: one bound per account in the process', () => {
  it('gives an account’s polls and commands the same bound, another account its own, a new one after forget', () => {
    const bounds = new AccountBounds(2, new HaloBound({ concurrency: 8 }));
    const lab = bounds.of({ workspace: 'TA', account: 'lab' });
    expect(bounds.of({ workspace: 'TA', account: 'lab' })).toBe(lab);
    expect(lab.concurrency).toBe(2);
    expect(bounds.of({ workspace: 'TB', account: 'lab' })).not.toBe(lab);
    bounds.forget({ workspace: 'TA', account: 'lab' });
    expect(bounds.of({ workspace: 'TA', account: 'lab' })).not.toBe(lab);
  });
});
