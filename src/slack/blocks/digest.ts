import type { DigestKeyCount, DigestSummary, DigestTargetCount } from '../../domain/digest.ts';
import type { EventListFilter, HaloEvent } from '../../halo/types.ts';
import { cleanText, code, mrkdwn, mrkdwnLink, neutralizeBackticks, plain } from './escape.ts';
import { LIMITS } from './limits.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import type { Block, SectionBlock, SlackMessage } from './types.ts';

/** Formats a `/halo events` command for a filter; the commands module owns the syntax. */
export type ListCommand = (filter: Pick<EventListFilter, 'key' | 'target_id'>) => string;

/** Rows per list: a digest is a glance, the command lists the rest. */
const MAX_ROWS = 10;
/** Room kept at the end of a list section for "and N more …". */
const MORE_RESERVE = 40;
/** Per-row budgets; ten rows of them fit a 3000-character section, and the loop below checks anyway. */
const ROW = { subject: 120, key: 80, host: 150, date: 40, link: 600 } as const;
const COMMAND_MAX = 300;

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
