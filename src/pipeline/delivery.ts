import PQueue from 'p-queue';
import { sleep, type Clock } from '../clock.ts';
import { PRODUCTION_DELAYS } from '../delays.ts';
import type { Logger } from '../log.ts';
import type { OutboxItem, Store } from './store-port.ts';
import type { ChatPort } from './chat-port.ts';
import { NO_METRICS, type PipelineMetrics } from './telemetry.ts';
import { OWN_TIMERS, type Timers } from './ticker.ts';
import { goneTarget } from './gone-tracking.ts';
import {
  afterPosted,
  NO_THREAD,
  remember,
  threadStepOf,
  type DeliveryThreads,
} from './delivery-bookkeeping.ts';
import {
  collapseBacklog,
  failed,
  type FailureContext,
  type SharedPace,
  type TokenWait,
} from './delivery-failures.ts';

/** `M` is the chat service's rendered message: the renderer and the port come from the same adapter. */
export interface DeliveryOptions<M> {
  readonly store: Store;
  readonly chat: ChatPort<M>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly render: (item: OutboxItem) => M;
  /** Asked before each post: a replica that cannot prove it leads posts nothing. Absent: always leads. */
  readonly stillLeads?: () => Promise<boolean>;
  readonly metrics?: PipelineMetrics;
  /** Pause between two posts to one channel, counted from the previous answer: Slack allows ~1/s/channel. */
  readonly gapMs?: number;
  /** First wait after a post failed for now; doubles per attempt, up to the cap, for as long as it takes. */
  readonly backoffMs?: number;
  readonly backoffCapMs?: number;
  /**
   * More unposted alerts than this in one channel when Slack answers again after failing become one digest
   * (HALO_DIGEST_THRESHOLD). Unset: never.
   */
  readonly digestThreshold?: number;
  /**
   * How often this delivery looks for due rows (retries, rows left by a crash) on its own. Null: never; it is
   * woken instead (`kick`), as the fleet's deliveries are by the one due sweep of the process (due-sweep.ts).
   * Default: deliveryTickMs, for a delivery used alone.
   */
  readonly tickMs?: number | null;
  /** Scan threads (HALO_THREADS); absent: every alert is posted in the channel. */
  readonly threads?: DeliveryThreads<M>;
  /**
   * The channels' queues and pace, shared by the deliveries of one workspace's accounts (see
   * {@link channelPacing}): two accounts posting to one channel keep Slack's pace for that channel together.
   * Absent: this delivery's own.
   */
  readonly pacing?: ChannelPacing;
  /**
   * The channels' pace across replicas (PostgreSQL, see lease-port.ts), bound to this delivery's workspace: a
   * turn is taken before each post, so that two replicas posting to one channel keep its pace together. Absent:
   * one process posts everything (SQLite), and the pace in memory is enough.
   */
  readonly sharedPace?: SharedPace;
  /** Its tick and pacing waits: on a Ticker shared by every account (see ticker.ts). Default: Node's. */
  readonly timers?: Timers;
}

/** Per channel of one workspace: its queue of drains and when it may next be posted to. */
export type ChannelPacing = Map<string, ChannelState>;

/** Pacing to share between the deliveries of one workspace (never between workspaces: see DeliveryOptions). */
export function channelPacing(): ChannelPacing {
  return new Map();
}

export interface ChannelState {
  readonly queue: PQueue;
  /** Earliest time of the next post: pacing, Retry-After, or a failed row's backoff (kept in order). */
  notBefore: number;
}

/**
 * Drains the outbox: one p-queue per channel (concurrency 1, so a channel's alerts keep their order and its pace),
 * channels in parallel, so that a slow, rate-limited or broken channel never holds up the others.
 */
export class Delivery<M> {
  private readonly channels: ChannelPacing;
  private readonly stopping = new AbortController();
  private readonly gapMs: number;
  private readonly backoffMs: number;
  private readonly backoffCapMs: number;
  private stopTicking: (() => void) | undefined;
  private readonly timers: Timers;
  private kicking: Promise<void> | undefined;
  /** A kick that came while the outbox was being read: its rows may not have been visible yet. */
  private kickAgain = false;
  /**
   * Set when `stop` gave up waiting: the store is about to close, so a post that answers later must not touch it.
   * Its row keeps `sentAt`, and the next start looks for the post in the channel before making it again.
   */
  private abandoned = false;
  /** Reasons already warned about for which an uncertain post could not be looked for. */
  private readonly uncheckable = new Set<string>();
  /** While the workspace's token is refused: no channel posts before `until` (see TokenWait). */
  private readonly token: TokenWait = { until: 0, refusals: 0 };
  /** What the failure handling (delivery-failures.ts) reads of this delivery, and its token wait. */
  private readonly failures: FailureContext<M>;

  private readonly metrics: PipelineMetrics;
  /** This delivery's drains queued or running (the queues they wait in are shared: see `pacing`). */
  private readonly drains = new Set<Promise<void>>();

