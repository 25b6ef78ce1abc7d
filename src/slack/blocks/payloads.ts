/**
 * Every interactive payload the bot puts in a message: its `action_id` and one encoder and one decoder for its
 * value. Renderers encode, listeners decode, so the two can never drift apart. A value comes back from Slack
 * verbatim but anyone who can sign a request can forge it: decoders check every field and answer `null`. The
 * subscribe dialog's are in dialog-payloads.ts.
 */
import { haloEventIdOf } from '../../domain/halo-link.ts';
import { EVENTS_PAGE } from '../../domain/paging.ts';
import type { EventListFilter } from '../../domain/event.ts';
import type { ENV_ACCOUNT } from '../../pipeline/tenancy-port.ts';
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
  disconnectConfirm: 'halo_disconnect_confirm',
} as const;

/** An ID that travels as itself: no control characters, and not mistakable for the quoted form below. */
const PLAIN_ID = /^[^\p{Cc}"][^\p{Cc}]*$/u;

/** The env account's ID: its buttons keep the values of a release before accounts, which mean it. */
export const ENV: typeof ENV_ACCOUNT = 'env';

/** An event of an account, as the alert's buttons name it. `account` undefined: a button from before accounts. */
export interface EventRef {
  readonly account: string | undefined;
  readonly eventId: string;
}

/** An account ID as it travels: opaque, short, no control characters. */
export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && /^[^\p{Cc}]{1,100}$/u.test(value);
}

/**
 * An event of another account than the env one: `{"a":ACCOUNT,"e":EVENT_ID}`. Old values are an event ID (or a
 * JSON string); one that starts with `{` and reads as such an object is taken as this form.
 */
function encodeAccountEvent(ref: EventRef): string | undefined {
  if (ref.account === undefined || ref.account === ENV) return undefined;
  if (!isAccountId(ref.account) || ref.eventId === '') return undefined;
  const value = JSON.stringify({ a: ref.account, e: ref.eventId });
  return value.length <= LIMITS.buttonValue ? value : undefined;
}

/** The account form; null when `value` is not it, 'forged' when it reads as it but names no account or event. */
function decodeAccountEvent(value: string): EventRef | null | 'forged' {
  if (!value.startsWith('{')) return null;
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const { a, e } = data as { a?: unknown; e?: unknown };
  return isAccountId(a) && typeof e === 'string' && e !== '' ? { account: a, eventId: e } : 'forged';
}

/**
 * The Delete button's value. The env account's: the event ID itself, or, when it holds control characters
 * (which a value read as plain text refuses, so that a forged `ev\u0000…` is no event) or could read as the
 * account form, the ID as a JSON string. Another account's: `{"a":…,"e":…}`. `undefined` when it cannot travel
 * intact: a cut ID would delete nothing, or worse, another event.
 */
export function encodeDeleteValue(eventId: string, account?: string): string | undefined {
  if (eventId === '') return undefined;
  if (account !== undefined && account !== ENV) return encodeAccountEvent({ account, eventId });
  const value = PLAIN_ID.test(eventId) && !eventId.startsWith('{') ? eventId : JSON.stringify(eventId);
  return value.length <= LIMITS.buttonValue ? value : undefined;
}

export function decodeDeleteValue(value: unknown): EventRef | null {
  if (typeof value !== 'string' || value === '' || value.length > LIMITS.buttonValue) return null;
  const withAccount = decodeAccountEvent(value);
  if (withAccount === 'forged') return null;
  if (withAccount !== null) return withAccount;
  if (PLAIN_ID.test(value)) return { account: undefined, eventId: value };
  if (!value.startsWith('"')) return null;
  try {
    const id: unknown = JSON.parse(value);
    return typeof id === 'string' && id !== '' ? { account: undefined, eventId: id } : null;
  } catch {
    return null;
  }
}

/** The Acknowledge button's value: the event ID (the env account's), or `{"a":…,"e":…}` (another account's). */
export function encodeAckValue(eventId: string, account?: string): string | undefined {
  if (account !== undefined && account !== ENV) return encodeAccountEvent({ account, eventId });
  return eventId !== '' && eventId.length <= LIMITS.buttonValue ? eventId : undefined;
}

export function decodeAckValue(value: unknown): EventRef | null {
  if (typeof value !== 'string' || !/^[^\p{Cc}]{1,2000}$/u.test(value)) return null;
  const withAccount = decodeAccountEvent(value);
  return withAccount === 'forged' ? null : (withAccount ?? { account: undefined, eventId: value });
}

