// A stand-in for Halo Security's Event API (list, get, delete, types), for end-to-end tests and the benchmark.
// Plain node:http on 127.0.0.1, no dependencies. Follows /work/shared's reference: every call is a GET under
// /api/v1/event/*.json, authenticated by the `x-apikey` header, offset-paged with start/limit.
import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface FakeHaloEvent {
  event_id: string;
  subject: string;
  date_created: string;
  key: string;
  url: string;
  target: { target_name: string; target_id: number; target: string };
}

export interface HaloRequest {
  /** Path without the query, e.g. `/api/v1/event/list.json`. */
  path: string;
  query: URLSearchParams;
  apiKey: string | undefined;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** Which TCP connection carried it (numbered from 1 in the order they opened): shows keep-alive reuse. */
  connection: number;
}

export type HaloFault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'body'; body: string; status?: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | HaloStream;

/**
 * List pages shaped against the client (hostile or broken Halo behaviours), set on `FakeHalo.pages`.
 */
export interface PageShape {
  /** Entries served per page, whatever `limit` asked for (a page of 1,000,000 for limit=1000). */
  entries?: number;
  /** `pagination.total` to claim instead of the real count; null leaves `pagination` out. */
  total?: number | null;
  /**
   * Pages made up for any `start`, never running out: each entry is a copy of the first event with the ID
   * `<its ID>-<position>`. `repeat` serves the first page's events whatever `start` asks for instead.
   */
  endless?: 'fresh' | 'repeat';
}

/**
 * A list answer sent as a stream: `gzip-bomb` is `{"list":[` and `decodedBytes` of spaces as gzip members of
 * 10 MB each (about 1/1000 of that on the wire), `huge` the same uncompressed, in chunks, without a
 * `content-length`. Either is valid JSON when read whole.
 */
export type HaloStream = { kind: 'gzip-bomb' | 'huge'; decodedBytes: number };

/**
 * Another Halo account on the same stand-in: its own API key and its own events (Halo's limits and data are per
 * key). The stand-in itself is the first account, so a test of one account never needs this.
 */
export interface FakeHaloAccount {
  /** Tests may change it: the old key is then refused with 401, as a revoked key is. */
  apiKey: string;
  events: FakeHaloEvent[];
  /** This account's catalogue of event types, when a test gives it one of its own (else the stand-in's). */
  types?: { subject: string; key: string }[];
  addEvent(partial?: Partial<FakeHaloEvent> & { target_id?: number }): FakeHaloEvent;
  /** The requests made with this account's key. */
  requests(): HaloRequest[];
  listRequests(): HaloRequest[];
}

