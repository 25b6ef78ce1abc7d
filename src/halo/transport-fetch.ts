/**
 * A fetch for ky, built on `transport.ts`: ky keeps what it is good at (the prefix URL, the timeout, retries
 * with backoff and Retry-After, hooks), and the body travels as the chunks it arrived in.
 *
 * The `Response` it resolves with has no body stream: its chunks are handed over beside it, through
 * {@link chunksOf}. A web stream per page, read back into bytes, was what made ky on the global fetch cost
 * twice the transport's CPU (README → Performance); the chunks let the client hash a page it already knows
 * without joining them. The Response itself carries the status and the headers, which is all ky looks at.
 */
import { childController } from '../abort.ts';
import { BodyTooLargeError, type HttpTransport } from './transport.ts';

const bodies = new WeakMap<Response, readonly Uint8Array[]>();

/** The decoded body of a Response that {@link transportFetch} made, in its chunks; empty for any other. */
export function chunksOf(response: Response): readonly Uint8Array[] {
  return bodies.get(response) ?? [];
}

/**
 * What the client may pass beside a request (ky hands options it does not know to the fetch): the caller's
 * own signal. Given to ky as `signal`, it would be tied to ky's with `AbortSignal.any` on every request, whose
 * weak references cost a steady poll more collection work than ky's own code costs.
 */
export interface TransportInit extends RequestInit {
  readonly callerSignal?: AbortSignal;
}

/** Whether `error` is the transport's refusal of a body past its cap (see `transport.ts`). */
export const isBodyTooLarge = (error: unknown): error is BodyTooLargeError =>
  error instanceof BodyTooLargeError;

/**
 * A fetch for GETs under `baseUrl` only: a URL elsewhere is refused, since `headers` (the API key) are meant
 * for Halo alone. They are added here rather than given to ky, which would copy them into new `Headers` three
 * times a request (its defaults, its options, its `Request`).
 */
export function transportFetch(
  transport: HttpTransport,
  baseUrl: string,
  headers: Readonly<Record<string, string>> = {},
): typeof fetch {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
  return async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    if (request.method !== 'GET') throw new TypeError(`only GET is supported, not ${request.method}`);
    if (!request.url.startsWith(base)) throw new TypeError(`${request.url} is not under ${base}`);
    const sent: Record<string, string> = { ...headers };
    request.headers.forEach((value, name) => (sent[name] = value));
    // Ends with whichever of ky's signal (its timeout) and the caller's aborts first.
    const link = childController(request.signal, (init as TransportInit | undefined)?.callerSignal);
    const answer = await transport
      .get(request.url.slice(base.length), sent, link.controller.signal)
      .finally(() => link.release());
    // `Response` accepts 200-599 only; anything else is no HTTP answer the client can use.
    if (answer.status < 200 || answer.status > 599)
      throw new TypeError(`unexpected HTTP status ${answer.status}`);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (typeof value === 'string') responseHeaders.set(name, value);
      else if (value !== undefined) for (const one of value) responseHeaders.append(name, one);
    }
    const response = new Response(null, { status: answer.status, headers: responseHeaders });
    bodies.set(response, answer.chunks);
    return response;
  };
}
