/**
 * The alert's cheap, reversible actions: an Acknowledge button and a Mute menu, with one encoder and one decoder
 * for each value, and the alert as it looks once acknowledged. Pure.
 */
import type { HaloEvent } from '../../domain/event.ts';
import type { ENV_ACCOUNT } from '../../pipeline/tenancy-port.ts';
import { cleanText, mentionUser, mrkdwn, plain, slackDate } from './escape.ts';
import { LIMITS } from './limits.ts';
import { ACTION_IDS, encodeAckValue } from './payloads.ts';
export { decodeAckValue, encodeAckValue } from './payloads.ts';
import { mrkdwnText, oneLine, plainText } from './text.ts';
import type { Block, ButtonElement, ContextBlock, OptionGroup, StaticSelectElement } from './types.ts';

export const ACK_ACTION_ID = ACTION_IDS.acknowledge;
export const MUTE_MENU_ACTION_ID = ACTION_IDS.muteMenu;
/** Marks the "Acknowledged by" note, so a later click replaces it instead of stacking another. */
export const ACKED_BLOCK_ID = 'halo_acked';

/** The menu's durations, as `/halo mute for:` spells them. */
export const MUTE_MENU_DURATIONS = ['1h', '24h', '7d'] as const;
export type MuteMenuDuration = (typeof MUTE_MENU_DURATIONS)[number];
const DURATION_WORDS: Readonly<Record<MuteMenuDuration, string>> = {
  '1h': '1 h',
  '24h': '24 h',
  '7d': '7 d',
};

export type MuteChoice = (
  | { readonly kind: 'key'; readonly key: string; readonly duration: MuteMenuDuration }
  | {
      readonly kind: 'target';
      readonly targetId: number;
      /** The target's host as the alert showed it: only a label, cut to fit. */
      readonly label: string;
      readonly duration: MuteMenuDuration;
    }
) & {
  /** The alert's account; absent: the env account (and every menu from before accounts). */
  readonly account?: string;
};

/** The env account's ID (pipeline/tenancy-port.ts): its menus keep the values of a release before accounts. */
const ENV: typeof ENV_ACCOUNT = 'env';

/**
 * A mute option's value: `k|1h|KEY` or `t|1h|ID|HOST`, after `@ACCOUNT|` for another account than the env one;
 * undefined when the key does not fit (150 characters).
 */
export function encodeMuteChoice(choice: MuteChoice): string | undefined {
  const named = choice.account !== undefined && choice.account !== ENV;
  if (named && (choice.account === '' || /[|\p{Cc}]/u.test(choice.account))) return undefined;
  const account = named ? `@${choice.account}|` : '';
  if (choice.kind === 'key') {
    const value = `${account}k|${choice.duration}|${choice.key}`;
    return value.length <= LIMITS.optionValue ? value : undefined;
  }
  const head = `${account}t|${choice.duration}|${choice.targetId}|`;
  return head.length < LIMITS.optionValue
    ? head + choice.label.slice(0, LIMITS.optionValue - head.length)
    : undefined;
}

export function decodeMuteChoice(value: unknown): MuteChoice | null {
  if (typeof value !== 'string' || value.length > LIMITS.optionValue || /\p{Cc}/u.test(value)) return null;
  const parts = value.split('|');
  const account = parts[0]?.startsWith('@') === true ? parts.shift()!.slice(1) : undefined;
  if (account === '') return null;
  const with_ = account === undefined ? {} : { account };
  const [kind, duration, ...rest] = parts;
  if (!MUTE_MENU_DURATIONS.includes(duration as MuteMenuDuration)) return null;
  const d = duration as MuteMenuDuration;
  if (kind === 'k') {
    const key = rest.join('|');
    return key === '' ? null : { kind: 'key', key, duration: d, ...with_ };
  }
  if (kind === 't' && /^[1-9][0-9]{0,9}$/.test(rest[0] ?? '') && Number(rest[0]) <= 2 ** 31 - 1) {
    return {
      kind: 'target',
      targetId: Number(rest[0]),
      label: rest.slice(1).join('|'),
      duration: d,
      ...with_,
    };
  }
  return null;
}

