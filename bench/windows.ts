/**
 * Scan windows: when the bot was scanning, from a poll's first list request (start=0, seen by the Halo stand-in)
 * to the bot's report of that poll. An acknowledgement counts as "during a scan" when it lies wholly inside one.
 */
import type { FakeHalo } from '../fakes/halo.ts';
import type { BenchBot } from './bot.ts';

export type Window = readonly [start: number, end: number];

/** The windows of the polls that began after list request `listFrom` and line `lineFrom`. */
export function scanWindows(halo: FakeHalo, bot: BenchBot, listFrom: number, lineFrom: number): Window[] {
  const starts = halo
    .listRequests()
    .slice(listFrom)
    .filter((r) => r.query.get('start') === '0')
    .map((r) => r.at);
  const ends = bot.lines
    .slice(lineFrom)
    .filter((l) => / poll: done /.test(l.text))
    .map((l) => l.at);
  return starts.flatMap((start) => {
    const end = ends.find((e) => e > start);
    return end === undefined ? [] : [[start, end] as const];
  });
}

export function inside(windows: readonly Window[], sentAt: number, ms: number): boolean {
  return windows.some(([start, end]) => sentAt >= start && sentAt + ms <= end);
}
