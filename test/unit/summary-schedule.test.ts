import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  latestSlot,
  parseClockTime,
  parseWeekday,
  previousSlot,
  slotsDue,
  type SummarySchedule,
} from '../../src/domain/summary-schedule.ts';

const at = (iso: string): number => Date.parse(iso);
const daily: SummarySchedule = { cadence: 'daily', weekday: null, minute: 9 * 60 };
const monday: SummarySchedule = { cadence: 'weekly', weekday: 1, minute: 9 * 60 };

describe('summary schedules', () => {
  it('reads times and days as the command takes them', () => {
    expect([parseClockTime('09:00'), parseClockTime('9:05'), parseClockTime('23:59')]).toEqual([
      540, 545, 1439,
    ]);
    expect([parseClockTime('24:00'), parseClockTime('9'), parseClockTime('09:60')]).toEqual([
      null,
      null,
      null,
    ]);
    expect([parseWeekday('mon'), parseWeekday('Sunday'), parseWeekday('sat')]).toEqual([1, 0, 6]);
    expect([parseWeekday('mo'), parseWeekday('monda'), parseWeekday('x')]).toEqual([null, null, null]);
    expect([describeSchedule(daily), describeSchedule(monday)]).toEqual(['daily 09:00', 'weekly mon 09:00']);
  });

  it('finds the latest slot at or before now, on the wall clock of the zone', () => {
    expect(latestSlot(daily, at('2026-03-10T09:00:00Z'), 'UTC')).toBe(at('2026-03-10T09:00:00Z'));
    expect(latestSlot(daily, at('2026-03-10T08:59:59Z'), 'UTC')).toBe(at('2026-03-09T09:00:00Z'));
    // 09:00 in Paris is 08:00 UTC in winter.
    expect(latestSlot(daily, at('2026-03-10T08:30:00Z'), 'Europe/Paris')).toBe(at('2026-03-10T08:00:00Z'));
    // 2026-03-10 is a Tuesday: the latest Monday 09:00 is the day before; on Monday 08:00 it is a week before.
    expect(latestSlot(monday, at('2026-03-10T12:00:00Z'), 'UTC')).toBe(at('2026-03-09T09:00:00Z'));
    expect(latestSlot(monday, at('2026-03-09T08:00:00Z'), 'UTC')).toBe(at('2026-03-02T09:00:00Z'));
  });

  it('makes a period of 23 hours across the spring daylight-saving change', () => {
    // Paris moves to summer time on 2026-03-29: 09:00 is 08:00 UTC before it and 07:00 UTC after.
    const slot = latestSlot(daily, at('2026-03-29T12:00:00Z'), 'Europe/Paris');
    expect(slot).toBe(at('2026-03-29T07:00:00Z'));
    expect(previousSlot(daily, slot, 'Europe/Paris')).toBe(at('2026-03-28T08:00:00Z'));
  });

  it('owes the slots after the last one sent, the newest few at most', () => {
    const now = at('2026-03-12T10:00:00Z');
    expect(slotsDue(daily, at('2026-03-10T09:00:00Z'), now, 'UTC', 7)).toEqual([
      at('2026-03-11T09:00:00Z'),
      at('2026-03-12T09:00:00Z'),
    ]);
    expect(slotsDue(daily, at('2026-03-12T09:00:00Z'), now, 'UTC', 7)).toEqual([]);
    expect(slotsDue(daily, 0, now, 'UTC', 2)).toEqual([
      at('2026-03-11T09:00:00Z'),
      at('2026-03-12T09:00:00Z'),
    ]);
  });
});
