/**
 * What only the leader does, and the switch between leading and following. Every replica answers Slack; the
 * leader alone polls Halo, posts, announces the end of mutes and queues scheduled summaries. A Delivery and a MuteExpiry are made afresh for
 * each term of leadership, because a stopped one stays stopped; the Poller restarts in place.
 */
import type { Logger } from '../log.ts';
import { LeaderLoop, type LeaderElection, type LeaderView } from './leadership.ts';

/** The pieces of the leader's work that the switch starts and stops. */
export interface LeaderParts {
  readonly poller: { start(): Promise<void>; stop(): Promise<void>; refreshLastSuccess(): Promise<void> };
  readonly newDelivery: () => { start(): void; kick(): void; stop(deadlineMs: number): Promise<void> };
  readonly newMuteExpiry: () => { start(): void; stop(): Promise<void> };
  /** Scheduled summaries (see pipeline/summaries.ts); absent, none are sent. */
  readonly newSummaries?: () => { start(): void; stop(): Promise<void> };
}

export interface LeaderWorkOptions {
  readonly election: LeaderElection;
  readonly heartbeatMs: number;
  /** How long a post in flight may take to finish when this replica stops leading. */
  readonly drainMs: number;
  readonly log: Logger;
}

export class LeaderWork {
  private leadingNow = false;
  private parts: LeaderParts | undefined;
  private delivery: ReturnType<LeaderParts['newDelivery']> | undefined;
  private muteExpiry: ReturnType<LeaderParts['newMuteExpiry']> | undefined;
  private summaries: { start(): void; stop(): Promise<void> } | undefined;
  private readonly loop: LeaderLoop;

  constructor(private readonly options: LeaderWorkOptions) {
    this.loop = new LeaderLoop(
      options.election,
      { lead: () => this.lead(), follow: () => this.follow() },
      options.heartbeatMs,
      options.log,
    );
  }

  /**
   * The work itself, handed over once it is built: the poller is told to kick delivery ({@link kick}) when it
   * routes, so the two are made after this object.
   */
  attach(parts: LeaderParts): void {
    this.parts = parts;
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  /** A new outbox row: post it now rather than at the next tick, when this replica posts at all. */
  kick(): void {
    if (this.leadingNow) this.delivery?.kick();
  }

  view(): LeaderView & { self: string } {
    return this.loop.view();
  }

  /** What a standby knows of the last successful poll is the leader's, read from the store. */
  async refreshFollower(): Promise<void> {
    if (!this.leadingNow) await this.required().poller.refreshLastSuccess();
  }

  /** Resolves after the first election check, so that a lone replica leads before it says it started. */
  start(): Promise<void> {
    this.required();
    return this.loop.start();
  }

  /** Stops polling and posting, then releases the lead: a standby takes over within a heartbeat. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async lead(): Promise<void> {
    const parts = this.required();
    this.delivery = parts.newDelivery();
    this.muteExpiry = parts.newMuteExpiry();
    this.summaries = parts.newSummaries?.();
    this.leadingNow = true;
    await parts.poller.start();
    this.delivery.start();
    this.muteExpiry.start();
    this.summaries?.start();
  }

  private async follow(): Promise<void> {
    this.leadingNow = false;
    await this.required().poller.stop();
    await this.muteExpiry?.stop();
    await this.summaries?.stop();
    await this.delivery?.stop(this.options.drainMs);
  }

  private required(): LeaderParts {
    if (this.parts === undefined)
      throw new Error('LeaderWork: attach() the poller and delivery before start()');
    return this.parts;
  }
}