  constructor(private readonly options: DeliveryOptions<M>) {
    this.metrics = options.metrics ?? NO_METRICS;
    this.channels = options.pacing ?? channelPacing();
    this.timers = options.timers ?? OWN_TIMERS;
    this.gapMs = options.gapMs ?? PRODUCTION_DELAYS.slackGapMs;
    this.backoffMs = options.backoffMs ?? PRODUCTION_DELAYS.slackBackoffMs;
    this.backoffCapMs = options.backoffCapMs ?? PRODUCTION_DELAYS.slackBackoffCapMs;
    this.failures = {
      store: options.store,
      chat: options.chat,
      log: options.log,
      metrics: this.metrics,
      sharedPace: options.sharedPace,
      gapMs: this.gapMs,
      backoffMs: this.backoffMs,
      backoffCapMs: this.backoffCapMs,
      token: this.token,
    };
  }

  /** Posts what is due now (rows left by a crash or an earlier holder), and then whenever kicked. */
  start(): void {
    const tickMs = this.options.tickMs === undefined ? PRODUCTION_DELAYS.deliveryTickMs : this.options.tickMs;
    if (tickMs !== null) this.stopTicking = this.timers.every(tickMs, () => this.kick());
    this.kick();
  }

  /** Schedules a drain for every channel with a due row. Cheap and idempotent: call it whenever rows appear. */
  kick(): void {
    if (this.stopping.signal.aborted) return;
    if (this.kicking !== undefined) {
      this.kickAgain = true;
      return;
    }
    this.kicking = this.schedule()
      .catch((error: unknown) => this.options.log.error('delivery: could not read the outbox', { error }))
      .finally(() => {
        this.kicking = undefined;
        if (this.kickAgain) {
          this.kickAgain = false;
          this.kick();
        }
      });
  }

  private async schedule(): Promise<void> {
    const now = this.options.clock.now();
    if (now < this.token.until) return;
    for (const channel of await this.options.store.dueChannels(now)) {
      const state = this.state(channel);
      if (state.queue.size + state.queue.pending > 0 || state.notBefore - now > this.gapMs) continue;
      const drained = state.queue
        .add(() => this.drain(channel, state))
        .catch((error: unknown) => {
          this.options.log.error('delivery: drain failed', { channel, error });
        })
        .finally(() => this.drains.delete(drained));
      this.drains.add(drained);
    }
  }

  private state(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (state === undefined) {
      state = { queue: new PQueue({ concurrency: 1 }), notBefore: 0 };
      this.channels.set(channel, state);
    }
    return state;
  }

