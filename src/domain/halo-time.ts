/**
 * Halo's `date_created` is `YYYY-MM-DD HH:MM` with no zone; `HALO_TIMEZONE` says which zone it is in. Turning it
 * into an instant lets Slack show each reader their own time. Pure: Intl only, no clock.
 */

const HALO_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Whether the runtime knows `zone` (an IANA name such as `Europe/Paris`, or `UTC`). */
export function isValidTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Seconds since the epoch of a Halo date read in `zone`; `null` when it is not a real date in that format
 * (Halo's own example is `0000-00-00 00:00`), so that the caller shows the text as given.
 */
export function haloDateToUnix(text: string, zone: string): number | null {
  const match = HALO_DATE.exec(text.trim());
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match
    .slice(1)
    .map((part: string | undefined) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // 31 February would roll over into March: not a date Halo meant.
  if (new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC', day: 'numeric' }).format(wall) !== String(day)) {
    return null;
  }
  let instant = wall - offsetMs(wall, zone);
  // Near a daylight-saving change the offset at the guess and at the answer differ: take the answer's.
  const corrected = wall - offsetMs(instant, zone);
  if (corrected !== instant) instant = corrected;
  return Math.floor(instant / 1000);
}

/** How far `zone`'s wall clock is ahead of UTC at `instant`. */
function offsetMs(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}
