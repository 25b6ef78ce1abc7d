/**
 * When a channel's scheduled summary is due: `daily 09:00` or `weekly mon 09:00`, read on the wall clock of
 * `HALO_TIMEZONE`. Pure: Intl only, no clock. A "slot" is the instant a summary is due; the period a summary
 * covers runs from the slot before it up to its own, so that a summary covers what came since the last one
 * even across a daylight-saving change (a day is then 23 or 25 hours).
 */
import { haloDateToUnix } from './halo-time.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface SummarySchedule {
  readonly cadence: 'daily' | 'weekly';
  /** 0 (Sunday) … 6 (Saturday) for weekly summaries; null for daily ones. */
  readonly weekday: number | null;
  /** Minutes after midnight on the wall clock, 0 … 1439. */
  readonly minute: number;
}

const DAY_MS = 24 * 3600 * 1000;

/** `09:00` or `9:00` as minutes after midnight; null for anything else. */
export function parseClockTime(text: string): number | null {
  const match = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(text);
  return match === null ? null : Number(match[1]) * 60 + Number(match[2]);
}

const FULL_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** `mon`, `Monday` as 0 (Sunday) … 6; null for anything else. */
export function parseWeekday(text: string): number | null {
  const word = text.toLowerCase();
  const index = word.length === 3 ? WEEKDAYS.indexOf(word as Weekday) : FULL_NAMES.indexOf(word);
  return index === -1 ? null : index;
}

/** `daily 09:00` or `weekly mon 09:00`: the schedule as the command writes it. */
export function describeSchedule(schedule: SummarySchedule): string {
  const hh = String(Math.floor(schedule.minute / 60)).padStart(2, '0');
  const mm = String(schedule.minute % 60).padStart(2, '0');
  return schedule.weekday === null
    ? `daily ${hh}:${mm}`
    : `weekly ${WEEKDAYS[schedule.weekday]!} ${hh}:${mm}`;
}

/** The wall-clock date (as a UTC midnight) and weekday of `instant` in `zone`. */
function wallDate(instant: number, zone: string): { midnight: number; weekday: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(instant);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const midnight = Date.UTC(get('year'), get('month') - 1, get('day'));
  return { midnight, weekday: new Date(midnight).getUTCDay() };
}

/**
 * The instant the wall clock of `zone` shows `minute` on the day of `midnight`. A time skipped by a
 * daylight-saving change (02:30 on the spring-forward night) is read as the time an hour later, as
 * `haloDateToUnix` reads it.
 */
function at(midnight: number, minute: number, zone: string): number {
  const text = new Date(midnight + minute * 60_000).toISOString().slice(0, 16).replace('T', ' ');
  return haloDateToUnix(text, zone)! * 1000;
}

/** The latest slot at or before `now`. */
export function latestSlot(schedule: SummarySchedule, now: number, zone: string): number {
  const today = wallDate(now, zone);
  const back = schedule.weekday === null ? 0 : (today.weekday - schedule.weekday + 7) % 7;
  const step = schedule.weekday === null ? 1 : 7;
  let midnight = today.midnight - back * DAY_MS;
  let slot = at(midnight, schedule.minute, zone);
  while (slot > now) {
    midnight -= step * DAY_MS;
    slot = at(midnight, schedule.minute, zone);
  }
  return slot;
}

/** The slot before `slot` (a slot itself): where the period `slot` sums up begins. */
export function previousSlot(schedule: SummarySchedule, slot: number, zone: string): number {
  return latestSlot(schedule, slot - 1, zone);
}

/**
 * The slots after `after` and at or before `now`, oldest first, at most `max` of them (the newest): the
 * summaries owed. A bot down for longer than `max` periods sends the last `max`, not a flood.
 */
export function slotsDue(
  schedule: SummarySchedule,
  after: number,
  now: number,
  zone: string,
  max: number,
): number[] {
  const slots: number[] = [];
  for (let slot = latestSlot(schedule, now, zone); slot > after && slots.length < max;) {
    slots.unshift(slot);
    slot = previousSlot(schedule, slot, zone);
  }
  return slots;
}