  private async drain(channel: string, state: ChannelState): Promise<void> {
    const { store, chat, clock, log, render } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const wait = state.notBefore - clock.now();
      if (wait > 0) await this.timers.sleep(wait, signal);
      if (this.stopped() || clock.now() < this.token.until) return;
      const item = await store.nextDue(channel, clock.now());
      if (item === null) return;

      let message: M;
      try {
        message = render(item);
      } catch (error) {
        await store.markFailed(item.id, 'could not render the stored alert', clock.now());
        this.metrics.failed('render', 1);
        log.error('delivery: a stored alert could not be rendered; recorded as failed', { channel, error });
        continue;
      }
      const step = await threadStepOf(this.options, item);
      const threadTs = step.kind === 'reply' ? step.parentTs : undefined;
      if (item.kind === 'gone') {
        await this.update(item, message, state);
        continue;
      }
      if (item.sentAt !== null) {
        // The last attempt may have reached Slack without the bot hearing so: posting again blindly could
        // repeat the alert.
        const earlier = await chat.find(channel, item.dedupKey, item.sentAt, threadTs);
        if (this.abandoned) return;
        if ('found' in earlier && earlier.found) {
          await remember(this.options, item, earlier.ts);
          await afterPosted(this.options, item, step, earlier.ts);
          await store.markDelivered(item.id, clock.now());
          log.info('delivery: an earlier attempt had posted it', {
            channel,
            key: item.dedupKey,
            ts: earlier.ts,
          });
          if (item.attempts > 0) await collapseBacklog(this.options, channel);
          continue;
        }
        if ('unknown' in earlier) this.cannotCheck(earlier.unknown, channel);
        if (this.stopped()) return;
      }
      if (this.options.stillLeads !== undefined && !(await this.options.stillLeads())) return;
      if (!(await this.takeTurn(channel, state))) continue;
      if (!(await store.markSending(item.id, clock.now()))) {
        // Another replica leads now, or the row is no longer pending: posting it could repeat it.
        log.info('delivery: row not claimed; leaving it to whoever holds it', {
          channel,
          key: item.dedupKey,
        });
        return;
      }
      const result = await chat.post(
        channel,
        message,
        step.kind === 'reply'
          ? { dedupKey: item.dedupKey, threadTs: step.parentTs, broadcast: step.broadcast }
          : { dedupKey: item.dedupKey },
      );
      if (this.abandoned) {
        log.warn(
          'delivery: a post answered after shutdown gave up on it; the next start checks the channel',
          {
            channel,
            key: item.dedupKey,
          },
        );
        return;
      }
      const now = clock.now();
      state.notBefore = now + this.gapMs;
      if (result.ok) {
        // A token that works again ends a wait as a failed row's retry does: the backlog may be too much to post.
        const waited = this.token.refusals > 0;
        this.token.refusals = 0;
        await remember(this.options, item, result.ts);
        await afterPosted(this.options, item, step, result.ts);
        await store.markDelivered(item.id, now);
        this.metrics.posted(item.kind, (now - item.createdAt) / 1000);
        log.info('alert posted', { channel, kind: item.kind, key: item.dedupKey, ts: result.ts });
        // A row that had failed is through: Slack is back, and what piled up behind it may be too much to post.
        if (item.attempts > 0 || waited) await collapseBacklog(this.options, channel);
        continue;
      }
      if (!(await failed(this.failures, item, result, step, state, now))) return;
    }
  }

  /**
   * A `gone` row: updates the message already in the channel to say its event no longer exists. Updating twice
   * shows the same thing, so an uncertain earlier attempt is not looked for. True: go on with the channel.
   */
  private async update(item: OutboxItem, message: M, state: ChannelState): Promise<boolean> {
    const { store, chat, clock, log } = this.options;
    const channel = item.channel;
    const ts = goneTarget(item.payload);
    if (ts === null) {
      await store.markFailed(item.id, 'could not render the stored alert', clock.now());
      this.metrics.failed('render', 1);
      return true;
    }
    if (this.options.stillLeads !== undefined && !(await this.options.stillLeads())) return false;
    // Not this channel's turn across replicas yet: the drain waits it out and comes back to this row.
    if (!(await this.takeTurn(channel, state))) return true;
    if (!(await store.markSending(item.id, clock.now()))) return false;
    const result = await chat.update(channel, ts, message);
    if (this.abandoned) return false;
    const now = clock.now();
    state.notBefore = now + this.gapMs;
    // Someone deleted the message in Slack: there is nothing left to keep true.
    if (result.ok || result.error === 'message_not_found') {
      if (result.ok) this.token.refusals = 0;
      await store.markDelivered(item.id, now);
      if (result.ok) this.metrics.posted(item.kind, (now - item.createdAt) / 1000);
      log.info(
        result.ok
          ? 'message updated: its event no longer exists in Halo'
          : 'message not updated: it was deleted in Slack',
        { channel, ts },
      );
      return true;
    }
    return failed(this.failures, item, result, NO_THREAD, state, now);
  }

  /**
   * The channel's turn across replicas: true to post now; false when another replica posted to it lately, the
   * channel then waiting (in memory) for as long as the database says.
   */
  private async takeTurn(channel: string, state: ChannelState): Promise<boolean> {
    const shared = this.options.sharedPace;
    if (shared === undefined) return true;
    const wait = await shared.take(channel, this.gapMs);
    if (wait <= 0) return true;
    state.notBefore = Math.max(state.notBefore, this.options.clock.now() + wait);
    return false;
  }

  /** Once per reason: a missing scope would otherwise repeat the same warning for every uncertain post. */
  private cannotCheck(reason: string, channel: string): void {
    if (this.uncheckable.has(reason)) return;
    this.uncheckable.add(reason);
    const hint =
      reason === 'missing_scope'
        ? '; add channels:history and groups:history to the app and reinstall it'
        : '';
    this.options.log.warn(
      `cannot check whether an uncertain post reached Slack (${reason}): it may be posted twice${hint}`,
      { channel },
    );
  }

  /** A method, not `signal.aborted` inline: the flag changes across awaits, which narrowing cannot see. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * The workspace's token works again (it was installed again): ends a wait for it at once rather than at the
   * next probe, and posts what waited, in order.
   */
  resume(): void {
    this.token.until = 0;
    this.token.refusals = 0;
    this.kick();
  }

  /** Whether posts wait for the workspace's token to work again. */
  waitingForToken(): boolean {
    return this.token.refusals > 0;
  }

  /** Stops taking new work and waits (up to `deadlineMs`) for posts in flight; unsent rows stay in the outbox. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopTicking?.();
    this.stopping.abort();
    // Its own drains only: the channels' queues are shared with the workspace's other accounts, which go on.
    const idle = Promise.all([...this.drains]);
    const finished = await Promise.race([idle.then(() => true), sleep(deadlineMs).then(() => false)]);
    if (!finished) this.abandoned = true;
  }

  /** Channels with work queued or in flight. */
  busyChannels(): number {
    return [...this.channels.values()].filter((s) => s.queue.size + s.queue.pending > 0).length;
  }
}
