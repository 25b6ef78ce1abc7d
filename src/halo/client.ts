import { childController } from '../abort.ts';
import { sleep, type Clock } from '../clock.ts';
import { createRedactor, redactAndCut } from '../redact.ts';
import {
  HaloApiError,
  HaloAuthError,
  HaloError,
  HaloHttpError,
  HaloNetworkError,
  HaloResponseError,
} from './errors.ts';
import { fastEventPage, knownEventPage, parsedEventPage } from './event-page.ts';
import { PageMemo } from './page-memo.ts';
import { createHttpTransport } from './transport.ts';
import {
  errorBody,
  parseDeleteBody,
  parseEventList,
  parseGetBody,
  parseJson,
  parseTypeList,
  retryAfterMs,
  type Json,
} from './response-parse.ts';
import type { EventListFilter, HaloEvent, HaloEventType } from '../domain/event.ts';

/**
 * One page of `event/list.json`. Its events are parsed and validated when asked for: a poll asks only for the
 * few it has not seen, and reading the rest into objects was most of its CPU (see `page-scan.ts`).
 */
export interface EventPage {
  /** The ID of each valid entry, in order. */
  readonly ids: readonly string[];
  /** The valid entries at these positions of `ids` (all of them when omitted), parsed and validated in full. */
  events(positions?: readonly number[]): HaloEvent[];
  /**
   * Tells the page memo (`ListOptions.memo`) that every event of this page is now recorded as seen. Absent
   * without a memo, and when the memo knew the page already: `ids` is then empty, the counts are the page's.
   */
  readonly recorded?: () => void;
  /** `pagination.total`, when Halo sent it. */
  readonly total: number | null;
  /** Entries that were malformed and skipped. */
  readonly invalid: number;
  /** How many entries Halo returned, valid or not: decides whether this was the last page. */
  readonly returned: number;
}

export interface ListOptions {
  readonly start: number;
  readonly limit: number;
  readonly sort?: number;
  readonly sortDesc?: boolean;
  readonly signal?: AbortSignal;
  /** Pages read before, to skip one that came back byte for byte the same (see `page-memo.ts`). */
  readonly memo?: PageMemo;
}

/** The four endpoints of Halo's Event API. Every failure is a {@link HaloError}. */
export interface HaloClient {
  listEvents(filter: EventListFilter, options: ListOptions): Promise<EventPage>;
  getEvent(eventId: string, signal?: AbortSignal): Promise<HaloEvent>;
  deleteEvent(eventId: string, signal?: AbortSignal): Promise<void>;
  listTypes(signal?: AbortSignal): Promise<HaloEventType[]>;
}

export const MAX_PAGE_SIZE = 1000;

/** Halo's answer as it came: nothing in it is judged yet. */
interface RawAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  /** Where a 3xx points; redirects are not followed (see `transport.ts`). */
  readonly location: string | null;
  readonly body: Body;
}

/**
 * A body as it arrived, in chunks. Joined only when it must be read: a page the memo knows is hashed chunk by
 * chunk, and a copy of every page is garbage that the poll would make a thousand times over.
 */
export class Body {
  private joined: Uint8Array | undefined;

  constructor(readonly chunks: readonly Uint8Array[]) {}

  bytes(): Uint8Array {
    this.joined ??= this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    return this.joined;
  }
}

const utf8 = new TextDecoder();

export interface HaloClientOptions {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Attempts per request for retryable failures (network, 5xx, 429, unreadable bodies). */
  readonly attempts?: number;
  /** First backoff; doubles each attempt. */
  readonly backoffMs?: number;
  /** Told the outcome of every request, retries included (metrics). */
  readonly onRequest?: (outcome: 'ok' | 'auth_error' | 'http_error' | 'error') => void;
}

