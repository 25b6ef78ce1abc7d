/**
 * Every interactive payload the bot puts in a message: its `action_id` and one encoder and one decoder for its
 * value. Renderers encode, listeners decode, so the two can never drift apart. A value comes back from Slack
 * verbatim but anyone who can sign a request can forge it: decoders check every field and answer `null`.
 */
import { valueProblem } from '../../domain/command-text.ts';
import { haloEventIdOf } from '../../domain/halo-link.ts';
import { EVENTS_PAGE } from '../../domain/paging.ts';
import type { EventListFilter } from '../../domain/event.ts';
import { isSeverity, type Severity } from '../../domain/severity.ts';
import { LIMITS } from './limits.ts';

export const ACTION_IDS = {
  deleteEvent: 'halo_delete_event',
  nextPage: 'halo_events_page',
  homeUnmute: 'halo_home_unmute',
  homeUnsubscribe: 'halo_home_unsubscribe',
  acknowledge: 'halo_ack',
  muteMenu: 'halo_mute_menu',
  unfurlAck: 'halo_unfurl_ack',
  homeNewSubscription: 'halo_home_new_subscription',
  homeEditSubscription: 'halo_home_edit_subscription',
  homePage: 'halo_home_page',
} as const;

/** An ID that travels as itself: no control characters, and not mistakable for the quoted form below. */
const PLAIN_ID = /^[^\p{Cc}"][^\p{Cc}]*$/u;

/**
 * The Delete button's value: the event ID itself, or, when it holds control characters (which a value read as
 * plain text refuses, so that a forged `ev\u0000…` is no event), the ID as a JSON string. `undefined` when it
 * cannot travel intact: a cut ID would delete nothing, or worse, another event.
 */
export function encodeDeleteValue(eventId: string): string | undefined {
  if (eventId === '') return undefined;
  const value = PLAIN_ID.test(eventId) ? eventId : JSON.stringify(eventId);
  return value.length <= LIMITS.buttonValue ? value : undefined;
}

export function decodeDeleteValue(value: unknown): string | null {
  if (typeof value !== 'string' || value === '' || value.length > LIMITS.buttonValue) return null;
  if (PLAIN_ID.test(value)) return value;
  if (!value.startsWith('"')) return null;
  try {
    const id: unknown = JSON.parse(value);
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}

/** Longest filter text a Next page button carries, in code points: what `/halo events` accepts. */
const MAX_FILTER_TEXT = 200;

export interface EventsPageRequest {
  readonly filter: EventListFilter;
  readonly pageSize: number;
  readonly page: number;
}

/** The Next page button's value: `{f: filter, s: page size, p: page}`; `undefined` when too long for a button. */
export function encodeEventsPage(request: EventsPageRequest): string | undefined {
  const value = JSON.stringify({ f: request.filter, s: request.pageSize, p: request.page });
  return value.length <= LIMITS.buttonValue && decodeEventsPage(value) !== null ? value : undefined;
}

export function decodeEventsPage(value: unknown): EventsPageRequest | null {
  let data: unknown;
  try {
    data = JSON.parse(typeof value === 'string' ? value : '');
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const { f, s, p } = data as { f?: unknown; s?: unknown; p?: unknown };
  if (typeof f !== 'object' || f === null) return null;
  const page = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < EVENTS_PAGE.maxPage ? p : null;
  const size = typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= EVENTS_PAGE.maxSize ? s : null;
  if (page === null || size === null) return null;
  const raw = f as Record<string, unknown>;
  const filter: { -readonly [K in keyof EventListFilter]: EventListFilter[K] } = {};
  for (const name of ['key', 'subject', 'detail'] as const) {
    const v = raw[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || Array.from(v).length > MAX_FILTER_TEXT) return null;
    filter[name] = v;
  }
  if (raw.target_id !== undefined) {
    if (typeof raw.target_id !== 'number' || !Number.isSafeInteger(raw.target_id) || raw.target_id < 1)
      return null;
    filter.target_id = raw.target_id;
  }
  return { filter, pageSize: size, page };
}

/**
 * A link preview's Acknowledge button: its value is the Halo link itself, which names the event and is the key
 * `chat.unfurl` needs to redraw the preview. `undefined` when the link is no event link or too long for a button.
 */
export function encodeUnfurlAck(link: string): string | undefined {
  return link.length <= LIMITS.buttonValue && haloEventIdOf(link) !== null ? link : undefined;
}

export function decodeUnfurlAck(value: unknown): { readonly link: string; readonly eventId: string } | null {
  if (typeof value !== 'string' || value.length > LIMITS.buttonValue) return null;
  const eventId = haloEventIdOf(value);
  return eventId === null ? null : { link: value, eventId };
}

/**
 * The subscribe dialog: its callback ID, and one block and action ID per field (the same for both, so that the
 * state Slack sends back is read at `values[id][id]`). The account field would sit between channel and types:
 * today a deployment has one Halo account, so it is left out.
 */
export const DIALOG_IDS = {
  callback: 'halo_subscribe_dialog',
  channel: 'halo_sub_channel',
  types: 'halo_sub_types',
  targets: 'halo_sub_targets',
  severity: 'halo_sub_severity',
  preview: 'halo_sub_preview',
} as const;

/** The dialog's `private_metadata`: the subscription it edits (its channel and ID), or none for a new one. */
export interface DialogMetadata {
  readonly editing: { readonly channel: string; readonly id: number } | null;
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;
const POSITIVE_ID = /^[1-9][0-9]{0,9}$/;

const SUBSCRIPTION_REF = new RegExp(
  `^(${CHANNEL_ID.source.slice(1, -1)}):(${POSITIVE_ID.source.slice(1, -1)})$`,
);

/**
 * One subscription named as `channel:ID`: the App Home's Unsubscribe and Edit buttons and the dialog's metadata
 * all carry it.
 */
export function encodeSubscriptionRef(channel: string, id: number): string {
  return `${channel}:${id}`;
}

export function decodeSubscriptionRef(value: unknown): { channel: string; id: number } | null {
  const match = typeof value === 'string' ? SUBSCRIPTION_REF.exec(value) : null;
  return match === null ? null : { channel: match[1]!, id: Number(match[2]) };
}

export function encodeDialogMetadata(metadata: DialogMetadata): string {
  return metadata.editing === null
    ? ''
    : encodeSubscriptionRef(metadata.editing.channel, metadata.editing.id);
}

export function decodeDialogMetadata(value: unknown): DialogMetadata | null {
  if (value === '' || value === undefined) return { editing: null };
  const editing = decodeSubscriptionRef(value);
  return editing === null ? null : { editing };
}

/** A target option's value: the target's ID. */
export function encodeTargetOption(id: number): string {
  return String(id);
}

export function decodeTargetOption(value: unknown): number | null {
  return typeof value === 'string' && POSITIVE_ID.test(value) && Number(value) <= 2 ** 31 - 1
    ? Number(value)
    : null;
}

/** The Edit button's value on the App Home: the same `channel:ID` as Unsubscribe's. */
export const encodeEditValue = encodeSubscriptionRef;
export const decodeEditValue = decodeSubscriptionRef;

/** What the dialog's fields hold, read from `view.state.values`; each field's problem when one is invalid. */
export type DialogState =
  | {
      readonly ok: true;
      readonly channel: string;
      readonly keys: string[];
      readonly targetIds: number[];
      /** The targets with the names their options showed, to show them again. */
      readonly targets: { readonly id: number; readonly label: string }[];
      readonly minSeverity: Severity | null;
    }
  | { readonly ok: false; readonly errors: Record<string, string> };

/** Limits of the command (command-parse.ts): at most this many keys and targets. */
const MAX_PICKED = 20;

export function decodeDialogState(values: unknown): DialogState {
  const field = (id: string): Record<string, unknown> => {
    const block = (values as Record<string, unknown> | undefined)?.[id];
    const element = (block as Record<string, unknown> | undefined)?.[id];
    return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
  };
  const picked = (id: string): unknown[] => {
    const options = field(id).selected_options;
    return Array.isArray(options) ? options.map((o) => (o as { value?: unknown } | null)?.value) : [];
  };
  const errors: Record<string, string> = {};
  const channel = field(DIALOG_IDS.channel).selected_conversation;
  if (typeof channel !== 'string' || !CHANNEL_ID.test(channel))
    errors[DIALOG_IDS.channel] = 'Pick the channel the alerts go to.';
  const rawKeys = picked(DIALOG_IDS.types);
  // A key as the command takes it (`key:K`): no control characters, at most 200 characters.
  const keys = rawKeys.filter(
    (k): k is string => typeof k === 'string' && valueProblem('key', k, false) === null,
  );
  if (keys.length !== rawKeys.length) errors[DIALOG_IDS.types] = 'An event type is not valid; pick it again.';
  else if (keys.length > MAX_PICKED)
    errors[DIALOG_IDS.types] = `At most ${MAX_PICKED} event types, got ${keys.length}.`;
  const rawTargets = (field(DIALOG_IDS.targets).selected_options ?? []) as unknown[];
  const targets = (Array.isArray(rawTargets) ? rawTargets : []).flatMap((o) => {
    const { value, text } = (o ?? {}) as { value?: unknown; text?: { text?: unknown } };
    const id = decodeTargetOption(value);
    const label = typeof text?.text === 'string' && text.text !== '' ? text.text : `Target ${id}`;
    return id === null ? [] : [{ id, label: label.slice(0, LIMITS.optionText) }];
  });
  const targetIds = targets.map((t) => t.id);
  if (!Array.isArray(rawTargets) || targetIds.length !== rawTargets.length)
    errors[DIALOG_IDS.targets] = 'A target is not a valid ID; pick it again.';
  else if (targetIds.length > MAX_PICKED)
    errors[DIALOG_IDS.targets] = `At most ${MAX_PICKED} targets, got ${targetIds.length}.`;
  const severity = (field(DIALOG_IDS.severity).selected_option as { value?: unknown } | null | undefined)
    ?.value;
  const minSeverity = typeof severity === 'string' && isSeverity(severity) ? severity : null;
  if (severity !== undefined && severity !== null && minSeverity === null)
    errors[DIALOG_IDS.severity] = 'Pick a severity from the list.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const unique = targets.filter((t, i) => targetIds.indexOf(t.id) === i);
  return {
    ok: true,
    channel: channel as string,
    keys: [...new Set(keys)],
    targetIds: unique.map((t) => t.id),
    targets: unique,
    minSeverity,
  };
}

/** The App Home's Previous and Next buttons: the page they show, from 0. */
export function encodeHomePage(page: number): string {
  return String(page);
}

export function decodeHomePage(value: unknown): number | null {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,3})$/.test(value) ? Number(value) : null;
}
