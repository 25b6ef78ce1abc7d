import ky, { HTTPError, TimeoutError, type KyInstance, type Options } from 'ky';
import { childController } from '../abort.ts';
import { sleep, type Clock } from '../clock.ts';
import { createRedactor, redactAndCut } from '../redact.ts';
import {
  HaloApiError,
  HaloAuthError,
  HaloHttpError,
  HaloNetworkError,
  HaloOversizeError,
  HaloResponseError,
} from '../pipeline/halo-errors.ts';
import { fastEventPage, knownEventPage, parsedEventPage } from './event-page.ts';
import { PageMemo } from './page-memo.ts';
import { scanEvents } from './scan.ts';
import { createHttpTransport } from './transport.ts';
import { chunksOf, isBodyTooLarge, transportFetch, type TransportInit } from './transport-fetch.ts';
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
import type { HaloEventType } from '../domain/event.ts';
import type { EventPage, HaloClient, ScanMemo } from '../pipeline/halo-port.ts';

export const MAX_PAGE_SIZE = 1000;

/**
 * The most of one answer the client reads, decoded. A page of 1,000 events is about 350 kB; a gzip bomb (3 MB
 * on the wire, 3 GB decoded) or a 200 MB page is cut off here, before it costs memory.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** The statuses worth asking again (and whose Retry-After is honoured): overload and rate limits. */
const RETRIED_STATUSES = [429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

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
  /** The most of one answer read, decoded; {@link MAX_RESPONSE_BYTES} when omitted. */
  readonly maxResponseBytes?: number;
  /**
   * Bench only (`BENCH_HALO_HTTP=transport`): each request goes straight to the transport with its own
   * timeout, without ky and so without ky's retries, so that `bench/steady.ts` can set ky's cost beside it.
   */
  readonly bareTransport?: boolean;
}

