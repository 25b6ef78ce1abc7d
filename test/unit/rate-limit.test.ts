import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { rateLimited, UserRateLimit } from '../../src/commands/rate-limit.ts';
import { HaloBound, inPollLane } from '../../src/pipeline/halo-lane.ts';

describe('UserRateLimit (issue 23, item 7)', () => {
  it('takes 20 commands a minute from one user, says when to try again, and counts users apart', () => {
    let now = 1_000_000;
    const limit = new UserRateLimit(20, { now: () => now });
    for (let i = 0; i < 20; i++) {
      expect(limit.take('U1')).toEqual({ ok: true });
      now += 1000;
    }
    // The first of the 20 was 20 s ago: it leaves the window in 40 s.
    expect(limit.take('U1')).toEqual({ ok: false, asked: 20, retryInSeconds: 40 });
    expect(limit.take('U2')).toEqual({ ok: true });
    now += 40_000;
    expect(limit.take('U1')).toEqual({ ok: true });
    expect(rateLimited(20, 30)).toBe(
      'You asked 20 times in a minute, the most this bot takes from one person (HALO_COMMANDS_PER_MINUTE); try again in 30 s.',
    );
  });

  it('refuses a share that is not a whole number of at least 1', () => {
    expect(() => new UserRateLimit(0, { now: () => 0 })).toThrow(
      'Expected `perMinute` to be a whole number >= 1, got 0',
    );
  });
});

describe('HaloBound: a poll’s Halo requests go first (issue 23, item 7)', () => {
  it('runs a request added in the poll lane before the commands’ requests already waiting', async () => {
    const order: string[] = [];
    const bound = new HaloBound({ concurrency: 1 });
    let release!: () => void;
    const busy = bound.add(() => new Promise<void>((resolve) => (release = resolve)));
    const commands = Array.from({ length: 5 }, (_, i) =>
      bound.add(() => {
        order.push(`command ${i}`);
        return Promise.resolve();
      }),
    );
    const poll = inPollLane(() =>
      bound.add(() => {
        order.push('poll');
        return Promise.resolve();
      }),
    );
    release();
    await Promise.all([busy, poll, ...commands]);
    expect(order).toEqual(['poll', 'command 0', 'command 1', 'command 2', 'command 3', 'command 4']);
  });

  it('is the plain first-in, first-out queue outside a poll', async () => {
    const order: number[] = [];
    const bound: PQueue = new HaloBound({ concurrency: 1 });
    await Promise.all(
      [0, 1, 2].map((i) =>
        bound.add(() => {
          order.push(i);
          return Promise.resolve();
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2]);
  });
});
