import { describe, expect, it } from 'vitest';
import { millionRows, networkFloorMs } from '../../bench/million.ts';

const floor = (events: number): number => networkFloorMs(events, 1000, 20, 4);

describe('bench: the million-event rows', () => {
  it('puts the network floor at pages × latency / concurrency', () => {
    expect(floor(1_000_000)).toBe(5000);
    expect(floor(100_001)).toBe(505);
  });

  it('judges each figure against issue 13’s target', () => {
    const rows = millionRows(
      { events: 100_000, pollMs: [600], cpuMsPerPoll: 300, rssMb: 150 },
      { events: 1_000_000, pollMs: [6000, 6500], cpuMsPerPoll: 2500, rssMb: 168, acksInScan: [2, 3, 30] },
      floor,
    );
    expect(rows.map((r) => [r.figure, r.measured, r.ok])).toEqual([
      ['resident memory after polling 1,000,000 events (bot VmRSS)', '168 MB', true],
      ['RSS growth from 100,000 to 1,000,000 events', '+18 MB (150 → 168 MB)', true],
      [
        'steady poll, 1,000,000 events at 20 ms/request, concurrency 4',
        '6.00, 6.50 s: max 6.50 s = 1.30 × floor (5.0 s)',
        false,
      ],
      ['bot CPU per steady poll, per 1,000 events (1,000,000 events)', '2.50 ms (2.50 s a poll)', false],
      [
        '`/halo types` acknowledgement during 1,000,000-event scans, p99',
        '30.0 ms (p50 3.0 ms, n=3, max 30.0 ms)',
        false,
      ],
    ]);
  });

  it('shows n/a, not a verdict, for what was not measured (`--quick`)', () => {
    expect(millionRows(undefined, undefined, floor).map((r) => [r.measured, r.ok])).toEqual(
      Array.from({ length: 5 }, () => ['n/a', undefined]),
    );
  });
});
