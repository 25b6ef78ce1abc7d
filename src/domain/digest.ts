/**
 * What a digest says about a burst of events: counts by type and by target and a few examples. Domain logic,
 * not Block Kit: the pipeline stores the summary in the outbox and `slack/blocks/digest.ts` renders it.
 */
import type { HaloEvent } from '../halo/types.ts';

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
  readonly sample: readonly HaloEvent[];
}

export interface SummarizeOptions {
  /** How many events to keep as examples; default 5. */
  readonly sampleSize?: number;
}

const DEFAULT_SAMPLE_SIZE = 5;

export function summarizeDigest(events: readonly HaloEvent[], options: SummarizeOptions = {}): DigestSummary {
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  if (!Number.isInteger(sampleSize) || sampleSize < 0) {
    throw new RangeError(`Expected \`sampleSize\` to be an integer >= 0, got ${sampleSize}`);
  }
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
    sample: events.slice(0, sampleSize).map(copyEvent),
  };
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
