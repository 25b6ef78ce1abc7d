/**
 * Scheduled summaries (`/halo summary daily 09:00`): at each slot, what the channel was told since the slot
 * before, and what of it is still open. The leader alone runs the {@link SummaryScheduler}; each summary is one
 * outbox row whose dedup key names its channel and slot, queued in the transaction that records the slot as
 * sent. So a restart or a change of leader never sends one twice (the slot is recorded, or the row is already
 * there), and never skips one: slots missed while no leader ran are owed from the recorded one on, and sent as
 * soon as a leader runs again, marked late.
 */
import type { Timers } from './ticker.ts';
import type { Clock } from '../clock.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import type { DigestSummary } from '../domain/digest.ts';
import { SEVERITIES, defaultSeverityOf, type Severity, type SeverityOf } from '../domain/severity.ts';
import { describeSchedule, previousSlot, slotsDue } from '../domain/summary-schedule.ts';
import type { GoneNotice } from './gone-tracking.ts';
import { parseEvent } from './outbox.ts';
import { PeriodicJob } from './periodic.ts';
import {
  FencedError,
  type ChannelActivity,
  type NewOutboxItem,
  type Store,
  type SummarySetting,
} from './store-port.ts';

/** Findings, types and open alerts a summary names at most; the rest are counted. */
export const SUMMARY_TOP = 10;
const TOP_TYPES = 5;
/** The event types a summary lists by target: what someone has to look at. */
export const FINDING_KEYS: readonly string[] = ['issue-new', 'port-open', 'website-cert-risk'];
/** Summaries owed at most after a long outage: the newest ones, not one per missed day of a month. */
export const MAX_OWED = 7;
/** A summary queued this long after its slot, or longer, says it is late: a slow sweep is not an outage. */
const LATE_AFTER_MS = 60_000;

/** One event a summary names: its type, its target and its link in Halo. */
export interface SummaryEntry {
  readonly eventId: string;
  readonly key: string;
  readonly subject: string;
  /** The target's name, else its host; empty when the event has none. */
  readonly target: string;
  readonly url: string;
}

/** The outbox payload of one summary; rendering it needs nothing else. */
export interface SummaryPayload {
  /** `daily 09:00`, `weekly mon 09:00`. */
  readonly schedule: string;
  readonly timeZone: string;
  readonly from: number;
  readonly to: number;
  /** Queued after its time (no leader ran at the slot): the message says so. */
  readonly late: boolean;
  /** Events posted (alone or in digests), by severity, most severe first; only levels with any. */
  readonly alerts: number;
  readonly bySeverity: readonly { readonly severity: Severity; readonly count: number }[];
  readonly topTypes: readonly { readonly key: string; readonly subject: string; readonly count: number }[];
  /** New issues, open ports and certificate risks, the first {@link SUMMARY_TOP}; `findingsTotal` counts all. */
  readonly findings: readonly SummaryEntry[];
  readonly findingsTotal: number;
  readonly scans: number;
  /** Alerts of the period that nobody acknowledged and that still exist, the first {@link SUMMARY_TOP}. */
  readonly unacknowledged: readonly SummaryEntry[];
  readonly unacknowledgedTotal: number;
  readonly muted: number;
  readonly gone: number;
}

function entry(event: HaloEvent): SummaryEntry {
  const target = event.target === null ? '' : event.target.name || event.target.host;
  return { eventId: event.eventId, key: event.key, subject: event.subject, target, url: event.url };
}

/**
 * What a channel's delivered rows of a period say. `open` tells whether an alert's message in the channel is
 * still unacknowledged (and its event not gone); `since`, what each mute had held at the summary before. Pure.
 */