export interface FakeHalo {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:PORT/api/v1`. */
  url: string;
  apiKey: string;
  /** The accounts added with {@link addAccount}, besides the stand-in's own. */
  accounts: FakeHaloAccount[];
  /** Another account on this stand-in: calls with `apiKey` see `events` (and only those). */
  addAccount(apiKey: string, events?: FakeHaloEvent[]): FakeHaloAccount;
  /** Served in array order; tests may push, splice or replace elements. */
  events: FakeHaloEvent[];
  types: { subject: string; key: string }[];
  requests: HaloRequest[];
  /** Requests being answered now, and the most there were at once: checks the bot's bound on requests in flight. */
  inFlight: number;
  maxInFlight: number;
  latencyMs: number;
  fault: ((req: HaloRequest) => HaloFault | undefined) | undefined;
  /** List pages shaped against the client; undefined: as Halo documents them. */
  pages: PageShape | undefined;
  /** Body bytes written by streamed answers (`HaloStream`), on the wire: what the client made the fake send. */
  streamedBytes: number;
  addEvent(partial?: Partial<FakeHaloEvent> & { target_id?: number }): FakeHaloEvent;
  listRequests(): HaloRequest[];
  close(): Promise<void>;
}

export interface FakeHaloOptions {
  apiKey?: string | undefined;
  events?: FakeHaloEvent[] | undefined;
  types?: { subject: string; key: string }[] | undefined;
  latencyMs?: number | undefined;
  /** Include `request` and `pagination` in list answers (the general docs); false gives the bare `{list}` of the event page. */
  includePagination?: boolean | undefined;
  /**
   * Keep each list page's bytes and send them again while the events look unchanged (for the bench). Without it,
   * building a 1000-event page took the stand-in about 5 ms, which a 20 ms-a-request bench charged to the bot.
   * "Unchanged" means: the same array, of the same length, with the same first and last event, and no event
   * added or deleted through the stand-in. An event edited in place, or a change in the middle of the array, is
   * not seen, so tests leave this off.
   */
  pageCache?: boolean | undefined;
}

export const BASE_PATH = '/api/v1';
export const DEFAULT_API_KEY = 'test-halo-api-key';
/**
 * HTTP status sent with `{code: 0 | 404, message}` error bodies from get.json and delete.json. Halo does not
 * document it; 200 is the hard case for a client, which must then look at the body to see the failure.
 */
export const HALO_ERROR_HTTP_STATUS = 200;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** A realistic catalogue; the first five keys are the ones Halo's docs name. */
export const DEFAULT_EVENT_TYPES: readonly { readonly subject: string; readonly key: string }[] = [
  { subject: 'Scan Started', key: 'target-scan-start' },
  { subject: 'API Key Added', key: 'account-apikey-add' },
  { subject: 'User Added', key: 'account-user-add' },
  { subject: 'Domain Added', key: 'domain-add' },
  { subject: 'Website Certificate Risk', key: 'website-cert-risk' },
  { subject: 'Scan Completed', key: 'target-scan-complete' },
  { subject: 'Scan Failed', key: 'target-scan-fail' },
  { subject: 'New Issue Found', key: 'issue-new' },
  { subject: 'Issue Resolved', key: 'issue-resolved' },
  { subject: 'New Open Port', key: 'port-open' },
  { subject: 'Port Closed', key: 'port-close' },
  { subject: 'API Key Deleted', key: 'account-apikey-delete' },
  { subject: 'User Removed', key: 'account-user-delete' },
  { subject: 'Domain Removed', key: 'domain-delete' },
  { subject: 'Website Certificate Expiring', key: 'website-cert-expire' },
  { subject: 'PCI Report Ready', key: 'pci-report-complete' },
];

const SUBJECT_BY_KEY = new Map(DEFAULT_EVENT_TYPES.map((t) => [t.key, t.subject]));
const BASE_DATE_MS = Date.UTC(2024, 0, 1);
const MINUTES_PER_DAY = 1440;
const CLOCK = Array.from(
  { length: MINUTES_PER_DAY },
  (_, m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`,
);

// One counter for the whole process, so events from makeEvents() and addEvent() never share an id.
let eventCounter = 0;

function nextEventId(): string {
  eventCounter += 1;
  return `ev-${eventCounter}`;
}

