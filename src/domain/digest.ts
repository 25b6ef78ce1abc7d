/**
 * What a digest says about a burst of events: counts by type and by target and a few examples. Domain logic,
 * not Block Kit: the pipeline stores the summary in the outbox and `slack/blocks/digest-message.ts` renders it.
 */
import type { HaloEvent } from './event.ts';
import { defaultSeverityOf, highest, severityRank, type Severity, type SeverityOf } from './severity.ts';

export interface DigestKeyCount {
  readonly key: string;
  /** The subject of the first event seen with this key. */
  readonly subject: string;
  readonly count: number;
}

export interface DigestTargetCount {
  /** `null` for events without a target, or whose target has no ID (then grouped by host). */
  readonly targetId: number | null;
  readonly host: string;
  readonly count: number;
}

/** What one digest says, JSON-serialisable so it can be stored and rendered again later. */
export interface DigestSummary {
  readonly total: number;
  readonly byKey: readonly DigestKeyCount[];
  readonly byTarget: readonly DigestTargetCount[];
  /** The examples, most severe first, then newest. */
  readonly sample: readonly HaloEvent[];
  /** The most severe level among all the events (absent in digests stored before severities existed). */
  readonly highest?: Severity;
  /** A digest of replies in the scan thread of this target, rather than a post in the channel. */
  readonly thread?: number;
}

export interface SummarizeOptions {
  /** How many events to keep as examples; default 5. */
  readonly sampleSize?: number;
  /** Ranks the examples and names the digest's highest level; default: the built-in table. */
  readonly severityOf?: SeverityOf;
}

const DEFAULT_SAMPLE_SIZE = 5;

export function summarizeDigest(events: readonly HaloEvent[], options: SummarizeOptions = {}): DigestSummary {
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const severityOf = options.severityOf ?? defaultSeverityOf;
  if (!Number.isInteger(sampleSize) || sampleSize < 0) {
    throw new RangeError(`Expected \`sampleSize\` to be an integer >= 0, got ${sampleSize}`);
  }
  const top = highest(events.map((event) => severityOf(event.key)));
  const byKey = new Map<string, { key: string; subject: string; count: number }>();
  const byTarget = new Map<string, { targetId: number | null; host: string; count: number }>();
  for (const event of events) {
    const keyEntry = byKey.get(event.key) ?? { key: event.key, subject: event.subject, count: 0 };
    keyEntry.count += 1;
    byKey.set(event.key, keyEntry);

    const targetId = event.target?.id ?? null;
    const host = event.target?.host ?? '';
    // A target is its ID when Halo gave one; hosts can repeat across targets and IDs cannot.
    const group = targetId === null ? `host:${host}` : `id:${targetId}`;
    const targetEntry = byTarget.get(group) ?? { targetId, host, count: 0 };
    targetEntry.count += 1;
    byTarget.set(group, targetEntry);
  }
  return {
    total: events.length,
    byKey: [...byKey.values()].sort((a, b) => b.count - a.count || compare(a.key, b.key)),
    byTarget: [...byTarget.values()].sort(
      (a, b) => b.count - a.count || compare(a.host, b.host) || (a.targetId ?? -1) - (b.targetId ?? -1),
    ),
    sample: rankEvents(events, severityOf).slice(0, sampleSize).map(copyEvent),
    ...(top === undefined ? {} : { highest: top }),
  };
}

/**
 * Most severe first, then newest (Halo's `YYYY-MM-DD HH:MM` sorts as text), then the higher ID: a digest's first
 * examples are the ones to read first, whatever order they arrived in.
 */
export function rankEvents(events: readonly HaloEvent[], severityOf: SeverityOf): HaloEvent[] {
  return events
    .map((event) => ({ event, rank: severityRank(severityOf(event.key)) }))
    .sort(
      (a, b) =>
        b.rank - a.rank ||
        compare(b.event.dateCreated, a.event.dateCreated) ||
        compare(b.event.eventId, a.event.eventId),
    )
    .map((entry) => entry.event);
}

/** Code-unit order: the same on every machine and locale, unlike `localeCompare`. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A plain copy, so the summary holds no more than a HaloEvent even if the caller's objects carry extra fields. */
function copyEvent(event: HaloEvent): HaloEvent {
  return {
    eventId: event.eventId,
    subject: event.subject,
    dateCreated: event.dateCreated,
    key: event.key,
    url: event.url,
    target:
      event.target === null
        ? null
        : { name: event.target.name, id: event.target.id, host: event.target.host },
  };
}
