import type { DigestKeyCount, DigestSummary, DigestTargetCount } from '../../domain/digest.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import type { EventListFilter, HaloEvent } from '../../domain/event.ts';
import { accountLine } from './account-line.ts';
import { code, mrkdwn, mrkdwnLink, neutralizeBackticks, plain } from './escape.ts';
import { LIMITS } from './limits.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import { SEVERITY_STYLE, severityLabel } from './severity-style.ts';
import { haloDate } from './slack-date.ts';
import type { Block, SectionBlock, SlackMessage } from './types.ts';

/** Formats a `/halo events` command for a filter; the commands module owns the syntax. */
export type ListCommand = (filter: Pick<EventListFilter, 'key' | 'target_id'>) => string;

/** Rows per list: a digest is a glance, the command lists the rest. */
const MAX_ROWS = 10;
/** Room kept at the end of a list section for "and N more …". */
const MORE_RESERVE = 40;
/** Per-row budgets; ten rows of them fit a 3000-character section, and the loop below checks anyway. */
const ROW = { subject: 120, key: 80, host: 150, date: 120, link: 600 } as const;
const COMMAND_MAX = 300;

/** One message for many new events: counts by type and target, a few examples, and how to list them all. */
export function renderDigest(
  summary: DigestSummary,
  listCommand: ListCommand,
  display: Display = DEFAULT_DISPLAY,
): SlackMessage {
  const noun = summary.total === 1 ? 'event' : 'events';
  const title =
    summary.thread === undefined
      ? `${summary.total} new Halo ${noun}`
      : `${summary.total} more ${noun} in this scan`;
  // The highest level first, as on an alert; a digest stored before severities existed has none.
  const highest = summary.highest;
  const label = highest === undefined ? '' : `${severityLabel(highest)} · `;
  const blocks: Block[] = [
    {
      type: 'header',
      text: { ...plainText(label + plain(title, LIMITS.headerText - label.length)), emoji: true },
    },
  ];

  if (display.accountName !== undefined) blocks.push(accountLine(display.accountName));
  const sampleRow = (event: HaloEvent): string => exampleRow(event, display);
  const sections = [
    listSection('By event type', summary.byKey, summary.byKey.length, 'types', keyRow),
    listSection('By target', summary.byTarget, summary.byTarget.length, 'targets', targetRow),
    listSection('Most severe first', summary.sample, summary.total, 'events', sampleRow),
  ];
  for (const section of sections) if (section !== undefined) blocks.push(section);

  const hint = commandHint(summary, listCommand);
  if (hint !== undefined) blocks.push({ type: 'context', elements: [mrkdwnText(hint)] });

  const word = highest === undefined ? '' : `${SEVERITY_STYLE[highest].word}: `;
  const message: SlackMessage = { text: word + digestFallback(title, summary), blocks };
  return highest === undefined ? message : { ...message, color: SEVERITY_STYLE[highest].color };
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

function exampleRow(event: HaloEvent, display: Display): string {
  const link = mrkdwnLink(event.url, 'View');
  const parts = [
    severityLabel(display.severityOf(event.key)),
    mrkdwn(oneLine(event.subject), ROW.subject) || code(oneLine(event.key), ROW.key) || 'Halo event',
    mrkdwn(oneLine(event.target?.host ?? ''), ROW.host),
    haloDate(event.dateCreated, display.timeZone, ROW.date),
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
  if (topTarget !== undefined && topTarget.targetId !== null && topTarget.targetId > 0) {
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