export function createHaloClient(options: HaloClientOptions): HaloClient {
  const transport = createHttpTransport(options.apiUrl);
  const headers = { 'x-apikey': options.apiKey, accept: 'application/json', 'user-agent': 'halo-slack' };
  const redactKey = createRedactor([options.apiKey]);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 300;

  async function once(
    endpoint: string,
    /** The query string, `URLSearchParams`-encoded. */
    query: string,
    signal?: AbortSignal,
  ): Promise<RawAnswer> {
    // One controller per request, released when it ends: nothing stays attached to the caller's signal.
    const request = childController(signal);
    // An object, not a `let`: the flag changes inside the timer callback, which narrowing cannot see.
    const deadline = { passed: false };
    const timer = setTimeout(() => {
      deadline.passed = true;
      request.controller.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError'));
    }, options.timeoutMs);
    try {
      const answer = await transport.get(`${endpoint}?${query}`, headers, request.controller.signal);
      const header = (name: string): string | null => {
        const value = answer.headers[name];
        return typeof value === 'string' ? value : null;
      };
      return {
        status: answer.status,
        retryAfter: header('retry-after'),
        location: header('location'),
        body: new Body(answer.chunks),
      };
    } catch (error) {
      if (signal?.aborted === true) throw error; // shutdown: not Halo's fault
      if (deadline.passed)
        throw new HaloNetworkError(endpoint, true, `no answer within ${options.timeoutMs} ms`);
      throw new HaloNetworkError(endpoint, false, describeCause(error));
    } finally {
      clearTimeout(timer);
      request.release();
    }
  }

  /** What Halo's answer means: its JSON, or the typed error it amounts to. */
  function interpret(endpoint: string, { status, retryAfter, location, body: raw }: RawAnswer): Json {
    // As `Response.text()` decodes: UTF-8, a byte-order mark dropped, malformed bytes replaced.
    const body = utf8.decode(raw.bytes());
    if (status === 401 || status === 403) throw new HaloAuthError(endpoint, status);
    if (status >= 300 && status <= 399 && location !== null)
      throw new HaloHttpError(endpoint, status, null, redactAndCut(location, redactKey, 200));
    // Overload and rate limits stay worth retrying when Halo's `{code, message}` body comes with them.
    if (status === 429 || status >= 500)
      throw new HaloHttpError(endpoint, status, retryAfterMs(retryAfter, options.clock.now(), 30_000));
    const parsed = parseJson(body);
    if (parsed.ok) {
      const error = errorBody(parsed.json);
      if (error !== null) {
        if (error.code === 401 || error.code === 403) throw new HaloAuthError(endpoint, error.code);
        // Some APIs quote the key they were given; Halo's message reaches /halo status, users and the logs.
        // Redacted first and cut after, so that a key straddling the cut leaves no half behind.
        throw new HaloApiError(endpoint, error.code, redactAndCut(error.message, redactKey, 300), status);
      }
    }
    if (status < 200 || status > 299) {
      throw new HaloHttpError(endpoint, status, retryAfterMs(retryAfter, options.clock.now(), 30_000));
    }
    if (!parsed.ok) throw new HaloResponseError(endpoint, parsed.problem);
    return parsed.json;
  }

  async function request<T>(
    endpoint: string,
    query: string,
    read: (json: Json) => T | string,
    signal?: AbortSignal,
    /** A faster reading of a 2xx body; null when it cannot tell, and the body is then parsed as usual. */
    fast?: (body: Body) => T | null,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await once(endpoint, query, signal)
          .then((raw): { quick: T } | { json: Json } => {
            const quick =
              fast !== undefined && raw.status >= 200 && raw.status <= 299 ? fast(raw.body) : null;
            return quick !== null ? { quick } : { json: interpret(endpoint, raw) };
          })
          .catch((error: unknown) => {
            options.onRequest?.(
              error instanceof HaloAuthError
                ? 'auth_error'
                : error instanceof HaloHttpError
                  ? 'http_error'
                  : 'error',
            );
            throw error;
          });
        options.onRequest?.('ok');
        if ('quick' in answer) return answer.quick;
        const json = answer.json;
        // Parsing a page and validating it are each a few ms of CPU: a turn of the event loop between them lets
        // a slash command that arrived meanwhile be acknowledged first.
        await new Promise((resolve) => setImmediate(resolve));
        const result = read(json);
        if (typeof result === 'string') throw new HaloResponseError(endpoint, result);
        return result;
      } catch (error) {
        if (!(error instanceof HaloError) || !error.retryable || attempt >= attempts || signal?.aborted) {
          throw error;
        }
        const wait =
          error instanceof HaloHttpError && error.retryAfterMs !== null
            ? error.retryAfterMs
            : backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
        await sleep(wait, signal);
      }
    }
  }

  return {
    listEvents(filter, { start, limit, sort, sortDesc, signal, memo }) {
      const params: Record<string, string> = { start: String(start), limit: String(limit) };
      if (filter.key !== undefined) params.key = filter.key;
      if (filter.subject !== undefined) params.subject = filter.subject;
      if (filter.detail !== undefined) params.detail = filter.detail;
      if (filter.target_id !== undefined) params.target_id = String(filter.target_id);
      if (sort !== undefined) params.sort = String(sort);
      if (sortDesc === true) params.sort_desc = '1';
      // The query names the page, for the memo as for Halo.
      const page = new URLSearchParams(params).toString();
      let digest = '';
      const remembered = (read: EventPage): EventPage =>
        memo === undefined
          ? read
          : {
              ...read,
              // The counts alone: the page itself (its bytes) must not outlive the poll.
              recorded: () =>
                memo.remember(page, digest, {
                  total: read.total,
                  invalid: read.invalid,
                  returned: read.returned,
                }),
            };
      return request(
        'event/list.json',
        page,
        (json) => {
          const list = parseEventList(json);
          return typeof list === 'string' ? list : remembered(parsedEventPage(list));
        },
        signal,
        (body) => {
          if (memo !== undefined) {
            digest = PageMemo.digest(body.chunks);
            const known = memo.known(page, digest);
            if (known !== undefined) return knownEventPage(known);
          }
          const read = fastEventPage(body.bytes());
          return read === null ? null : remembered(read);
        },
      );
    },
    getEvent(eventId, signal) {
      return request('event/get.json', queryOf({ event_id: eventId }), parseGetBody, signal);
    },
    async deleteEvent(eventId, signal) {
      // Deleting is not idempotent from the user's point of view (a second try would say "not found"), so no retry.
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await once('event/delete.json', queryOf({ event_id: eventId }), signal);
          const ok = parseDeleteBody(interpret('event/delete.json', answer));
          if (ok !== true) throw new HaloResponseError('event/delete.json', ok);
          return;
        } catch (error) {
          // Only a failure that proves nothing reached Halo (connection refused) is safe to repeat.
          const refused =
            error instanceof HaloNetworkError && !error.timedOut && /ECONNREFUSED/.test(error.message);
          if (!refused || attempt >= attempts) throw error;
          await sleep(backoffMs, signal);
        }
      }
    },
    async listTypes(signal) {
      const types: HaloEventType[] = [];
      for (let start = 0; ; start += MAX_PAGE_SIZE) {
        const page = await request(
          'event/types.json',
          queryOf({ start: String(start), limit: String(MAX_PAGE_SIZE) }),
          parseTypeList,
          signal,
        );
        types.push(...page.items);
        const returned = page.items.length + page.invalid;
        const done = page.total !== null ? start + returned >= page.total : returned < MAX_PAGE_SIZE;
        if (done || returned === 0) return types;
      }
    },
  };
}

const queryOf = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** The system error's message, with its code (ECONNREFUSED, ECONNRESET …) when the message lacks it. */
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
