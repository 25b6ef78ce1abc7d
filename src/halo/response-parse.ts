/**
 * Pure validation of Halo response bodies. Nothing from the wire is trusted: every field is checked, an error body
 * is recognised whatever the HTTP status, and a malformed event is counted and skipped rather than failing a page
 * (one bad record must not block every scan after it).
 */
import type { HaloEvent, HaloEventType, HaloTarget } from '../domain/event.ts';

export type Json = unknown;

export interface ErrorBody {
  readonly code: number;
  readonly message: string;
}

export interface ListBody<T> {
  readonly items: T[];
  /** Items that were present but malformed. */
  readonly invalid: number;
  /** `pagination.total` when Halo sent it. */
  readonly total: number | null;
}

/** Returns a problem description, or the parsed JSON. */
export function parseJson(text: string): { ok: true; json: Json } | { ok: false; problem: string } {
  try {
    return { ok: true, json: JSON.parse(text) as Json };
  } catch {
    const start = text.trimStart().slice(0, 1);
    const kind =
      start === '<' ? 'HTML or XML' : text.trim() === '' ? 'an empty body' : 'text that is not JSON';
    // `length` counts characters (UTF-16 units), which are not bytes once the body holds any non-ASCII text.
    return { ok: false, problem: `${kind} (${text.length} characters)` };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `{code, message}` with neither `success` nor `list`: Halo's way of saying no. The message is whole: the client
 * redacts the key from it before cutting it, since a cut first could leave half a key behind.
 */
export function errorBody(json: Json): ErrorBody | null {
  // `success` is read as `parseDeleteBody` reads it, so that no body is both a success and an error.
  if (!isRecord(json) || 'list' in json || saysSuccess(json)) return null;
  const code = typeof json.code === 'string' && /^\d+$/.test(json.code) ? Number(json.code) : json.code;
  if (typeof code !== 'number' || typeof json.message !== 'string') return null;
  return { code, message: json.message };
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function targetId(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

/**
 * Account events (a user or an API key added) come with an empty target whose ID is 0: that is no target, and
 * showing it would print "ID 0" and suggest `/halo events target:0`.
 */
function parseTarget(value: unknown): HaloTarget | null {
  if (!isRecord(value)) return null;
  const id = targetId(value.target_id);
  const target = {
    name: text(value.target_name) ?? '',
    id: id !== null && id > 0 ? id : null,
    host: text(value.target) ?? '',
  };
  return target.id === null && target.name.trim() === '' && target.host.trim() === '' ? null : target;
}

/** An `event_id` as dedup keys on it, or null when it cannot serve (the event is then invalid). */
export function eventIdText(value: unknown): string | null {
  const eventId = text(value);
  // PostgreSQL's text cannot hold U+0000: taken, one such ID would fail every write of its page, and every
  // poll after. Other odd characters are stored as they are and escaped wherever they are shown.
  if (eventId === null || eventId.trim() === '' || eventId.length > 500 || eventId.includes('\u0000'))
    return null;
  return eventId;
}

/** The `event` object of list and get answers. Only `event_id` is indispensable: it is what dedup keys on. */
export function parseEvent(value: unknown): HaloEvent | null {
  if (!isRecord(value)) return null;
  const eventId = eventIdText(value.event_id);
  if (eventId === null) return null;
  return {
    eventId,
    subject: text(value.subject) ?? '',
    dateCreated: text(value.date_created) ?? '',
    key: text(value.key) ?? '',
    url: text(value.url) ?? '',
    target: parseTarget(value.target),
  };
}

function paginationTotal(json: Record<string, unknown>): number | null {
  const pagination = json.pagination;
  return isRecord(pagination) ? pageTotal(pagination.total) : null;
}

/** `pagination.total`'s value as a count, or null. */
export function pageTotal(value: unknown): number | null {
  const total = targetId(value);
  // A negative total would end a paged read after its first page; better to read on until a short page.
  return total !== null && total >= 0 ? total : null;
}

function parseList<T>(json: Json, item: (value: unknown) => T | null): ListBody<T> | string {
  if (!isRecord(json)) return 'the body is not a JSON object';
  if (!Array.isArray(json.list)) return 'the body has no "list" array';
  const items: T[] = [];
  let invalid = 0;
  for (const entry of json.list as unknown[]) {
    const parsed = item(entry);
    if (parsed === null) invalid++;
    else items.push(parsed);
  }
  return { items, invalid, total: paginationTotal(json) };
}

/** `event/list.json`: `{ list: [{ event: {...} }] }`. A bare event (no wrapper) is accepted too. */
export function parseEventList(json: Json): ListBody<HaloEvent> | string {
  return parseList(json, (entry) => parseEvent(isRecord(entry) && 'event' in entry ? entry.event : entry));
}

/** `event/types.json`: `{ list: [{ subject, key }] }`. */
export function parseTypeList(json: Json): ListBody<HaloEventType> | string {
  return parseList(json, (entry) => {
    if (!isRecord(entry)) return null;
    const key = text(entry.key);
    if (key === null || key === '') return null;
    return { key, subject: text(entry.subject) ?? '' };
  });
}

/** `event/get.json`: `{ success: 1, event: {...} }`. */
export function parseGetBody(json: Json): HaloEvent | string {
  if (!isRecord(json)) return 'the body is not a JSON object';
  const event = parseEvent(json.event);
  return event ?? 'the body has no valid "event"';
}

/** `event/delete.json`: `{ success: 1 }`. */
export function parseDeleteBody(json: Json): true | string {
  if (isRecord(json) && saysSuccess(json)) return true;
  return 'the body does not say success';
}

function saysSuccess(json: Record<string, unknown>): boolean {
  return json.success === 1 || json.success === true || json.success === '1';
}

/** `Retry-After` in seconds or as an HTTP date; capped so a hostile value cannot park the bot. */
export function retryAfterMs(header: string | null, nowMs: number, capMs = 60_000): number | null {
  if (header === null || header.trim() === '') return null;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  // Every HTTP date format has an `HH:MM:SS` time; without this, Date.parse takes '-1' or 'soon 2' for a past
  // date, and a garbled header would mean "retry at once" instead of the client's own backoff.
  else if (!/\d\d:\d\d:\d\d/.test(trimmed)) return null;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return null;
    ms = date - nowMs;
  }
  return Math.min(Math.max(ms, 0), capMs);
}
