/**
 * The work of the replica that holds one Halo account's lease: its poller, and a Delivery, a MuteExpiry and a
 * SummaryScheduler made afresh for each term (a stopped one stays stopped; the Poller restarts in place). The
 * Fleet switches one per account it holds (see fleet.ts and sharing.ts): the scheduled work (mute ends,
 * summaries) runs under the account's lease too, so once, by its holder.
 */

/** The pieces of one account's work that leading starts and following stops. */
export interface LeaderParts {
  readonly poller: { start(): Promise<void>; stop(): Promise<void>; refreshLastSuccess(): Promise<void> };
  readonly newDelivery: () => {
    start(): void;
    kick(): void;
    /** The workspace's token works again (installed again): posts what waited for it now. */
    resume?(): void;
    stop(deadlineMs: number): Promise<void>;
  };
  readonly newMuteExpiry: () => { start(): void; stop(): Promise<void> };
  /** Scheduled summaries (see pipeline/summaries.ts); absent, none are sent. */
  readonly newSummaries?: () => { start(): void; stop(): Promise<void> };
}

/** What starts when this replica takes an account (or several: the fleet) and stops when it gives it up. */
export interface LedWork {
  lead(): Promise<void>;
  follow(): Promise<void>;
  /** A new outbox row: post it now rather than at the next due sweep (a no-op while following). */
  kick(): void;
  /** A standby's view of the last successful poll, read from the store. */
  refreshLastSuccess(): Promise<void>;
  /** The workspace's token works again: posts what waited for it now. */
  resume?(): void;
}

export class AccountWork implements LedWork {
  private leading = false;
  private delivery: ReturnType<LeaderParts['newDelivery']> | undefined;
  private muteExpiry: ReturnType<LeaderParts['newMuteExpiry']> | undefined;
  private summaries: { start(): void; stop(): Promise<void> } | undefined;

  constructor(
    private readonly parts: LeaderParts,
    /** How long a post in flight may take to finish when this work stops. */
    private readonly drainMs: number,
  ) {}

  kick(): void {
    if (this.leading) this.delivery?.kick();
  }

  refreshLastSuccess(): Promise<void> {
    return this.parts.poller.refreshLastSuccess();
  }

  /** The workspace was installed again: what waited for its token is posted now (a no-op while following). */
  resume(): void {
    if (this.leading) this.delivery?.resume?.();
  }

  async lead(): Promise<void> {
    const { parts } = this;
    this.delivery = parts.newDelivery();
    this.muteExpiry = parts.newMuteExpiry();
    this.summaries = parts.newSummaries?.();
    // Before the poller starts: its first poll's rows kick the delivery just made.
    this.leading = true;
    await parts.poller.start();
    this.delivery.start();
    this.muteExpiry.start();
    this.summaries?.start();
  }

  async follow(): Promise<void> {
    this.leading = false;
    await this.parts.poller.stop();
    await this.muteExpiry?.stop();
    await this.summaries?.stop();
    await this.delivery?.stop(this.drainMs);
  }
}
