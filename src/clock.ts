/** Time, injected so that tests and the request verifier do not depend on the wall clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A sleep that ends early, without throwing, when the signal aborts: shutdown must not wait out a backoff. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A read's answer within its wait: its value, or why there is none (it failed, or it took too long). */
export type Timely<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly late: true }
  | { readonly ok: false; readonly late: false; readonly error: unknown };

/**
 * `read`'s answer if it comes within `waitMs`; otherwise, or if it fails, why not. A late read goes on (what it
 * does when it ends still happens): for a caller that answers from what it last read rather than keep a person,
 * or Slack's 3 s, waiting on a slow or absent database.
 */
export async function timely<T>(read: Promise<T>, waitMs: number): Promise<Timely<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Timely<T>>((resolve) => {
    timer = setTimeout(resolve, waitMs, { ok: false, late: true });
  });
  const answered = read.then(
    (value): Timely<T> => ({ ok: true, value }),
    (error: unknown): Timely<T> => ({ ok: false, late: false, error }),
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}
