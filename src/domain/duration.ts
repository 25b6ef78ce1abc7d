/** Mute durations: a whole number and a unit, `30m`, `24h`, `7d`; at least a minute, at most 30 days. */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const MAX_DURATION_MS = 30 * UNIT_MS.d;
const EXPECTED = 'a duration like 30m, 24h or 7d (minutes, hours or days; at most 30d)';

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

/** Parses `30m`, `24h`, `7d` (case-insensitive). Never throws; the error names the expected form. */
export function parseDuration(text: string): DurationResult {
  if (/^0+[mhd]?$/i.test(text.trim()))
    return { ok: false, error: `A mute must last at least 1m, got “${text}”.` };
  const match = /^([0-9]{1,6})([mhd])$/i.exec(text.trim());
  if (match === null) return { ok: false, error: `Expected ${EXPECTED}, got “${text.slice(0, 20)}”.` };
  const amount = Number(match[1]);
  const ms = amount * UNIT_MS[match[2]!.toLowerCase() as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) return { ok: false, error: `A mute lasts at most 30d, got “${text}”.` };
  return { ok: true, ms };
}

/**
 * An exact way to say `ms`, as people say it: `90m` stays `90m`, `24h` stays `24h`, `48h` becomes `2d`. Parses
 * back to `ms` with {@link parseDuration}.
 */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0 && ms > UNIT_MS.d) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  return `${Math.round(ms / UNIT_MS.m)}m`;
}