export function createHaloClient(options: HaloClientOptions): HaloClient {
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const transport = createHttpTransport(options.apiUrl, maxResponseBytes);
  const redactKey = createRedactor([options.apiKey]);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 300;
  const backoff = (attempt: number): number => backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
  const report = options.onRequest ?? (() => undefined);
  const headers = { 'x-apikey': options.apiKey, accept: 'application/json', 'user-agent': 'halo-slack' };
  const send = transportFetch(transport, options.apiUrl, headers);

  /**
   * ky retries what its rules and the bot's agree on: a network failure, a timeout, and HTTP 429 and 5xx
   * (their `Retry-After` honoured, up to 30 s), `attempts` times in all with the bot's backoff. What ky cannot
   * tell is left to `request` and `deleteEvent` below: a 2xx whose body is unreadable, and delete's one safe
   * retry (see there).
   */
  const api: KyInstance = ky.create({
    prefixUrl: options.apiUrl,
    timeout: options.timeoutMs,
    // Every attempt's answer, retries included, for the metrics; failures without one are told below.
    fetch: async (input, init) => {
      const response = await send(input, init);
      report(outcomeOf(response.status));
      return response;
    },
    retry: {
      limit: attempts - 1,
      methods: ['get'],
      statusCodes: RETRIED_STATUSES,
      afterStatusCodes: RETRIED_STATUSES,
      maxRetryAfter: 30_000,
      retryOnTimeout: true,
      delay: backoff,
      shouldRetry: ({ error }) => {
        // The caller's abort (shutdown) and a body past the cap: asking again cannot help.
        if (error.name === 'AbortError' || isBodyTooLarge(error)) return false;
        // A Retry-After that says nothing usable: the bot's own backoff, where ky would wait its 30 s cap.
        if (error instanceof HTTPError) {
          const after = error.response.headers.get('retry-after');
          if (after !== null && RETRIED_STATUSES.includes(error.response.status))
            return retryAfterMs(after, options.clock.now()) === null ? true : undefined;
        }
        return undefined;
      },
    },
    hooks: {
      // A failed attempt without an answer, for the metrics (the last one is told in `once`).
      beforeRetry: [({ error }) => (error instanceof HTTPError ? undefined : report('error'))],
    },
  });

  /**
   * The bench's baseline: the transport alone (see `bareTransport`). `request` is `once`'s own controller, which
   * the caller's signal already aborts; the timeout aborts it too, as ky's would.
   */
  async function bare(endpoint: string, query: string, request: AbortController): Promise<RawAnswer> {
    const timer = setTimeout(
      () => request.abort(new TimeoutError(new Request(options.apiUrl))),
      options.timeoutMs,
    );
    try {
      const answer = await transport.get(`${endpoint}?${query}`, headers, request.signal);
      const header = (name: string): string | null => {
        const value = answer.headers[name];
        return typeof value === 'string' ? value : null;
      };
      report(outcomeOf(answer.status));
      return {
        status: answer.status,
        retryAfter: header('retry-after'),
        location: header('location'),
        body: new Body(answer.chunks),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async function once(
    endpoint: string,
    /** The query string, `URLSearchParams`-encoded. */
    query: string,
    signal?: AbortSignal,
    retry = true,
  ): Promise<RawAnswer> {
    // One controller per request, released when it ends: nothing stays attached to the caller's signal.
    const request = childController(signal);
    const stop = request.controller.signal;
    try {
      if (options.bareTransport === true) return await bare(endpoint, query, request.controller);
      stop.throwIfAborted();
      // The caller's signal goes beside the request, not to ky (see `TransportInit`): ky cannot end its backoff
      // on it then, so the caller's abort ends the wait here, and ky's next attempt fails at once on it.
      const stopped = new Promise<never>((_, reject) =>
        stop.addEventListener('abort', () => reject(stop.reason as Error), { once: true }),
      );
      const init: Options & TransportInit = {
        callerSignal: stop,
        ...(retry ? {} : { retry: { limit: 0 } }),
      };
      const answered = api.get(`${endpoint}?${query}`, init).catch((error: unknown) => {
        // An error status is Halo's answer all the same: `interpret` says what it means.
        if (error instanceof HTTPError) return error.response;
        throw error;
      });
      // Whichever loses is of no interest.
      stopped.catch(() => undefined);
      answered.catch(() => undefined);
      const response = await Promise.race([answered, stopped]);
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        location: response.headers.get('location'),
        body: new Body(chunksOf(response)),
      };
    } catch (error) {
      if (signal?.aborted === true) throw error; // shutdown: not Halo's fault
      report('error');
      if (error instanceof TimeoutError)
        throw new HaloNetworkError(endpoint, true, `no answer within ${options.timeoutMs} ms`);
      if (isBodyTooLarge(error))
        throw new HaloOversizeError(
          endpoint,
          `an answer of more than ${sizeOf(error.limitBytes)} once decoded`,
          {
            encoding: error.encoding,
            declaredBytes: error.declaredBytes,
          },
        );
      throw new HaloNetworkError(endpoint, false, describeCause(error));
    } finally {
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
    // ky has retried what it could. Asked again here: only a 2xx whose body could not be read (a proxy's page,
    // a deploy in progress), which ky cannot know, since it never reads the body.
    for (let attempt = 1; ; attempt++) {
      try {
        const raw = await once(endpoint, query, signal);
        const quick = fast !== undefined && raw.status >= 200 && raw.status <= 299 ? fast(raw.body) : null;
        if (quick !== null) return quick;
        const json = interpret(endpoint, raw);
        // Parsing a page and validating it are each a few ms of CPU: a turn of the event loop between them lets
        // a slash command that arrived meanwhile be acknowledged first.
        await new Promise((resolve) => setImmediate(resolve));
        const result = read(json);
        if (typeof result === 'string') throw new HaloResponseError(endpoint, result);
        return result;
      } catch (error) {
        if (!(error instanceof HaloResponseError) || attempt >= attempts || signal?.aborted) throw error;
        await sleep(backoff(attempt), signal);
      }
    }
  }

  const client: HaloClient = {
    scan: (filter, options) => scanEvents(client, filter, options),
    listEvents(filter, { start, limit, sort, sortDesc, signal, memo: given }) {
      const memo = pageMemoOf(given);
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
      const remembered = (read: EventPage): EventPage => {
        // A page with more entries than asked for is broken (one answered limit=1000 with 1,000,000): refused.
        if (read.returned > limit)
          throw new HaloOversizeError('event/list.json', `${read.returned} entries for limit=${limit}`);
        return memo === undefined
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
      // Deleting is not idempotent from the user's point of view (a second try would say "not found"), so ky does
      // not retry it; this loop repeats only what ky's rules cannot single out.
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await once('event/delete.json', queryOf({ event_id: eventId }), signal, false);
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
        const returned = page.items.length + page.invalid;
        if (returned > MAX_PAGE_SIZE)
          throw new HaloOversizeError('event/types.json', `${returned} entries for limit=${MAX_PAGE_SIZE}`);
        types.push(...page.items);
        const done = page.total !== null ? start + returned >= page.total : returned < MAX_PAGE_SIZE;
        if (done || returned === 0) return types;
      }
    },
  };
  return client;
}

function outcomeOf(status: number): 'ok' | 'auth_error' | 'http_error' {
  if (status === 401 || status === 403) return 'auth_error';
  return status >= 200 && status <= 299 ? 'ok' : 'http_error';
}

const sizeOf = (bytes: number): string =>
  bytes < 1024 * 1024 ? `${bytes} bytes` : `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

const queryOf = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** The system error's message, with its code (ECONNREFUSED, ECONNRESET …) when the message lacks it. */
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

/**
 * The core hands back the memo the root made for it (see `ScanMemo`): only this adapter's own kind is one. Any
 * other object is a wiring mistake, said at once rather than read as "no memo" and costing every poll in full.
 */
function pageMemoOf(memo: ScanMemo | undefined): PageMemo | undefined {
  if (memo === undefined || memo instanceof PageMemo) return memo;
  throw new TypeError('ListOptions.memo must be a PageMemo made by the Halo adapter (halo/page-memo.ts)');
}
