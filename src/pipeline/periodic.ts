import type { Logger } from '../log.ts';

/**
 * A leader's job run every `intervalMs` and once at start: never two passes at once, and a pass never throws
 * (a failure is logged as `failure` and retried on the next pass). The mute expiry and the summaries use it.
 */
export abstract class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  protected constructor(
    private readonly job: { readonly intervalMs: number; readonly log: Logger; readonly failure: string },
  ) {}

  protected abstract sweepOnce(): Promise<void>;

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.job.intervalMs);
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
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }
}