export function summarizeActivity(
  activity: ChannelActivity,
  open: (eventId: string) => boolean,
  severityOf: SeverityOf = defaultSeverityOf,
  since: Readonly<Record<string, number>> = {},
): Omit<SummaryPayload, 'schedule' | 'timeZone' | 'from' | 'to' | 'late'> {
  const types = new Map<string, { key: string; subject: string; count: number }>();
  const count = (key: string, subject: string, n: number): void => {
    const type = types.get(key) ?? { key, subject, count: 0 };
    type.count += n;
    types.set(key, type);
  };
  const findings: SummaryEntry[] = [];
  const unacknowledged: SummaryEntry[] = [];
  let gone = 0;
  for (const row of activity.rows) {
    if (row.kind === 'alert') {
      const event = parseEvent(row.payload);
      if (event === null) continue;
      count(event.key, event.subject, 1);
      if (FINDING_KEYS.includes(event.key)) findings.push(entry(event));
      if (open(event.eventId)) unacknowledged.push(entry(event));
    } else if (row.kind === 'digest') {
      const digest = parsed(row.payload) as DigestSummary | null;
      if (digest === null) continue;
      for (const type of digest.byKey) count(type.key, type.subject, type.count);
      // A digest shows a few examples only: those are the findings it named.
      findings.push(...digest.sample.filter((event) => FINDING_KEYS.includes(event.key)).map(entry));
    } else if (row.kind === 'gone') {
      gone += 1;
      const notice = parsed(row.payload) as GoneNotice | null;
      if (notice === null) continue;
      const at = unacknowledged.findIndex((open) => open.eventId === notice.event.eventId);
      if (at !== -1) unacknowledged.splice(at, 1);
    }
  }
  const bySeverity = new Map<Severity, number>();
  for (const type of types.values())
    bySeverity.set(severityOf(type.key), (bySeverity.get(severityOf(type.key)) ?? 0) + type.count);
  const sorted = [...types.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  const severe = (a: SummaryEntry, b: SummaryEntry): number =>
    SEVERITIES.indexOf(severityOf(a.key)) - SEVERITIES.indexOf(severityOf(b.key));
  return {
    alerts: sorted.reduce((sum, type) => sum + type.count, 0),
    bySeverity: SEVERITIES.filter((s) => bySeverity.has(s)).map((s) => ({
      severity: s,
      count: bySeverity.get(s)!,
    })),
    topTypes: sorted.slice(0, TOP_TYPES),
    findings: findings.sort(severe).slice(0, SUMMARY_TOP),
    findingsTotal: findings.length,
    scans: types.get('target-scan-complete')?.count ?? 0,
    unacknowledged: unacknowledged.slice(0, SUMMARY_TOP),
    unacknowledgedTotal: unacknowledged.length,
    muted: Object.entries(activity.held).reduce(
      (sum, [id, held]) => sum + Math.max(0, held - (since[id] ?? 0)),
      0,
    ),
    gone,
  };
}

/**
 * A channel's summary of the period from `from` to `to`, read from the store, and what each mute had held by
 * then (for the next summary's `since`).
 */
export async function buildSummary(
  store: Pick<Store, 'channelActivity' | 'eventMessages'>,
  channel: string,
  period: Pick<SummaryPayload, 'from' | 'to' | 'schedule' | 'timeZone' | 'late'> & {
    readonly severityOf?: SeverityOf | undefined;
    /** What each mute had held at the summary before. */
    readonly since: Readonly<Record<string, number>>;
  },
): Promise<{ summary: SummaryPayload; held: Readonly<Record<string, number>> }> {
  const { severityOf, since, ...shown } = period;
  const activity = await store.channelActivity(channel, period.from, period.to);
  const alerted = activity.rows.flatMap((row) => {
    const event = row.kind === 'alert' ? parseEvent(row.payload) : null;
    return event === null ? [] : [event.eventId];
  });
  const messages = await store.eventMessages(alerted);
  const open = new Set(
    messages.filter((m) => m.channel === channel && m.acks.length === 0).map((m) => m.eventId),
  );
  const counts = summarizeActivity(activity, (id) => open.has(id), severityOf, since);
  return { summary: { ...shown, ...counts }, held: activity.held };
}

/** The outbox row of a channel's summary for `slot`: one per channel and slot, whoever queues it. */
export function summaryItem(channel: string, slot: number, payload: SummaryPayload): NewOutboxItem {
  return {
    channel,
    kind: 'summary',
    payload: JSON.stringify(payload),
    dedupKey: `${channel}:summary:${slot}`,
  };
}

export interface SummarySchedulerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  /** HALO_TIMEZONE: the wall clock the schedules are read on. */
  readonly timeZone: string;
  readonly severityOf?: SeverityOf;
  /** How often it looks for a summary due; a summary queued later than this after its slot is marked late. */
  readonly intervalMs: number;
  readonly onRouted: () => void;
  /** On a Ticker shared by every account (see ticker.ts). Default: Node's. */
  readonly timers?: Timers;
}

/** The leader's periodic job that queues the summaries due, as {@link MuteExpiry} ends mutes. */
export class SummaryScheduler extends PeriodicJob {
  constructor(private readonly options: SummarySchedulerOptions) {
    super({ ...options, failure: 'summaries: could not queue a summary' });
  }

  protected async sweepOnce(): Promise<void> {
    const { store } = this.options;
    let routed = 0;
    for (const setting of await store.summaries()) {
      try {
        routed += await this.queueDue(setting);
      } catch (error) {
        // Leadership lost: nothing more may be written, for any channel.
        if (error instanceof FencedError) throw error;
        // One channel's trouble (an unreadable row, a failed read) holds back its own summary only; the next
        // sweep tries it again, and the other channels' summaries go out now.
        this.options.log.error("summaries: could not queue this channel's summary; retried next sweep", {
          channel: setting.channel,
          error,
        });
      }
    }
    if (routed > 0) this.options.onRouted();
  }

  /** Queues the summaries a channel is owed, oldest first; says how many. */
  private async queueDue(setting: SummarySetting): Promise<number> {
    const { store, clock, timeZone } = this.options;
    const now = clock.now();
    let since = setting.held;
    let routed = 0;
    for (const slot of slotsDue(setting, setting.lastSlot, now, timeZone, MAX_OWED)) {
      const { summary, held } = await this.summary(setting, slot, since, now);
      await store.routeSummary(summaryItem(setting.channel, slot, summary), slot, held, now);
      since = held;
      this.options.log.info('summary queued', {
        channel: setting.channel,
        slot: new Date(slot).toISOString(),
      });
      routed += 1;
    }
    return routed;
  }

  private summary(
    setting: SummarySetting,
    slot: number,
    since: Readonly<Record<string, number>>,
    now: number,
  ): ReturnType<typeof buildSummary> {
    const { store, timeZone, intervalMs, severityOf } = this.options;
    const from = previousSlot(setting, slot, timeZone);
    // A sweep runs every interval: later than two of them (and a minute), no leader was there at the slot.
    const late = now - slot > Math.max(2 * intervalMs, LATE_AFTER_MS);
    const schedule = describeSchedule(setting);
    const period = { from, to: slot, schedule, timeZone, late, severityOf, since };
    return buildSummary(store, setting.channel, period);
  }
}

/** A row's payload, or null when it is not the JSON the bot wrote (a row that cannot be read is left out). */
function parsed(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return null;
  }
}
