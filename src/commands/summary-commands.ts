/** `/halo summary`: sets, stops or shows a channel's scheduled summary (see pipeline/summaries.ts). */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { describeSchedule, latestSlot, type SummarySchedule } from '../domain/summary-schedule.ts';
import type { SeverityOf } from '../domain/severity.ts';
import type { Store } from '../pipeline/store-port.ts';
import { buildSummary } from '../pipeline/summaries.ts';
import { notice, type Answer } from './answers.ts';

const DAY_MS = 24 * 3600 * 1000;

export const NOT_ALLOWED_SUMMARY =
  'You are not allowed to do that: only the users in HALO_ADMIN_USERS (or, when it is empty, workspace admins and owners) may set or stop summaries, as for subscriptions.';

export interface SummaryCommandOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly canManage: (userId: string) => Promise<boolean>;
  /** HALO_TIMEZONE: what the times of the schedules mean. */
  readonly timeZone: string;
  readonly ratings?: { readonly severityOf: SeverityOf };
}

export async function summaryCommand(
  options: SummaryCommandOptions,
  schedule: SummarySchedule | 'off' | 'show' | 'now',
  context: { readonly userId: string; readonly channelId: string },
): Promise<Answer> {
  const { store, clock, log, timeZone } = options;
  const channel = context.channelId;
  if (schedule === 'show') {
    const [setting] = await store.summaries(channel);
    return notice(
      setting === undefined
        ? 'This channel gets no scheduled summary. `/halo summary daily 09:00` sets one.'
        : `This channel gets a summary ${describeSchedule(setting)} (${timeZone}). \`/halo summary off\` stops it.`,
    );
  }
  const now = clock.now();
  if (schedule === 'now') {
    // Since the channel's last scheduled one, or over the last day when it has none.
    const [setting] = await store.summaries(channel);
    const from = setting === undefined ? now - DAY_MS : latestSlot(setting, now, timeZone);
    const described = setting === undefined ? 'last 24 hours' : `so far; ${describeSchedule(setting)}`;
    const { summary } = await buildSummary(store, channel, {
      since: setting?.held ?? {},
      from,
      to: now,
      schedule: described,
      timeZone,
      late: false,
      severityOf: options.ratings?.severityOf,
    });
    return { kind: 'summary', summary };
  }
  if (!(await options.canManage(context.userId))) return notice(NOT_ALLOWED_SUMMARY);
  if (schedule === 'off') {
    const removed = await store.removeSummary(channel);
    if (removed)
      await store.audit({ at: now, userId: context.userId, action: 'summary', channel, detail: 'off' });
    log.info('summary stopped', { channel, by: context.userId, removed });
    return notice(
      removed ? 'Stopped this channel’s scheduled summary.' : 'This channel had no scheduled summary.',
    );
  }
  await store.setSummary({ channel, ...schedule, createdBy: context.userId, createdAt: now });
  const detail = describeSchedule(schedule);
  await store.audit({ at: now, userId: context.userId, action: 'summary', channel, detail });
  log.info('summary set', { channel, by: context.userId, schedule: detail });
  // The first one is at the slot after now: a week ahead of the latest one, or a day.
  const next = latestSlot(schedule, now, timeZone) + (schedule.weekday === null ? 1 : 7) * DAY_MS;
  const unix = Math.floor(next / 1000);
  return notice(
    `This channel will get a summary ${detail} (${timeZone}): what it was told since the one before, and what is still open. The first comes <!date^${unix}^{date_short_pretty} {time}|${new Date(next).toISOString()}>.`,
  );
}
