/**
 * How the Halo client speaks HTTP: node:http(s) on keep-alive agents, the body handed back as the chunks it
 * arrived in.
 *
 * Why not the global fetch: a steady poll of a million events asks for a thousand 300 kB pages, and through
 * fetch each came as a web stream of small chunks, behind a `Request`, its clone, an `AbortSignal.any` and a
 * `Response`, whose weak references and finalizers kept V8 marking the whole heap every few pages. ky runs on
 * top of this file instead, through `transport-fetch.ts`, a fetch that hands the chunks over beside the
 * `Response`; `npx tsx bench/steady.ts 1000000 3 --compare=2` measures what ky costs over this file alone.
 *
 * What fetch did that matters here is kept: compressed bodies (gzip, deflate, br) are asked for and decoded; an
 * abort ends the request at once. Unlike fetch, redirects are not followed: one could carry the API key to
 * another host, so a 3xx comes back as it is, with its `location`, and the client says what to fix. And unlike
 * fetch, a body is read only up to `maxBodyBytes` once decoded: past that, reading and decoding stop at once
 * and the request fails with {@link BodyTooLargeError} (a gzip bomb of 3 GB took the bot past 2.4 GB of RSS).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, decoded, in the chunks it arrived in: a caller that only hashes it never joins them. */
  readonly chunks: readonly Uint8Array[];
}

export interface HttpTransport {
  /**
   * One GET of `path` (with its query) under the base URL. Rejects with the system error (its `code`, such as
   * ECONNREFUSED, kept) when there is no whole answer, or with `signal.reason` when aborted.
   */
  get(path: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<HttpAnswer>;
}

/** A body that passed the cap: nothing more of it was read or decoded. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError' as const;
  constructor(
    readonly limitBytes: number,
    /** `content-encoding` as Halo sent it, or null. */
    readonly encoding: string | null,
    /** `content-length` as Halo sent it (the size on the wire), or null. */
    readonly declaredBytes: number | null,
  ) {
    super(
      `the answer is larger than ${limitBytes} bytes once decoded` +
        (encoding === null ? '' : ` (content-encoding ${encoding})`) +
        (declaredBytes === null ? '' : ` (content-length ${declaredBytes})`),
    );
  }
}

/**
 * One keep-alive agent per Halo origin (scheme, host and port), shared by every account's client: 1,000 accounts
 * on one Halo host hold the sockets their requests in flight need, not 1,000 pools of idle ones.
 */
const agents = new Map<string, http.Agent>();

function agentFor(base: URL): http.Agent {
  let agent = agents.get(base.origin);
  if (agent === undefined) {
    agent =
      base.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    agents.set(base.origin, agent);
  }
  return agent;
}

/** How many keep-alive agents exist in this process: one per Halo origin ever asked (see {@link agentFor}). */
export function haloAgentCount(): number {
  return agents.size;
}

/**
 * A transport on its origin's shared keep-alive agent, so that connections to Halo are reused from page to page
 * and from account to account. Node's agent unrefs an idle connection, so none holds the process open at shutdown.
 */
export function createHttpTransport(baseUrl: string, maxBodyBytes: number): HttpTransport {
  const base = new URL(baseUrl);
  const protocol = base.protocol;
  // Configuration checks the URL first; this guards other callers.
  if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`unsupported protocol ${protocol}`);
  const target: http.RequestOptions = {
    ...urlToHttpOptions(base),
    method: 'GET',
    agent: agentFor(base),
  };
  const send = protocol === 'https:' ? https.request : http.request;
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  // The URL's parts are worked out once: a poll makes a thousand requests to the same place.
  return {
    get: (path, headers, signal) =>
      get(
        () =>
          send({
            ...target,
            path: prefix + path,
            headers: { 'accept-encoding': 'gzip, deflate, br', ...headers },
          }),
        signal,
        maxBodyBytes,
      ),
  };
}

function get(
  start: () => http.ClientRequest,
  signal: AbortSignal,
  maxBodyBytes: number,
): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal.aborted) {
      reject(asError(signal.reason));
      return;
    }
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: unknown): void => {
      if (!settle()) return;
      outgoing.destroy();
      reject(asError(error));
    };
    const onAbort = (): void => fail(signal.reason);
    const outgoing = start();
    signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', fail);
    outgoing.on('response', (incoming) => {
      const encoding = incoming.headers['content-encoding']?.trim() ?? null;
      const length = Number(incoming.headers['content-length'] ?? Number.NaN);
      const declared = Number.isSafeInteger(length) ? length : null;
      const tooLarge = (): void => {
        fail(new BodyTooLargeError(maxBodyBytes, encoding, declared));
        // Stops the decoder now, not when the destroyed socket's error reaches it: a bomb decodes fast.
        body.destroy();
        incoming.destroy();
      };
      const body = decoded(incoming, fail);
      // Refused before a byte is read when the size on the wire alone is too much.
      if (declared !== null && declared > maxBodyBytes && (encoding === null || encoding === 'identity')) {
        tooLarge();
        return;
      }
      const chunks: Uint8Array[] = [];
      let received = 0;
      body.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > maxBodyBytes) tooLarge();
        else chunks.push(chunk);
      });
      body.on('end', () => {
        if (settle()) resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, chunks });
      });
      // A connection that closes before the body's end is an error, not a short body.
      incoming.on('error', fail);
      incoming.on('close', () => {
        if (!incoming.complete)
          fail(Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' }));
      });
    });
    outgoing.end();
  });
}

/** An abort's reason is whatever the caller gave (`AbortController.abort(reason)`); a rejection is an Error. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** The body as sent before `content-encoding`; a broken encoding fails the request. */
function decoded(incoming: IncomingMessage, fail: (error: unknown) => void): Readable {
  const decoder = decoderFor(incoming.headers['content-encoding']);
  if (decoder === undefined) return incoming;
  pipeline(incoming, decoder, (error) => {
    if (error) fail(error);
  });
  return decoder;
}

function decoderFor(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}
