/**
 * Every interactive payload the bot puts in a message: its `action_id` and one encoder and one decoder for its
 * value. Renderers encode, listeners decode, so the two can never drift apart. A value comes back from Slack
 * verbatim but anyone who can sign a request can forge it: decoders check every field and answer `null`.
 */
import { haloEventIdOf } from '../../domain/halo-link.ts';
import { EVENTS_PAGE } from '../../domain/paging.ts';
import type { EventListFilter } from '../../domain/event.ts';
import { LIMITS } from './limits.ts';

export const ACTION_IDS = {
  deleteEvent: 'halo_delete_event',
  nextPage: 'halo_events_page',
  homeUnmute: 'halo_home_unmute',
  homeUnsubscribe: 'halo_home_unsubscribe',
  acknowledge: 'halo_ack',
  muteMenu: 'halo_mute_menu',
  unfurlAck: 'halo_unfurl_ack',
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
