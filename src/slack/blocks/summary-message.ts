import type { SummaryEntry, SummaryPayload } from '../../pipeline/summaries.ts';
import { code, mrkdwn, mrkdwnLink, slackDate } from './escape.ts';
import { severityLabel } from './severity-style.ts';
import { mrkdwnText } from './text.ts';
import type { Block, SlackMessage } from './types.ts';

/** Room for one listed event: a section holds 3000 characters and lists at most 10. */
const ENTRY_MAX = 250;

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/** `New Open Port on www.example.com` linked to the event in Halo. */
function entryLine(entry: SummaryEntry): string {
  const label = entry.target === '' ? entry.subject : `${entry.subject} on ${entry.target}`;
  return `• ${mrkdwnLink(entry.url, label.slice(0, ENTRY_MAX)) ?? mrkdwn(label, ENTRY_MAX)}`;
}

function list(title: string, entries: readonly SummaryEntry[], total: number): string {
  const more = total > entries.length ? `\n…and ${total - entries.length} more` : '';
  return `*${title} (${total})*\n${entries.map(entryLine).join('\n')}${more}`;
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