/** Longest filter text a Next page button carries, in code points: what `/halo events` accepts. */
const MAX_FILTER_TEXT = 200;

export interface EventsPageRequest {
  readonly filter: EventListFilter;
  readonly pageSize: number;
  readonly page: number;
  /** The account listed; absent: a button from before accounts (the env account). */
  readonly account?: string;
}

/**
 * The Next page button's value: `{f: filter, s: page size, p: page, a: account}` (no `a` for the env account);
 * `undefined` when too long for a button.
 */
export function encodeEventsPage(request: EventsPageRequest): string | undefined {
  const account = request.account === undefined || request.account === ENV ? {} : { a: request.account };
  const value = JSON.stringify({ f: request.filter, s: request.pageSize, p: request.page, ...account });
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
  const { f, s, p, a } = data as { f?: unknown; s?: unknown; p?: unknown; a?: unknown };
  if (typeof f !== 'object' || f === null) return null;
  if (a !== undefined && !isAccountId(a)) return null;
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
  return a === undefined ? { filter, pageSize: size, page } : { filter, pageSize: size, page, account: a };
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

/** A channel ID as Slack writes it, and a positive 32-bit-or-less ID as the bot numbers subscriptions. */
export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,30}$/;
export const POSITIVE_ID = /^[1-9][0-9]{0,9}$/;

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

/** The Edit button's value on the App Home: the same `channel:ID` as Unsubscribe's. */
export const encodeEditValue = encodeSubscriptionRef;
export const decodeEditValue = decodeSubscriptionRef;

/** The App Home's Previous and Next buttons: the page they show, from 0. */
export function encodeHomePage(page: number): string {
  return String(page);
}

export function decodeHomePage(value: unknown): number | null {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,3})$/.test(value) ? Number(value) : null;
}

/** The connect modal (`/halo connect`): its callback ID, and one block and action ID per field (as the dialog's). */
export const CONNECT_IDS = {
  callback: 'halo_connect_dialog',
  name: 'halo_connect_name',
  key: 'halo_connect_key',
  url: 'halo_connect_url',
} as const;

/** Longest key or URL the modal's fields take: what a Halo key or address is, with room to spare. */
export const CONNECT_FIELD_MAX = { name: 40, key: 200, url: 300 } as const;

/** The connect modal's `private_metadata`: the channel `/halo connect` was typed in (to answer there), or none. */
export function encodeConnectMetadata(channel: string | null): string {
  return channel !== null && CHANNEL_ID.test(channel) ? channel : '';
}

export function decodeConnectMetadata(value: unknown): { readonly channel: string | null } {
  return { channel: typeof value === 'string' && CHANNEL_ID.test(value) ? value : null };
}

/** What the connect modal's fields hold (`url` null when left empty), or each field's problem. */
export type ConnectState =
  | { readonly ok: true; readonly name: string; readonly apiKey: string; readonly apiUrl: string | null }
  | { readonly ok: false; readonly errors: Record<string, string> };

export function decodeConnectState(values: unknown): ConnectState {
  const text = (id: string): unknown => {
    const block = (values as Record<string, unknown> | undefined)?.[id];
    const element = (block as Record<string, unknown> | undefined)?.[id];
    return (element as { value?: unknown } | undefined)?.value;
  };
  const errors: Record<string, string> = {};
  const read = (id: string, max: number, required: string | null): string | null => {
    const value = text(id);
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      if (required !== null) errors[id] = required;
      return null;
    }
    if (typeof value !== 'string' || value.length > max || /\p{Cc}/u.test(value)) {
      errors[id] = `At most ${max} characters, without line breaks.`;
      return null;
    }
    return value.trim();
  };
  const name = read(CONNECT_IDS.name, CONNECT_FIELD_MAX.name, 'Name the account, e.g. Production.');
  const apiKey = read(CONNECT_IDS.key, CONNECT_FIELD_MAX.key, 'Paste the account’s Halo API key.');
  const apiUrl = read(CONNECT_IDS.url, CONNECT_FIELD_MAX.url, null);
  if (Object.keys(errors).length > 0 || name === null || apiKey === null) return { ok: false, errors };
  return { ok: true, name, apiKey, apiUrl };
}

/** The disconnect confirmation's button: the account's ID (never its name, which a new account could take). */
export function encodeDisconnectValue(accountId: string): string | undefined {
  return isAccountId(accountId) ? accountId : undefined;
}

export function decodeDisconnectValue(value: unknown): string | null {
  return isAccountId(value) ? value : null;
}
