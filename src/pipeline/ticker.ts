/**
 * Waits and repeats for many accounts on one timer. Each account's pipeline waits between polls, checks when to
 * start, sweeps its mutes and summaries: four timers an account with Node's own, four thousand for a thousand
 * accounts. On a {@link Ticker} they are entries in one set, and the process holds one timer, armed for the
 * earliest of them.
 */
import { sleep } from '../clock.ts';

/** How a pipeline waits and repeats: Node's timers ({@link OWN_TIMERS}), or a shared {@link Ticker}. */
export interface Timers {
  /** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const OWN_TIMERS: Timers = {
  sleep,
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

interface Entry {
  at: number;
  readonly fire: () => void;
}

/** Timers may fire this much early by the monotonic clock: not worth a second wake. */
const EARLY_MS = 1;

export class Ticker implements Timers {
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  /** `now`: a monotonic clock in ms (waits are real time, not the injected clock that tests move). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Waits and repeats pending: what the process holds instead of a timer each. */
  get size(): number {
    return this.entries.size;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted === true) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.entries.delete(entry);
        resolve();
      };
      const entry: Entry = {
        at: this.now() + ms,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.add(entry);
    });
  }

  every(ms: number, fn: () => void): () => void {
    let stopped = false;
    const entry: Entry = {
      at: this.now() + ms,
      fire: () => {
        if (stopped) return;
        entry.at = this.now() + ms;
        this.add(entry);
        fn();
      },
    };
    this.add(entry);
    return () => {
      stopped = true;
      this.entries.delete(entry);
    };
  }

  private add(entry: Entry): void {
    this.entries.add(entry);
    if (entry.at < this.armedAt) this.arm(entry.at);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.now() + EARLY_MS;
    const ready: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.entries) {
      if (entry.at <= now) ready.push(entry);
      else if (entry.at < next) next = entry.at;
    }
    for (const entry of ready) this.entries.delete(entry);
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    for (const entry of ready) entry.fire();
  }
}
