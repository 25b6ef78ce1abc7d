import type { SummaryEntry, SummaryPayload } from '../../pipeline/summaries.ts';
import { code, mrkdwn, mrkdwnLink, slackDate, truncate } from './escape.ts';
import { LIMITS } from './limits.ts';
import { severityLabel } from './severity-style.ts';
import { mrkdwnText } from './text.ts';
import type { Block, SlackMessage } from './types.ts';

/** Room for one listed event's name and target: a section lists ten. */
const ENTRY_MAX = 200;

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/** `New Open Port on www.example.com` linked to the event in Halo. */
function entryLine(entry: SummaryEntry): string {
  const label = entry.target === '' ? entry.subject : `${entry.subject} on ${entry.target}`;
  return `• ${mrkdwnLink(entry.url, truncate(label, ENTRY_MAX)) ?? mrkdwn(label, ENTRY_MAX)}`;
}

/** A titled list in one section: as many lines as its text holds, the rest counted. */
function list(title: string, entries: readonly SummaryEntry[], total: number): string {
  const head = `*${title} (${total})*`;
  // Room kept for the "…and N more" line.
  const room = LIMITS.sectionText - head.length - 40;
  const lines: string[] = [];
  let used = 0;
  for (const line of entries.map(entryLine)) {
    if (used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = total > lines.length ? `\n…and ${total - lines.length} more` : '';
  return `${head}\n${lines.join('\n')}${more}`;
}

/** A channel's scheduled summary: what it was told in the period, and what is still open. */
export function renderSummary(summary: SummaryPayload): SlackMessage {
  const period = `${slackDate(new Date(summary.from)) ?? ''} – ${slackDate(new Date(summary.to)) ?? ''}`;
  const late = summary.late ? ' _(late: the bot was not running at its time)_' : '';
  const title = `:bar_chart: *Halo summary* (${summary.schedule}, ${mrkdwn(summary.timeZone, 60)}), ${period}${late}`;
  const empty =
    summary.alerts === 0 && summary.gone === 0 && summary.muted === 0 && summary.unacknowledgedTotal === 0;
  if (empty)
    return {
      text: `Halo summary (${summary.schedule}): nothing was posted here in this period`,
      blocks: [{ type: 'section', text: mrkdwnText(`${title}\nNothing was posted here in this period.`) }],
    };
  const severities = summary.bySeverity.map((s) => `${severityLabel(s.severity)} ${s.count}`).join(' · ');
  const types = summary.topTypes.map((t) => `${code(t.key, 100)} ${t.count}`).join(', ');
  const lines = [
    title,
    `*${plural(summary.alerts, 'event', 'events')} posted*${severities === '' ? '' : `: ${severities}`}`,
    ...(types === '' ? [] : [`Top types: ${types}`]),
    `Scans completed: ${summary.scans} · Events muted: ${summary.muted} · Events gone from Halo: ${summary.gone}`,
  ];
  const blocks: Block[] = [{ type: 'section', text: mrkdwnText(lines.join('\n')) }];
  if (summary.findingsTotal > 0)
    blocks.push({
      type: 'section',
      text: mrkdwnText(
        list('New issues, open ports and certificate risks', summary.findings, summary.findingsTotal),
      ),
    });
  if (summary.unacknowledgedTotal > 0)
    blocks.push({
      type: 'section',
      text: mrkdwnText(list('Still unacknowledged', summary.unacknowledged, summary.unacknowledgedTotal)),
    });
  return {
    text: `Halo summary (${summary.schedule}): ${plural(summary.alerts, 'event', 'events')} posted${summary.late ? ', sent late' : ''}`,
    blocks,
  };
}
