/**
 * Deliveries are woken, not polled. Most rows are posted the moment they are written: the account's own poll,
 * mute expiry and summaries kick its delivery as they route. What nothing kicks is found here, by one read over
 * the whole outbox every `intervalMs`:
 * - a failed post's retry, once its backoff ends;
 * - a workspace whose token Slack refused, once its wait ends (the refused rows stay due);
 * - rows written by someone else: a command on another replica, a replica that died, an earlier holder.
 * The sweep wakes the deliveries of the scopes it finds that this replica leads, and no other.
 *
 * It replaces a tick per account: each account's delivery used to read its own outbox every second, a thousand
 * reads a second for a thousand accounts, nearly all finding nothing, which delayed the polls themselves.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Scope } from './tenancy-port.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';

export interface DueSweepOptions {
  /** The scopes with a due outbox row, every scope's (see TenantStore.dueScopes). */
  readonly dueScopes: (now: number) => Promise<Scope[]>;
  /** Wakes the delivery of `scope` if this replica leads it; a no-op otherwise. */
  readonly wake: (scope: Scope) => void;
  /** Whether this replica leads any account now: while it leads none, nothing is read. */
  readonly leadsAny: () => boolean;
  /** deliveryTickMs: how late a row nothing kicked may be posted. */
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** The process's shared Ticker (see ticker.ts). Default: Node's timers. */
  readonly timers?: Timers;
}

export class DueSweep {
  private stopTimer: (() => void) | undefined;
  private sweeping: Promise<void> | undefined;
  /** Set while the outbox cannot be read: said once when it starts failing, once when it is back. */
  private failing = false;

  constructor(private readonly options: DueSweepOptions) {}

  /** Starts sweeping every interval; a second start while running changes nothing. */
  start(): void {
    if (this.stopTimer !== undefined) return;
    this.stopTimer = (this.options.timers ?? OWN_TIMERS).every(this.options.intervalMs, () => {
      void this.sweep();
    });
  }

  /**
   * Stops sweeping, and waits for a sweep in flight (the store closes next); what it found is still woken, which
   * a stopped delivery ignores.
   */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.sweeping;
  }

  /** One sweep, or the one in flight: a slow database never stacks them up. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const { log } = this.options;
    if (!this.options.leadsAny()) return;
    let due: Scope[];
    try {
      due = await this.options.dueScopes(this.options.clock.now());
    } catch (error) {
      if (!this.failing)
        log.error('delivery: the outbox could not be swept for due rows; retrying', { error });
      this.failing = true;
      return;
    }
    if (this.failing) log.info('delivery: the outbox can be swept again');
    this.failing = false;
    for (const scope of due) this.options.wake(scope);
  }
}