export function ackButton(eventId: string, account?: string): ButtonElement | undefined {
  const value = encodeAckValue(eventId, account);
  if (value === undefined) return undefined;
  return {
    type: 'button',
    text: plainText('Acknowledge'),
    action_id: ACK_ACTION_ID,
    value,
    style: 'primary',
  };
}

/** "Mute “<type name>” / <target> in this channel for 1 h, 24 h or 7 d", grouped so the menu reads as a sentence. */
export function muteMenu(event: HaloEvent, account?: string): StaticSelectElement | undefined {
  const of = account === undefined ? {} : { account };
  const groups: OptionGroup[] = [];
  // The labels are shown: cleaned like every text from Halo. The type goes by its name, as in the alert's header
  // (its key only when Halo sent no subject); the option's value carries the key exactly, to match events.
  const subject = oneLine(cleanText(event.subject));
  const type = subject === '' ? oneLine(cleanText(event.key)) : `“${subject}”`;
  const keyOptions = MUTE_MENU_DURATIONS.flatMap((duration) => {
    const value = encodeMuteChoice({ kind: 'key', key: event.key, duration, ...of });
    return value === undefined ? [] : [{ text: plainText(`for ${DURATION_WORDS[duration]}`), value }];
  });
  if (type !== '' && keyOptions.length > 0)
    groups.push({ label: plainText(plain(`Mute ${type} here`, LIMITS.optionText)), options: keyOptions });
  const target = event.target;
  if (target?.id !== null && target?.id !== undefined) {
    const label = oneLine(cleanText(target.host)) || oneLine(cleanText(target.name)) || `target ${target.id}`;
    groups.push({
      label: plainText(plain(`Mute ${label} here`, LIMITS.optionText)),
      options: MUTE_MENU_DURATIONS.map((duration) => ({
        text: plainText(`for ${DURATION_WORDS[duration]}`),
        value: encodeMuteChoice({ kind: 'target', targetId: target.id!, label, duration, ...of }),
      })).flatMap((option) => (option.value === undefined ? [] : [{ ...option, value: option.value }])),
    });
  }
  if (groups.length === 0) return undefined;
  return {
    type: 'static_select',
    action_id: MUTE_MENU_ACTION_ID,
    placeholder: plainText('Mute…'),
    option_groups: groups,
  };
}

export interface AckView {
  readonly userId: string;
  readonly at: Date;
}

/** "<@U1> <date>" for each acknowledgement, in order: the names an acknowledged alert or preview shows. */
export function ackNames(acks: readonly AckView[]): string[] {
  return acks.map((ack) => {
    const when = slackDate(ack.at);
    return when === undefined ? mentionUser(ack.userId) : `${mentionUser(ack.userId)} ${when}`;
  });
}

/**
 * The alert once acknowledged: the same blocks without the Acknowledge button, and one note naming everyone who
 * acknowledged it, in order, each with their time. `original` comes from the click's payload.
 */
export function renderAcknowledged(
  original: readonly Block[],
  acks: readonly AckView[],
  eventId: string,
): { text: string; blocks: Block[] } {
  const names = ackNames(acks);
  const note: ContextBlock = {
    type: 'context',
    block_id: ACKED_BLOCK_ID,
    elements: [mrkdwnText(`:eyes: Acknowledged by ${names.join(', ')}`)],
  };
  const blocks: Block[] = [];
  for (const block of original) {
    if (block.block_id === ACKED_BLOCK_ID) continue;
    if (block.type !== 'actions') {
      blocks.push(block);
      continue;
    }
    const elements = block.elements.filter((element) => element.action_id !== ACK_ACTION_ID);
    blocks.push(note);
    if (elements.length > 0) blocks.push({ ...block, elements });
  }
  if (!blocks.includes(note)) blocks.push(note);
  const who = acks.map((ack) => mentionUser(ack.userId)).join(', ');
  const text = `Halo event ${mrkdwn(eventId, 60)} acknowledged by ${who}`;
  return { text, blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}
