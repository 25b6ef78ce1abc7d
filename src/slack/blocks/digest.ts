import type { EventListFilter, HaloEvent } from '../../halo/types.ts';
import { cleanText, code, mrkdwn, mrkdwnLink, neutralizeBackticks, plain } from './escape.ts';
import { LIMITS } from './limits.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import type { Block, SectionBlock, SlackMessage } from './types.ts';

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

/** Formats a `/halo events` command for a filter; the commands module owns the syntax. */
export type ListCommand = (filter: Pick<EventListFilter, 'key' | 'target_id'>) => string;

export interface SummarizeOptions {
  /** How many events to keep as examples; default 5. */
  readonly sampleSize?: number;
}

const DEFAULT_SAMPLE_SIZE = 5;
/** Rows per list: a digest is a glance, the command lists the rest. */
const MAX_ROWS = 10;
/** Room kept at the end of a list section for "and N more …". */
const MORE_RESERVE = 40;
/** Per-row budgets; ten rows of them fit a 3000-character section, and the loop below checks anyway. */
const ROW = { subject: 120, key: 80, host: 150, date: 40, link: 600 } as const;
const COMMAND_MAX = 300;

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

/** One message for many new events: counts by type and target, a few examples, and how to list them all. */
export function renderDigest(summary: DigestSummary, listCommand: ListCommand): SlackMessage {
  const title = `${summary.total} new Halo ${summary.total === 1 ? 'event' : 'events'}`;
  const blocks: Block[] = [{ type: 'header', text: plainText(plain(title, LIMITS.headerText)) }];

  const sections = [
    listSection('By event type', summary.byKey, summary.byKey.length, 'types', keyRow),
    listSection('By target', summary.byTarget, summary.byTarget.length, 'targets', targetRow),
    listSection('For example', summary.sample, summary.total, 'events', sampleRow),
  ];
  for (const section of sections) if (section !== undefined) blocks.push(section);

  const hint = commandHint(summary, listCommand);
  if (hint !== undefined) blocks.push({ type: 'context', elements: [mrkdwnText(hint)] });

  return { text: digestFallback(title, summary), blocks };
}

/** A titled bullet list of at most `MAX_ROWS` rows that fits one section, then "and N more". */
function listSection<T>(
  title: string,
  items: readonly T[],
  total: number,
  noun: string,
  row: (item: T) => string,
): SectionBlock | undefined {
  if (items.length === 0) return undefined;
  let text = `*${title}*`;
  let shown = 0;
  for (const item of items.slice(0, MAX_ROWS)) {
    const line = `\n• ${row(item)}`;
    if (text.length + line.length > LIMITS.sectionText - MORE_RESERVE) break;
    text += line;
    shown += 1;
  }
  if (total > shown) text += `\nand ${total - shown} more ${noun}`;
  return { type: 'section', text: mrkdwnText(text) };
}

function keyRow(entry: DigestKeyCount): string {
  // Backticks in the subject would pair with the code span around the key and garble the row.
  const subject = mrkdwn(neutralizeBackticks(oneLine(entry.subject)), ROW.subject);
  const key = code(oneLine(entry.key), ROW.key) || '(no key)';
  return [`*${entry.count}*`, subject, key].filter((part) => part !== '').join(' ');
}

function targetRow(entry: DigestTargetCount): string {
  const host = mrkdwn(oneLine(entry.host), ROW.host);
  const id = entry.targetId === null ? '' : `ID ${entry.targetId}`;
  const what = [host, id].filter((part) => part !== '').join(' · ') || 'no target';
  return `*${entry.count}* ${what}`;
}

function sampleRow(event: HaloEvent): string {
  const link = mrkdwnLink(event.url, 'View');
  const parts = [
    mrkdwn(oneLine(event.subject), ROW.subject) || code(oneLine(event.key), ROW.key) || 'Halo event',
    mrkdwn(oneLine(event.target?.host ?? ''), ROW.host),
    mrkdwn(oneLine(cleanText(event.dateCreated)), ROW.date),
    // A long URL cannot be cut; leave it out rather than let one row crowd out the others.
    link !== undefined && link.length <= ROW.link ? link : '',
  ];
  return parts.filter((part) => part !== '').join(' · ');
}

function commandHint(summary: DigestSummary, listCommand: ListCommand): string | undefined {
  const topKey = summary.byKey[0];
  if (topKey === undefined) return undefined;
  const byKey = code(listCommand({ key: topKey.key }), COMMAND_MAX);
  if (byKey === '') return undefined;
  let hint =
    summary.byKey.length === 1 ? `List them with ${byKey}` : `List the most common type with ${byKey}`;
  const topTarget = summary.byTarget[0];
  if (topTarget !== undefined && topTarget.targetId !== null) {
    const byTarget = code(listCommand({ target_id: topTarget.targetId }), COMMAND_MAX);
    if (byTarget !== '') {
      hint += summary.byTarget.length === 1 ? ` or ${byTarget}` : ` or the busiest target with ${byTarget}`;
    }
  }
  return hint;
}

/** "42 new Halo events: Target scan started (30), Domain added (12), …" */
function digestFallback(title: string, summary: DigestSummary): string {
  const top = summary.byKey.slice(0, 3).map((entry) => {
    const name = mrkdwn(oneLine(entry.subject), 100) || mrkdwn(oneLine(entry.key), 100) || 'other';
    return `${name} (${entry.count})`;
  });
  if (top.length === 0) return title;
  const more = summary.byKey.length > top.length ? ', …' : '';
  return `${title}: ${top.join(', ')}${more}`;
}

/** Code-unit order: the same on every machine and locale, unlike `localeCompare`. */
function compare(a: string, b: string): number {
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