/** `YYYY-MM-DD HH:MM` in UTC, Halo's format (no zone, minute resolution). */
export function haloDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function subjectForKey(key: string, types: readonly { subject: string; key: string }[]): string {
  const known = types.find((t) => t.key === key)?.subject ?? SUBJECT_BY_KEY.get(key);
  if (known !== undefined) return known;
  return key
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

const EVENT_URL_PREFIX = 'https://www.halosecurity.com/link?q=user-event&id=';

function eventUrl(id: string): string {
  return EVENT_URL_PREFIX + encodeURIComponent(id);
}

/**
 * Generates `n` realistic events quickly (ids `ev-<n>`, unique in the process). Keys cycle through `keys`
 * (default: the whole catalogue), target ids through 1..`targets` (default 10), dates rise a minute at a time.
 */
export function makeEvents(n: number, options: { keys?: string[]; targets?: number } = {}): FakeHaloEvent[] {
  const keys = options.keys ?? DEFAULT_EVENT_TYPES.map((t) => t.key);
  const targets = options.targets ?? 10;
  if (keys.length === 0) throw new Error('makeEvents: expected at least one key');
  if (!Number.isInteger(targets) || targets < 1) {
    throw new Error(`makeEvents: expected \`targets\` to be an integer >= 1, got ${targets}`);
  }
  const subjects = keys.map((k) => subjectForKey(k, DEFAULT_EVENT_TYPES));
  const targetNames = Array.from({ length: targets + 1 }, (_, t) => (t % 2 === 0 ? `Server ${t}` : ''));
  const hosts = Array.from({ length: targets + 1 }, (_, t) => `host${t}.example.com`);
  const events = new Array<FakeHaloEvent>(n);
  let day = '';
  for (let i = 0; i < n; i++) {
    eventCounter += 1;
    const id = `ev-${eventCounter}`;
    const targetId = (i % targets) + 1;
    const minuteOfDay = i % MINUTES_PER_DAY;
    // Formatting a Date per event dominates for big sets; build the day once and reuse the HH:MM strings.
    if (minuteOfDay === 0 || day === '') day = haloDate(BASE_DATE_MS + i * 60_000).slice(0, 11);
    events[i] = {
      event_id: id,
      subject: subjects[i % keys.length]!,
      date_created: day + CLOCK[minuteOfDay]!,
      key: keys[i % keys.length]!,
      url: EVENT_URL_PREFIX + id,
      target: { target_name: targetNames[targetId]!, target_id: targetId, target: hosts[targetId]! },
    };
  }
  return events;
}

// Serialising a 1000-event page is the main cost of a scan, so each event's JSON is cached and reused while
// its fields are unchanged (tests may edit events in place; that is detected). Odd shapes are never cached.
interface CacheEntry {
  readonly json: string;
  readonly event_id: string;
  readonly subject: string;
  readonly date_created: string;
  readonly key: string;
  readonly url: string;
  readonly target: object;
  readonly target_name: string;
  readonly target_id: number;
  readonly host: string;
}
const jsonCache = new WeakMap<FakeHaloEvent, CacheEntry>();

function hasStandardShape(ev: FakeHaloEvent): boolean {
  const t = ev.target as unknown;
  return Object.keys(ev).length === 6 && typeof t === 'object' && t !== null && Object.keys(t).length === 3;
}

function eventJson(ev: FakeHaloEvent): string {
  if (!hasStandardShape(ev)) return JSON.stringify(ev);
  const c = jsonCache.get(ev);
  const t = ev.target;
  if (
    c?.event_id === ev.event_id &&
    c.subject === ev.subject &&
    c.date_created === ev.date_created &&
    c.key === ev.key &&
    c.url === ev.url &&
    c.target === t &&
    c.target_name === t.target_name &&
    c.target_id === t.target_id &&
    c.host === t.target
  ) {
    return c.json;
  }
  const json = JSON.stringify(ev);
  jsonCache.set(ev, {
    json,
    event_id: ev.event_id,
    subject: ev.subject,
    date_created: ev.date_created,
    key: ev.key,
    url: ev.url,
    target: t,
    target_name: t.target_name,
    target_id: t.target_id,
    host: t.target,
  });
  return json;
}

function targetIdOf(ev: FakeHaloEvent): unknown {
  const t = ev.target as { target_id?: unknown } | null | undefined;
  return t?.target_id;
}

function parseNonNegativeInt(raw: string | null): number | undefined {
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function nonEmpty(raw: string | null): string | undefined {
  return raw === null || raw === '' ? undefined : raw;
}

interface Answer {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

function json(status: number, body: string): Answer {
  return { status, body };
}

function errorBody(code: number, message: string): string {
  return JSON.stringify({ code, message });
}

function contentTypeFor(body: string | Buffer): string {
  return typeof body === 'string' && body.trimStart().startsWith('<')
    ? 'text/html; charset=utf-8'
    : 'application/json; charset=utf-8';
}

/**
 * The list pages sent while the events looked unchanged (`FakeHaloOptions.pageCache`), per account's list of
 * events (the bench of many accounts reads each account's pages again every poll).
 */
class PageCache {
  private lists = new WeakMap<
    FakeHaloEvent[],
    { stamp: { length: number; first: unknown; last: unknown }; pages: Map<string, Answer> }
  >();
  /** Bumped by every change made through the stand-in (`addEvent`, `delete.json`): of one list, or of all. */
  changed(events?: FakeHaloEvent[]): void {
    if (events === undefined) this.lists = new WeakMap();
    else this.lists.delete(events);
  }
  get(query: string, events: FakeHaloEvent[]): Answer | undefined {
    const entry = this.lists.get(events);
    const s = entry?.stamp;
    const same =
      s !== undefined &&
      s.length === events.length &&
      s.first === events[0] &&
      s.last === events[events.length - 1];
    if (!same) {
      this.lists.set(events, {
        stamp: { length: events.length, first: events[0], last: events[events.length - 1] },
        pages: new Map(),
      });
      return undefined;
    }
    return entry!.pages.get(query);
  }
  set(query: string, answer: Answer, events: FakeHaloEvent[]): void {
    this.lists.get(events)?.pages.set(query, { ...answer, body: Buffer.from(answer.body) });
  }
}

// A scan sends sort=0 with every page; re-sorting 500k events per page would make the fake the bottleneck.
// The last result is reused while the input holds the same events with the same subjects (an O(n) check).
interface SortCache {
  last?: { input: FakeHaloEvent[]; subjects: string[]; output: FakeHaloEvent[] } | undefined;
}

function sortedBySubject(view: readonly FakeHaloEvent[], cache: SortCache): FakeHaloEvent[] {
  const cached = cache.last;
  if (cached?.input.length === view.length) {
    let same = true;
    for (let i = 0; i < view.length && same; i++) {
      same = view[i] === cached.input[i] && view[i]!.subject === cached.subjects[i];
    }
    if (same) return cached.output;
  }
  // Stable, and linear: group by subject, then order the few distinct subjects.
  const groups = new Map<string, FakeHaloEvent[]>();
  for (const ev of view) {
    const group = groups.get(ev.subject);
    if (group === undefined) groups.set(ev.subject, [ev]);
    else group.push(ev);
  }
  const output: FakeHaloEvent[] = [];
  for (const subject of [...groups.keys()].sort()) {
    for (const ev of groups.get(subject)!) output.push(ev);
  }
  cache.last = { input: view.slice(), subjects: view.map((ev) => ev.subject), output };
  return output;
}

/** 10 MB of spaces, gzipped: made once, on the first bomb. */
let bombMember: Buffer | undefined;

export async function startFakeHalo(options: FakeHaloOptions = {}): Promise<FakeHalo> {
  const includePagination = options.includePagination ?? true;
  const hanging = new Set<ServerResponse>();
  const sortCache: SortCache = {};
  const pageCache = options.pageCache === true ? new PageCache() : undefined;
  const timers = new Set<NodeJS.Timeout>();
  let closed: Promise<void> | undefined;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const send = (res: ServerResponse, answer: Answer): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, {
      'content-type': contentTypeFor(answer.body),
      'content-length': Buffer.byteLength(answer.body),
      ...answer.headers,
    });
    res.end(answer.body);
  };

  const paging = (q: URLSearchParams): { start: number; limit: number } => {
    const start = parseNonNegativeInt(q.get('start')) ?? 0;
    const rawLimit = parseNonNegativeInt(q.get('limit'));
    const limit = rawLimit === undefined || rawLimit < 1 ? DEFAULT_LIMIT : Math.min(rawLimit, MAX_LIMIT);
    return { start, limit };
  };

  const listBody = (
    items: readonly string[],
    meta: { sort: number; start: number; limit: number; total: number },
  ): string => {
    const head = includePagination
      ? `"request":{"sort":${meta.sort},"start":${meta.start}},` +
        `"pagination":{"total":${meta.total},"start":${meta.start},"limit":${meta.limit}},`
      : '';
    return `{${head}"list":[${items.join(',')}]}`;
  };

  const listEvents = (q: URLSearchParams, events: FakeHaloEvent[]): Answer => {
    if (pageCache === undefined) return listEventsAfresh(q, events);
    const query = q.toString();
    const cached = pageCache.get(query, events);
    if (cached !== undefined) return cached;
    const answer = listEventsAfresh(q, events);
    if (answer.status === 200) pageCache.set(query, answer, events);
    return answer;
  };

  const listEventsAfresh = (q: URLSearchParams, events: FakeHaloEvent[]): Answer => {
    const key = nonEmpty(q.get('key'));
    const subject = nonEmpty(q.get('subject'))?.toLowerCase();
    // Events carry no detail field, so `detail` is matched against the subject.
    const detail = nonEmpty(q.get('detail'))?.toLowerCase();
    const rawTarget = nonEmpty(q.get('target_id'));
    let targetId: number | undefined;
    if (rawTarget !== undefined) {
      if (!/^-?\d+$/.test(rawTarget)) return json(400, errorBody(0, 'invalid target_id'));
      targetId = Number(rawTarget);
    }
    const rawSort = q.get('sort');
    const sort = rawSort !== null && /^-?\d+$/.test(rawSort) ? Number(rawSort) : 0;
    const descending = q.get('sort_desc') === '1';
    const { start, limit } = paging(q);

    let view: readonly FakeHaloEvent[] = events;
    if (key !== undefined || subject !== undefined || detail !== undefined || targetId !== undefined) {
      // Subjects repeat a lot; lower-casing each distinct one once keeps a 500k scan cheap.
      const textMatches = new Map<string, boolean>();
      const matchesText = (s: string): boolean => {
        let hit = textMatches.get(s);
        if (hit === undefined) {
          const lower = s.toLowerCase();
          hit =
            (subject === undefined || lower.includes(subject)) &&
            (detail === undefined || lower.includes(detail));
          textMatches.set(s, hit);
        }
        return hit;
      };
      view = events.filter(
        (ev) =>
          (key === undefined || ev.key === key) &&
          (targetId === undefined || targetIdOf(ev) === targetId) &&
          (subject === undefined && detail === undefined ? true : matchesText(ev.subject)),
      );
    }
    if (rawSort === '0') view = sortedBySubject(view, sortCache);
    const shape = fake.pages;
    if (shape !== undefined) return shapedPage(view, shape, { sort, start, limit });
    const total = view.length;
    const end = Math.min(total, start + limit);
    const items: string[] = [];
    for (let i = start; i < end; i++) {
      items.push(`{"event":${eventJson(view[descending ? total - 1 - i : i]!)}}`);
    }
    return json(200, listBody(items, { sort, start, limit, total }));
  };

  const shapedPage = (
    view: readonly FakeHaloEvent[],
    shape: PageShape,
    meta: { sort: number; start: number; limit: number },
  ): Answer => {
    const entries = shape.entries ?? meta.limit;
    const items: string[] = [];
    const from = shape.endless === 'repeat' ? 0 : meta.start;
    for (let i = from; i < from + entries; i++) {
      if (shape.endless === 'fresh') {
        const model = view[0];
        if (model === undefined) break;
        items.push(`{"event":${JSON.stringify({ ...model, event_id: `${model.event_id}-${i}` })}}`);
      } else {
        const event = view[i];
        if (event === undefined) break;
        items.push(`{"event":${eventJson(event)}}`);
      }
    }
    const total = shape.total === undefined ? view.length : shape.total;
    if (total !== null) return json(200, listBody(items, { ...meta, total }));
    return json(200, `{"list":[${items.join(',')}]}`);
  };

  const listTypes = (q: URLSearchParams, types: readonly { subject: string; key: string }[]): Answer => {
    const { start, limit } = paging(q);
    const total = types.length;
    const items = types.slice(start, start + limit).map((t) => JSON.stringify(t));
    return json(200, listBody(items, { sort: 0, start, limit, total }));
  };

  const findEvent = (q: URLSearchParams, events: FakeHaloEvent[]): { index: number } | Answer => {
    const id = nonEmpty(q.get('event_id'));
    if (id === undefined) return json(HALO_ERROR_HTTP_STATUS, errorBody(0, 'event_id required'));
    const index = events.findIndex((ev) => ev.event_id === id);
    if (index < 0) return json(HALO_ERROR_HTTP_STATUS, errorBody(404, 'event not found'));
    return { index };
  };

  const answer = (req: HaloRequest, method: string | undefined): Answer => {
    const events =
      req.apiKey === fake.apiKey
        ? fake.events
        : fake.accounts.find((account) => account.apiKey === req.apiKey)?.events;
    if (events === undefined) return json(401, errorBody(401, 'invalid api key'));
    const route = req.path.startsWith(`${BASE_PATH}/event/`) ? req.path.slice(BASE_PATH.length) : '';
    const known = ['/event/list.json', '/event/get.json', '/event/delete.json', '/event/types.json'];
    if (!known.includes(route)) return json(404, errorBody(404, 'not found'));
    if (method !== 'GET') return json(405, errorBody(405, 'method not allowed'));
    switch (route) {
      case '/event/list.json':
        return listEvents(req.query, events);
      case '/event/types.json':
        return listTypes(
          req.query,
          fake.accounts.find((account) => account.apiKey === req.apiKey)?.types ?? fake.types,
        );
      case '/event/get.json': {
        const found = findEvent(req.query, events);
        if (!('index' in found)) return found;
        return json(200, `{"success":1,"event":${eventJson(events[found.index]!)}}`);
      }
      default: {
        const found = findEvent(req.query, events);
        if (!('index' in found)) return found;
        events.splice(found.index, 1);
        pageCache?.changed();
        return json(200, '{"success":1}');
      }
    }
  };

  const answerNormally = (res: ServerResponse, req: HaloRequest, method: string | undefined): void => {
    let result: Answer;
    try {
      result = answer(req, method);
    } catch (error) {
      result = json(500, errorBody(500, `fake halo failed: ${String(error)}`));
    }
    if (fake.latencyMs > 0) later(fake.latencyMs, () => send(res, result));
    else send(res, result);
  };

  const connections = new WeakMap<object, number>();
  let connectionCount = 0;
  const connectionOf = (socket: object): number => {
    let id = connections.get(socket);
    if (id === undefined) connections.set(socket, (id = ++connectionCount));
    return id;
  };

  const onRequest = (incoming: IncomingMessage, res: ServerResponse): void => {
    incoming.resume();
    const parsed = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const header = incoming.headers['x-apikey'];
    const req: HaloRequest = {
      path: parsed.pathname,
      query: parsed.searchParams,
      apiKey: Array.isArray(header) ? header[0] : header,
      at: Date.now(),
      connection: connectionOf(incoming.socket),
    };
    fake.requests.push(req);
    fake.inFlight++;
    fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
    res.on('close', () => fake.inFlight--);
    const fault = fake.fault?.(req);
    if (fault === undefined) {
      answerNormally(res, req, incoming.method);
      return;
    }
    switch (fault.kind) {
      case 'status': {
        const body = fault.body ?? errorBody(fault.status, STATUS_CODES[fault.status] ?? 'error');
        send(res, { status: fault.status, body, ...(fault.headers ? { headers: fault.headers } : {}) });
        return;
      }
      case 'body':
        send(res, { status: fault.status ?? 200, body: fault.body });
        return;
      case 'reset':
        incoming.socket.destroy();
        return;
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'delay':
        later(fault.ms, () => answerNormally(res, req, incoming.method));
        return;
      case 'gzip-bomb':
      case 'huge':
        stream(res, fault);
        return;
    }
  };

  /** Writes a `HaloStream` as fast as the client reads it, and stops when the client hangs up. */
  const stream = (res: ServerResponse, { kind, decodedBytes }: HaloStream): void => {
    const bomb = kind === 'gzip-bomb';
    const member = 10 * 1024 * 1024;
    const spaces = bomb
      ? (bombMember ??= gzipSync(Buffer.alloc(member, 0x20)))
      : Buffer.alloc(1024 * 1024, 0x20);
    const step = bomb ? member : spaces.length;
    const wrap = (text: string): Buffer => (bomb ? gzipSync(text) : Buffer.from(text));
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(bomb ? { 'content-encoding': 'gzip' } : {}),
    });
    let left = decodedBytes;
    const write = (chunk: Buffer): boolean => {
      fake.streamedBytes += chunk.length;
      return res.write(chunk);
    };
    write(wrap('{"list":['));
    const more = (): void => {
      while (left > 0 && !res.destroyed) {
        left -= step;
        if (!write(spaces)) {
          res.once('drain', more);
          return;
        }
      }
      if (!res.destroyed) {
        write(wrap(']}'));
        res.end();
      }
    };
    more();
  };

  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const newEvent = (partial: Partial<FakeHaloEvent> & { target_id?: number }): FakeHaloEvent => {
    const id = partial.event_id ?? nextEventId();
    const key = partial.key ?? 'target-scan-start';
    const targetId = partial.target_id ?? 1;
    return {
      event_id: id,
      subject: partial.subject ?? subjectForKey(key, fake.types),
      date_created: partial.date_created ?? haloDate(Date.now()),
      key,
      url: partial.url ?? eventUrl(id),
      target: partial.target ?? {
        target_name: '',
        target_id: targetId,
        target: `host${targetId}.example.com`,
      },
    };
  };

  const fake: FakeHalo = {
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    apiKey: options.apiKey ?? DEFAULT_API_KEY,
    accounts: [],
    addAccount(apiKey, events = []) {
      const account: FakeHaloAccount = {
        apiKey,
        events,
        addEvent(partial = {}) {
          const event = newEvent(partial);
          account.events.push(event);
          // Only this account's pages change: its list's new length tells the page cache so.
          pageCache?.changed(account.events);
          return event;
        },
        requests: () => fake.requests.filter((r) => r.apiKey === account.apiKey),
        listRequests: () => account.requests().filter((r) => r.path === `${BASE_PATH}/event/list.json`),
      };
      fake.accounts.push(account);
      return account;
    },
    events: options.events ?? [],
    types: options.types ?? DEFAULT_EVENT_TYPES.map((t) => ({ ...t })),
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    latencyMs: options.latencyMs ?? 0,
    fault: undefined,
    pages: undefined,
    streamedBytes: 0,
    addEvent(partial = {}) {
      const event = newEvent(partial);
      fake.events.push(event);
      pageCache?.changed();
      return event;
    },
    listRequests() {
      return fake.requests.filter((r) => r.path === `${BASE_PATH}/event/list.json`);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const res of hanging) res.destroy();
        hanging.clear();
        sortCache.last = undefined;
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return fake;
}
