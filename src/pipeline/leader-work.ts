/**
 * What only the leader does, and the switch between leading and following. Every replica answers Slack; the
 * leader alone polls Halo, posts, announces the end of mutes and queues scheduled summaries: for one account
 * ({@link AccountWork}) or for every account of the deployment (the Fleet). One election loop per process,
 * whatever the number of accounts.
 */
import type { Logger } from '../log.ts';
import { AccountWork, type LeaderParts, type LedWork } from './account-work.ts';
import { LeaderLoop, type LeaderElection, type LeaderView } from './leadership.ts';

export type { LeaderParts, LedWork } from './account-work.ts';

export interface LeaderWorkOptions {
  readonly election: LeaderElection;
  readonly heartbeatMs: number;
  /** How long a post in flight may take to finish when this replica stops leading. */
  readonly drainMs: number;
  readonly log: Logger;
}

export class LeaderWork {
  private leadingNow = false;
  private work: LedWork | undefined;
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
   * routes, so the two are made after this object. One account's parts, or a fleet's work.
   */
  attach(work: LeaderParts | LedWork): void {
    this.work = 'lead' in work ? work : new AccountWork(work, this.options.drainMs);
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  /** A new outbox row: post it now rather than at the next tick, when this replica posts at all. */
  kick(): void {
    if (this.leadingNow) this.work?.kick();
  }

  view(): LeaderView & { self: string } {
    return this.loop.view();
  }

  /** What a standby knows of the last successful poll is the leader's, read from the store. */
  async refreshFollower(): Promise<void> {
    if (!this.leadingNow) await this.required().refreshLastSuccess();
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
    const work = this.required();
    this.leadingNow = true;
    await work.lead();
  }

  private async follow(): Promise<void> {
    this.leadingNow = false;
    await this.required().follow();
  }

  private required(): LedWork {
    if (this.work === undefined)
      throw new Error('LeaderWork: attach() the poller and delivery before start()');
    return this.work;
  }
}
