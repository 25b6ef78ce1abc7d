import type { Logger } from '../log.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';

/**
 * A leader's job run every `intervalMs` and once at start: never two passes at once, and a pass never throws
 * (a failure is logged as `failure` and retried on the next pass). The mute expiry and the summaries use it.
 */
export abstract class PeriodicJob {
  private stopTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;

  protected constructor(
    private readonly job: {
      readonly intervalMs: number;
      readonly log: Logger;
      readonly failure: string;
      /** On a Ticker shared by every account (see ticker.ts). Default: Node's. */
      readonly timers?: Timers | undefined;
    },
  ) {}

  protected abstract sweepOnce(): Promise<void>;

  start(): void {
    this.stopTimer = (this.job.timers ?? OWN_TIMERS).every(this.job.intervalMs, () => void this.sweep());
    void this.sweep();
  }

  /** One pass, or the one in progress. */
  sweep(): Promise<void> {
    this.running ??= this.sweepOnce()
      .catch((error: unknown) => this.job.log.error(this.job.failure, { error }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopTimer?.();
    await this.running;
  }
}
