import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { LARGE_POLL_EVENTS, memoryAfterPolls, MS_BETWEEN_COLLECTIONS } from '../../src/runtime-memory.ts';

const MB = 1024 * 1024;

describe('memoryAfterPolls', () => {
  it('collects again only when the polls since the last collection left 16 MB or more, a second or more later', () => {
    const lines: string[] = [];
    let heapUsed = 20 * MB;
    let time = 0;
    let collections = 0;
    const hook = memoryAfterPolls(
      createLogger({ level: 'debug', secrets: [], write: (line) => lines.push(line) }),
      () => ({
        gc: () => {
          collections++;
        },
        usage: () => ({ rss: 150 * MB, heapUsed, heapTotal: 30 * MB, external: 4 * MB, arrayBuffers: 0 }),
        now: () => time,
      }),
    );
    hook(LARGE_POLL_EVENTS - 1);
    expect([collections, lines.length]).toEqual([0, 0]);
    hook(LARGE_POLL_EVENTS);
    expect(collections).toBe(1);
    heapUsed += 15 * MB; // less than 16 MB of garbage since: not worth it
    hook(LARGE_POLL_EVENTS);
    expect(collections).toBe(1);
    heapUsed += 1 * MB;
    time += MS_BETWEEN_COLLECTIONS - 1; // garbage enough, but too soon after the last
    hook(LARGE_POLL_EVENTS);
    expect(collections).toBe(1);
    time += 1;
    hook(LARGE_POLL_EVENTS);
    expect(collections).toBe(2);
    expect(lines.filter((l) => l.includes('poll: memory'))).toHaveLength(4);
  });

  it('adds up the polls of every account: a hundred polls of 1,000 events are one look, however many accounts made them', () => {
    const lines: string[] = [];
    let collections = 0;
    const hook = memoryAfterPolls(
      createLogger({ level: 'debug', secrets: [], write: (line) => lines.push(line) }),
      () => ({
        gc: () => {
          collections++;
        },
        usage: () => ({
          rss: 150 * MB,
          heapUsed: 20 * MB,
          heapTotal: 30 * MB,
          external: 4 * MB,
          arrayBuffers: 0,
        }),
        now: () => 0,
      }),
    );
    for (let poll = 0; poll < 9; poll++) hook(1_000);
    expect([collections, lines.length]).toEqual([0, 0]);
    hook(1_000);
    expect([collections, lines.length]).toEqual([1, 1]);
    for (let poll = 0; poll < 9; poll++) hook(1_000);
    expect(lines).toHaveLength(1);
  });
});
