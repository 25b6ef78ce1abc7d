import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import { HISTORY, HOSTS, seedHistory, startSimulator, storyRound } from '../../demo/simulator.ts';

const keys = (round: number): string[][] => storyRound(round).map((step) => step.map((e) => e.key));

describe('demo: the simulated Halo account', () => {
  it('scans one host a round: start, findings, complete; then an account change', () => {
    expect(keys(0)).toEqual([
      ['target-scan-start'],
      ['issue-new'],
      ['port-open'],
      ['target-scan-complete'],
      ['account-apikey-add'],
    ]);
    expect(keys(1)).toEqual([
      ['target-scan-start'],
      ['issue-new'],
      ['website-cert-risk'],
      ['target-scan-complete'],
      ['account-user-add'],
    ]);
    expect(storyRound(0)[0]![0]!.target).toEqual(HOSTS[0]);
    expect(storyRound(1)[0]![0]!.target).toEqual(HOSTS[1]);
    // Account events carry Halo's empty target, ID 0.
    expect(storyRound(0)[4]![0]!.target).toEqual({ target_name: '', target_id: 0, target: '' });
  });

  it('every third round ends with a burst of seven certificate warnings on seven targets, at once', () => {
    const burst = storyRound(2).at(-1)!;
    expect(burst.map((e) => e.key)).toEqual(Array<string>(7).fill('website-cert-expire'));
    expect(new Set(burst.map((e) => e.target.target_id)).size).toBe(7);
    expect(storyRound(3)).toHaveLength(5);
  });

  it('checks its pace', () => {
    expect(() => startSimulator({} as FakeHalo, { stepMs: 0 })).toThrow(
      'Expected `stepMs` to be a finite number >= 1, got 0',
    );
  });

  describe('against the fake Event API', () => {
    let halo: FakeHalo;
    beforeAll(async () => {
      halo = await startFakeHalo();
    });
    afterAll(() => halo.close());

    it('seeds the history in the past, then adds one step at once and one per stepMs until stopped', async () => {
      const now = Date.UTC(2024, 5, 1, 12, 0);
      seedHistory(halo, now);
      expect(halo.events.map((e) => [e.key, e.date_created])).toEqual(
        HISTORY.map((h) => [
          h.key,
          new Date(now - h.hoursAgo * 3_600_000).toISOString().slice(0, 16).replace('T', ' '),
        ]),
      );
      const simulator = startSimulator(halo, { stepMs: 30, now: () => now });
      expect(halo.events.at(-1)).toMatchObject({
        key: 'target-scan-start',
        date_created: '2024-06-01 12:00',
        target: HOSTS[0],
      });
      await expect.poll(() => simulator.steps, { timeout: 2000 }).toBeGreaterThanOrEqual(5);
      simulator.stop();
      const count = halo.events.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(halo.events.length).toBe(count);
      expect(halo.events.slice(HISTORY.length, HISTORY.length + 5).map((e) => e.key)).toEqual(keys(0).flat());
    });
  });
});
