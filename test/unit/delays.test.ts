import { describe, expect, it } from 'vitest';
import { backoffMs, PRODUCTION_DELAYS } from '../../src/delays.ts';
import { failureDelayMs } from '../../src/pipeline/poller.ts';

// The suite runs with shortened delays (test/harness.ts); these are the ones the README promises users.
describe('production delays', () => {
  it('backs off failed polls 1 s, 2 s, 4 s … at most 30 s (README: polling resumes within 30 s)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => failureDelayMs(n))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('retries a failed post after 2 s, 4 s … at most 60 s, however long Slack is down', () => {
    const { slackBackoffMs, slackBackoffCapMs } = PRODUCTION_DELAYS;
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffMs(n, slackBackoffMs, slackBackoffCapMs))).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('keeps a /halo events listing 5 minutes for its Next page buttons (README)', () => {
    expect(PRODUCTION_DELAYS.listingCacheMs).toBe(300_000);
  });

  it('stops within 10 s (README): the drain leaves room for closing under main.ts’s 9.5 s hard stop', () => {
    expect(PRODUCTION_DELAYS.drainMs).toBe(6000);
    expect(PRODUCTION_DELAYS.slackGapMs).toBe(1000);
  });
});
