/**
 * The preview of a pasted Halo event link: a compact card (severity, subject, target, time, and acknowledged or
 * gone) that `chat.unfurl` attaches to someone else's message. It offers Acknowledge, cheap and shared; never
 * Delete, which does not belong under a message its author cannot take back. Pure.
 */
import type { Severity } from '../../domain/severity.ts';
import type { HaloEvent } from '../../domain/event.ts';
import { ackNames, type AckView } from './alert-actions.ts';
import { targetText } from './alert.ts';
import { cleanText, code, mentionUser, mrkdwn, slackDate } from './escape.ts';
import { ACTION_IDS, encodeUnfurlAck } from './payloads.ts';
import { SEVERITY_STYLE, severityLabel } from './severity-style.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import { haloDate } from './slack-date.ts';
import type { Block } from './types.ts';

export const UNFURL_ACK_ACTION_ID = ACTION_IDS.unfurlAck;

/** What the card shows: the preview a `LinkPreviews` found, its event's severity and Halo's zone. */
export type PreviewView =
  | {
      readonly kind: 'event';
      readonly event: HaloEvent;
      readonly severity: Severity;
      readonly acks: readonly AckView[];
    }
  | {
      readonly kind: 'gone';
      readonly eventId: string;
      readonly event: HaloEvent | null;
      readonly severity: Severity | null;
      readonly deletedBy: { readonly userId: string; readonly at: Date } | null;
    };

/** Room in the card's one section for the subject line and the detail line. */
const SUBJECT = 300;
const DETAIL = { key: 200, target: 1700, time: 300 } as const;
/** Acknowledgements named on the card; each takes about 100 characters of its 3000. */
const NAMED_ACKS = 5;

/** The card for `link`: blocks and a colour bar, the shape of one entry of `chat.unfurl`'s `unfurls`. */
export function renderPreview(
  link: string,
  view: PreviewView,
  timeZone: string,
): { blocks: Block[]; color?: string } {
  const event = view.event;
  const severity = view.severity;
  const subject = event === null ? '' : mrkdwn(oneLine(cleanText(event.subject)), SUBJECT);
  const head = severity === null ? '' : `${severityLabel(severity)} · `;
  const id = view.kind === 'gone' ? view.eventId : view.event.eventId;
  const title = `*${head}${subject || `Halo event ${code(oneLine(id), 100)}`}*`;
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwnText(`${title}\n${event === null ? '' : detail(event, timeZone)}`.trim()),
    },
  ];
  if (view.kind === 'gone') {
    const by = view.deletedBy;
    const when = by === null ? undefined : slackDate(by.at);
    const note =
      by === null
        ? ':wastebasket: This event no longer exists in Halo'
        : `:wastebasket: Deleted from Halo by ${mentionUser(by.userId)}${when === undefined ? '' : ` ${when}`}`;
    blocks.push({ type: 'context', elements: [mrkdwnText(note)] });
  } else {
    if (view.acks.length > 0) {
      // A card stays compact: the first few names, then how many more (a cut mention would show as markup).
      const names = ackNames(view.acks.slice(0, NAMED_ACKS));
      const more = view.acks.length - names.length;
      const note = `:eyes: Acknowledged by ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
      blocks.push({ type: 'context', elements: [mrkdwnText(note)] });
    }
    // As on an alert, the button goes once someone has acknowledged the event.
    const value = view.acks.length === 0 ? encodeUnfurlAck(link) : undefined;
    if (value !== undefined) {
      blocks.push({
        type: 'actions',
        elements: [
          { type: 'button', text: plainText('Acknowledge'), action_id: UNFURL_ACK_ACTION_ID, value },
        ],
      });
    }
  }
  return severity === null ? { blocks } : { blocks, color: SEVERITY_STYLE[severity].color };
}

/** `key` on target · time, one line; each part has its own budget, so together they fit the section. */
function detail(event: HaloEvent, timeZone: string): string {
  const key = code(oneLine(event.key), DETAIL.key);
  const target = targetText(event, DETAIL.target);
  const time = haloDate(event.dateCreated, timeZone, DETAIL.time);
  return [target === '' ? key : `${key} on ${target}`, time].filter((part) => part !== '').join(' · ');
}
