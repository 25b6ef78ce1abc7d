import { defaultSeverityOf, type Severity } from '../../domain/severity.ts';
import type { HaloEvent } from '../../domain/event.ts';
import { accountLine } from './account-line.ts';
import { ackButton, muteMenu } from './alert-actions.ts';
import { cleanText, code, mentionUser, mrkdwn, mrkdwnLink, plain, slackDate } from './escape.ts';
import { LIMITS } from './limits.ts';
import { ACTION_IDS, encodeDeleteValue } from './payloads.ts';
import { SEVERITY_STYLE, severityLabel } from './severity-style.ts';
import { haloDate } from './slack-date.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import type { Block, ButtonElement, ContextBlock, SectionBlock, SlackMessage } from './types.ts';

/** The `action_id` of the Delete event button; the interaction handler listens for it. */
export const DELETE_ACTION_ID = ACTION_IDS.deleteEvent;
export const ALERT_ACTIONS_BLOCK_ID = 'halo_alert_actions';
/** Marks the "Deleted by" note, so rendering a deletion twice replaces the note instead of stacking it. */
export const DELETED_BLOCK_ID = 'halo_deleted';

const NO_VALUE = '—';
const DEFAULT_SUBJECT = 'Halo Security event';

/** Budgets for the notification fallback: a phone shows about two lines of it. */
const FALLBACK = { subject: 200, key: 100, host: 150 } as const;
/** Budgets inside a 2000-character field, so the target's ID survives a huge name or host. */
const TARGET = { name: 600, host: 1000 } as const;
/** Enough of an event ID to recognise it in prose; the button value carries the whole ID. */
const ID_IN_PROSE = 60;

export interface AlertOptions {
  /** Default: the built-in table's level for the event's key. */
  readonly severity?: Severity;
  /** The zone Halo's dates are in (`HALO_TIMEZONE`); default UTC. */
  readonly timeZone?: string;
  /** The Halo account's name, shown when the workspace has several (see Display.accountName). */
  readonly accountName?: string;
  /** One line under the header, e.g. a scan thread's "Scan complete · 3 new issues". Already safe mrkdwn. */
  readonly summary?: string;
  /**
   * `false` for an event shown privately (`/halo event`): Acknowledge and Mute act on a message in a channel, so
   * only Delete is offered there.
   */
  readonly inChannel?: boolean;
  /** The event's account: its buttons name it, so that they act in that account only. Absent: the env account. */
  readonly account?: string;
}

/**
 * The alert for one new event, severity first: in the header, the notification text, an emoji and word, and
 * the colour bar. Then what happened, to which target, when (in the reader's zone), a link and a Delete button.
 */
export function renderAlert(event: HaloEvent, options: AlertOptions = {}): SlackMessage {
  const severity = options.severity ?? defaultSeverityOf(event.key);
  const timeZone = options.timeZone ?? 'UTC';
  const inChannel = options.inChannel ?? true;
  const subject = oneLine(cleanText(event.subject));
  const label = `${severityLabel(severity)} · `;
  const blocks: Block[] = [
    {
      type: 'header',
      text: {
        ...plainText(label + (plain(subject, LIMITS.headerText - label.length) || DEFAULT_SUBJECT)),
        emoji: true,
      },
    },
  ];
  if (options.accountName !== undefined) blocks.push(accountLine(options.accountName));
  if (options.summary !== undefined && options.summary !== '') {
    blocks.push({ type: 'section', text: mrkdwnText(options.summary.slice(0, LIMITS.sectionText)) });
  }
  blocks.push({
    type: 'section',
    fields: [
      field('Event', (budget) => code(oneLine(event.key), budget)),
      field('Target', (budget) => targetText(event, budget)),
      field('Created', (budget) => haloDate(event.dateCreated, timeZone, budget) || 'unknown'),
      field('Event ID', (budget) => mrkdwn(oneLine(event.eventId), budget)),
    ],
  });
  const link = mrkdwnLink(event.url, 'View in Halo');
  // A URL too long for a text object cannot be shortened without breaking it: better no link than a wrong one.
  if (link !== undefined && link.length <= LIMITS.contextText) {
    blocks.push({ type: 'context', elements: [mrkdwnText(link)] });
  }
  const button = deleteButton(event, subject, options.account);
  // Without an ID that travels whole, no action can name the event: none is offered.
  if (button !== undefined) {
    const ack = inChannel ? ackButton(event.eventId, options.account) : undefined;
    const menu = inChannel ? muteMenu(event, options.account) : undefined;
    const elements = [...(ack === undefined ? [] : [ack]), button, ...(menu === undefined ? [] : [menu])];
    blocks.push({ type: 'actions', block_id: ALERT_ACTIONS_BLOCK_ID, elements });
  }
  return {
    text: `${SEVERITY_STYLE[severity].word}: ${alertFallback(event, subject)}`,
    blocks,
    color: SEVERITY_STYLE[severity].color,
  };
}

