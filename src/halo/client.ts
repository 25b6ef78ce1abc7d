import ky, { type KyInstance } from 'ky';
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
import {
  errorBody,
  parseDeleteBody,
  parseEventList,
  parseGetBody,
  parseJson,
  parseTypeList,
  retryAfterMs,
  type Json,
} from './parse.ts';
import type { EventListFilter, HaloEvent, HaloEventType } from './types.ts';

export interface EventPage {
  readonly events: HaloEvent[];
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
}

/** The four endpoints of Halo's Event API. Every failure is a {@link HaloError}. */
export interface HaloClient {
  listEvents(filter: EventListFilter, options: ListOptions): Promise<EventPage>;
  getEvent(eventId: string, signal?: AbortSignal): Promise<HaloEvent>;
  deleteEvent(eventId: string, signal?: AbortSignal): Promise<void>;
  listTypes(signal?: AbortSignal): Promise<HaloEventType[]>;
}

export const MAX_PAGE_SIZE = 1000;

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
  const http: KyInstance = ky.create({
    prefixUrl: options.apiUrl,
    headers: { 'x-apikey': options.apiKey, accept: 'application/json' },
    // Retries, timeouts and error mapping are done below, so that every outcome is one of our typed errors.
    retry: 0,
    timeout: false,
    throwHttpErrors: false,
  });
  const redactKey = createRedactor([options.apiKey]);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 300;

  async function once(endpoint: string, params: Record<string, string>, signal?: AbortSignal): Promise<Json> {
    // One controller per request, released when it ends: nothing stays attached to the caller's signal.
    const request = childController(signal);
    // An object, not a `let`: the flag changes inside the timer callback, which narrowing cannot see.
    const deadline = { passed: false };
    const timer = setTimeout(() => {
      deadline.passed = true;
      request.controller.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError'));
    }, options.timeoutMs);
    let status: number;
    let body: string;
    let retryAfter: string | null;
    try {
      const response = await http.get(endpoint, { searchParams: params, signal: request.controller.signal });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      body = await response.text();
    } catch (error) {
      if (signal?.aborted === true) throw error; // shutdown: not Halo's fault
      if (deadline.passed)
        throw new HaloNetworkError(endpoint, true, `no answer within ${options.timeoutMs} ms`);
      throw new HaloNetworkError(endpoint, false, describeCause(error));
    } finally {
      clearTimeout(timer);
      request.release();
    }
    if (status === 401 || status === 403) throw new HaloAuthError(endpoint, status);
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
    params: Record<string, string>,
    read: (json: Json) => T | string,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const json = await once(endpoint, params, signal).catch((error: unknown) => {
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
    listEvents(filter, { start, limit, sort, sortDesc, signal }) {
      const params: Record<string, string> = { start: String(start), limit: String(limit) };
      if (filter.key !== undefined) params.key = filter.key;
      if (filter.subject !== undefined) params.subject = filter.subject;
      if (filter.detail !== undefined) params.detail = filter.detail;
      if (filter.target_id !== undefined) params.target_id = String(filter.target_id);
      if (sort !== undefined) params.sort = String(sort);
      if (sortDesc === true) params.sort_desc = '1';
      return request(
        'event/list.json',
        params,
        (json) => {
          const list = parseEventList(json);
          if (typeof list === 'string') return list;
          return {
            events: list.items,
            total: list.total,
            invalid: list.invalid,
            returned: list.items.length + list.invalid,
          };
        },
        signal,
      );
    },
    getEvent(eventId, signal) {
      return request('event/get.json', { event_id: eventId }, parseGetBody, signal);
    },
    async deleteEvent(eventId, signal) {
      // Deleting is not idempotent from the user's point of view (a second try would say "not found"), so no retry.
      for (let attempt = 1; ; attempt++) {
        try {
          const ok = parseDeleteBody(await once('event/delete.json', { event_id: eventId }, signal));
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
          { start: String(start), limit: String(MAX_PAGE_SIZE) },
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

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
