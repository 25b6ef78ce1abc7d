/**
 * Every way a Halo call can fail becomes one of these, never a raw exception from the HTTP library.
 * `retryable` tells the caller whether the same request may succeed later.
 */
export abstract class HaloError extends Error {
  abstract readonly retryable: boolean;
  /** A sentence fit to show a Slack user: no URL, key or stack. */
  abstract readonly userMessage: string;
}

/**
 * A 404 without Halo's error body, or no connection at all, most often means the base URL is wrong: another
 * host or port, or a path without Halo's `/api/v1`.
 */
const CHECK_URL = 'check HALO_API_URL: its host and port, and does it end in /api/v1?';

/** Halo answered with its error body `{code, message}`, whatever the HTTP status. */
export class HaloApiError extends HaloError {
  override name = 'HaloApiError' as const;
  readonly retryable = false;
  constructor(
    readonly endpoint: string,
    readonly code: number,
    readonly apiMessage: string,
    readonly status: number,
  ) {
    super(`Halo ${endpoint} failed: ${apiMessage} (code ${code}, HTTP ${status})`);
  }
  get notFound(): boolean {
    return this.code === 404 || /not found/i.test(this.apiMessage);
  }
  /**
   * A fixed sentence per outcome: Halo's own text (which may quote the key in forms no redaction knows) goes to
   * the log only.
   */
  get userMessage(): string {
    return this.notFound
      ? 'Halo says that event was not found.'
      : `Halo refused the request (error code ${this.code}); Halo’s message is in the bot’s log.`;
  }
}

/** 401/403: the key is wrong, revoked or lacks rights. Retrying cannot help; a person must act. */
export class HaloAuthError extends HaloError {
  override name = 'HaloAuthError' as const;
  readonly retryable = false;
  readonly userMessage = 'Halo rejected the bot’s API key; an admin must update HALO_API_KEY.';
  constructor(
    readonly endpoint: string,
    readonly status: number,
  ) {
    super(
      `Halo rejected the API key on ${endpoint} (HTTP ${status}). Create a key under Account → API in Halo and set HALO_API_KEY.`,
    );
  }
}

/** A non-2xx answer without Halo's error body: gateways, overload, rate limits. */
export class HaloHttpError extends HaloError {
  override name = 'HaloHttpError' as const;
  readonly retryable: boolean;
  readonly userMessage: string;
  constructor(
    readonly endpoint: string,
    readonly status: number,
    /** From `Retry-After`, when Halo sent one. */
    readonly retryAfterMs: number | null,
    /** A redirect's `location`: not followed, since the API key would go along (see `transport.ts`). */
    readonly redirectedTo?: string,
  ) {
    super(
      redirectedTo === undefined
        ? `Halo ${endpoint} answered HTTP ${status}${status === 404 ? `; ${CHECK_URL}` : ''}`
        : `Halo ${endpoint} answered HTTP ${status}, a redirect to ${redirectedTo}: the bot does not follow ` +
            'redirects (the API key would go along); set HALO_API_URL to the address Halo gives',
    );
    this.retryable = status === 429 || status >= 500;
    this.userMessage = this.retryable
      ? `Halo is not answering properly right now (HTTP ${status}); try again in a minute.`
      : status === 404
        ? 'Halo does not know this address (HTTP 404); an admin should check that HALO_API_URL ends in /api/v1.'
        : `Halo refused the request (HTTP ${status}).`;
  }
}

/** The body was not JSON, or JSON of the wrong shape: the server said something, but not what the API promises. */
export class HaloResponseError extends HaloError {
  override name = 'HaloResponseError' as const;
  // Garbage usually comes from a proxy or a deploy in progress, so it is worth asking again.
  readonly retryable = true;
  readonly userMessage = 'Halo sent an answer the bot could not read; try again in a minute.';
  constructor(
    readonly endpoint: string,
    readonly problem: string,
  ) {
    super(`Halo ${endpoint} sent an unreadable answer: ${problem}`);
  }
}

/** No answer at all: connection refused or reset, DNS failure, or the timeout. */
export class HaloNetworkError extends HaloError {
  override name = 'HaloNetworkError' as const;
  readonly retryable = true;
  readonly userMessage: string;
  constructor(
    readonly endpoint: string,
    readonly timedOut: boolean,
    cause: string,
  ) {
    super(
      timedOut
        ? `Halo ${endpoint} timed out: ${cause}`
        : // A refused connection or an unknown host is most often the setting, not an outage.
          `Halo ${endpoint} could not be reached: ${cause}; ${CHECK_URL}`,
    );
    this.userMessage = timedOut
      ? 'Halo did not answer in time; try again in a minute.'
      : 'Halo could not be reached; try again in a minute.';
  }
}

/**
 * Halo sent more than the bot accepts: an answer past the size cap (`MAX_RESPONSE_BYTES`), or a page with more
 * entries than were asked for. Such an answer is broken or hostile, not busy: asking again would only cost the
 * same again, so it is not retried. Reading stopped the moment the answer passed the limit.
 */
export class HaloOversizeError extends HaloError {
  override name = 'HaloOversizeError' as const;
  readonly retryable = false;
  readonly userMessage = 'Halo sent far more than the bot asked for; the answer was refused.';
  constructor(
    readonly endpoint: string,
    /** What Halo sent, e.g. "an answer of more than 8 MB once decoded" or "5000 entries for limit=1000". */
    readonly sent: string,
    readonly details: { readonly encoding?: string | null; readonly declaredBytes?: number | null } = {},
  ) {
    const wire = [
      details.encoding == null ? '' : `content-encoding ${details.encoding}`,
      details.declaredBytes == null ? '' : `content-length ${details.declaredBytes}`,
    ].filter((part) => part !== '');
    super(
      `Halo ${endpoint} sent ${sent}${wire.length > 0 ? ` (${wire.join(', ')})` : ''}: refused, not read ` +
        'further. A page of 1,000 events is about 350 kB; check HALO_API_URL and any proxy in front of Halo',
    );
  }
}