export interface DeletedInfo {
  readonly eventId: string;
  /** From Slack's signed payload; still checked before it goes into `<@…>`. */
  readonly userId: string;
  readonly at: Date;
  /** Halo answered "event not found": someone deleted it first. */
  readonly alreadyDeleted: boolean;
}

/**
 * The alert after its event was deleted: the original blocks without the Delete button, plus who did it and when.
 * `original` is undefined for ephemeral messages, whose interaction payload carries no blocks.
 */
export function renderDeleted(original: readonly Block[] | undefined, info: DeletedInfo): SlackMessage {
  const who = mentionUser(info.userId);
  const date = slackDate(info.at);
  const when = date === undefined ? '' : ` ${date}`;
  const note = info.alreadyDeleted
    ? `:wastebasket: This event was already deleted in Halo (checked by ${who}${when})`
    : `:wastebasket: Deleted by ${who}${when}`;
  const noteBlock: ContextBlock = {
    type: 'context',
    block_id: DELETED_BLOCK_ID,
    elements: [mrkdwnText(note)],
  };

  const kept = (original ?? []).filter(
    (block) => !isDeleteActions(block) && block.block_id !== DELETED_BLOCK_ID,
  );
  const eventCode = code(info.eventId, 200) || NO_VALUE;
  const body: Block[] =
    kept.length > 0
      ? kept
      : [{ type: 'section', text: mrkdwnText(`Halo event ${eventCode}`) } satisfies SectionBlock];

  const eventText = mrkdwn(info.eventId, ID_IN_PROSE) || NO_VALUE;
  const text = info.alreadyDeleted
    ? `Halo event ${eventText} was already deleted in Halo (checked by ${who})`
    : `Halo event ${eventText} deleted by ${who}`;
  return { text, blocks: [...body.slice(0, LIMITS.blocksPerMessage - 1), noteBlock] };
}

function isDeleteActions(block: Block): boolean {
  return block.type === 'actions' && block.elements.some((element) => element.action_id === DELETE_ACTION_ID);
}

/**
 * A `*Label*` field whose value gets whatever room the label leaves. The value is one line, whatever Halo sent:
 * a newline in it could start a line that fakes another bold label.
 */
function field(label: string, value: (budget: number) => string) {
  const heading = `*${label}*\n`;
  return mrkdwnText(heading + (oneLine(value(LIMITS.fieldText - heading.length)) || NO_VALUE));
}

/** `name · host · ID 42`, within `budget` characters of mrkdwn; '' without a target. */
export function targetText(event: HaloEvent, budget: number): string {
  const target = event.target;
  if (target === null) return '';
  const host = oneLine(cleanText(target.host));
  const name = oneLine(cleanText(target.name));
  const parts = [
    name === host ? '' : mrkdwn(name, TARGET.name),
    mrkdwn(host, TARGET.host),
    target.id === null ? '' : `ID ${target.id}`,
  ].filter((part) => part !== '');
  const text = parts.join(' · ');
  // The budgets above already fit a field; this only guards against a future change to them.
  return text.length <= budget ? text : mrkdwn(text, budget);
}

/**
 * The Delete button, or nothing when the event cannot be deleted from it: the button's value is the only place
 * the ID travels to the interaction handler, and a cut ID would delete nothing, or worse, another event.
 */
function deleteButton(event: HaloEvent, subject: string, account?: string): ButtonElement | undefined {
  const value = encodeDeleteValue(event.eventId, account);
  if (value === undefined) return undefined;
  return {
    type: 'button',
    text: plainText('Delete event'),
    action_id: DELETE_ACTION_ID,
    value,
    style: 'danger',
    confirm: {
      title: plainText('Delete this event?'),
      text: plainText(confirmText(subject, event.eventId)),
      confirm: plainText('Delete'),
      deny: plainText('Cancel'),
    },
  };
}

function confirmText(subject: string, eventId: string): string {
  const suffix = `(event ${plain(oneLine(eventId), ID_IN_PROSE)}) will be deleted from Halo Security.`;
  if (subject === '') return `This event ${suffix}`;
  const room = LIMITS.confirmText - suffix.length - 3;
  return `“${plain(subject, room)}” ${suffix}`;
}

/** `<subject> — <key> on <host>`, the text notifications and screen readers use; mrkdwn rules apply to it. */
function alertFallback(event: HaloEvent, subject: string): string {
  const head = mrkdwn(subject, FALLBACK.subject) || DEFAULT_SUBJECT;
  const key = mrkdwn(oneLine(event.key), FALLBACK.key);
  const target = event.target;
  const where = target === null ? '' : oneLine(cleanText(target.host)) || oneLine(cleanText(target.name));
  const host = mrkdwn(where, FALLBACK.host);
  const on = host === '' ? '' : ` on ${host}`;
  return key === '' ? `${head}${on}` : `${head} — ${key}${on}`;
}
