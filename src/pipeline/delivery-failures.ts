import { backoffMs } from '../delays.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { OutboxItem, Store } from './store-port.ts';
import type { ChatFailure, ChatPort } from './chat-port.ts';
import type { PipelineMetrics } from './telemetry.ts';
import { backlogDigest } from './outbox.ts';
import type { ThreadStep } from './threads.ts';

/**
 * The channels' pace across replicas (PostgreSQL, see lease-port.ts), bound to one delivery's workspace: a turn
 * is taken before each post, so that two replicas posting to one channel keep its pace together.
 */
export interface SharedPace {
  take(channel: string, gapMs: number): Promise<number>;
  hold(channel: string, ms: number): Promise<void>;
}

/**
 * While the workspace's token is refused (uninstalled, revoked, deactivated): no channel posts before `until`.
 * Each refusal doubles the wait up to the backoff cap; `resume` (a reinstall) or a post that goes through ends it.
 */
export interface TokenWait {
  until: number;
  refusals: number;
}

/** What a failure changes in its channel: the earliest time of the next post (see ChannelState). */
export interface PacedChannel {
  notBefore: number;
}

/** What `failed` reads of its delivery, and the token wait it changes. */
export interface FailureContext<M> {
  readonly store: Store;
  readonly chat: ChatPort<M>;
  readonly log: Logger;
  readonly metrics: PipelineMetrics;
  readonly sharedPace: SharedPace | undefined;
  readonly gapMs: number;
  readonly backoffMs: number;
  readonly backoffCapMs: number;
  readonly token: TokenWait;
}

/**
 * What a failed post or update means for its row and its channel. True: go on with the channel's next row;
 * false: leave the channel for now (it waits for a retry, or can never receive).
 */
export async function failed<M>(
  context: FailureContext<M>,
  item: OutboxItem,
  result: ChatFailure,
  step: ThreadStep,
  state: PacedChannel,
  now: number,
): Promise<boolean> {
  const { store, chat, log, metrics, token } = context;
  const channel = item.channel;
  switch (result.kind) {
    case 'rate_limited':
      // Costs no attempt: Slack told us exactly when to come back.
      state.notBefore = now + (result.retryAfterMs ?? context.gapMs);
      await context.sharedPace?.hold(channel, result.retryAfterMs ?? context.gapMs);
      metrics.rateLimited();
      log.warn('delivery: rate limited; pausing this channel only', {
        channel,
        retryAfterMs: result.retryAfterMs,
      });
      return true;
    case 'channel': {
      const failedRows = await store.failChannel(channel, result.error, now);
      metrics.failed('channel', failedRows);
      log.error(chat.hint(result, channel), { channel, error: result.error, alertsFailed: failedRows });
      return false;
    }
    case 'thread':
      // Its parent was deleted: end the thread, and the same row goes to the channel on the next turn.
      if (step.kind === 'reply') await store.closeThread(channel, step.targetId);
      log.warn(chat.hint(result, channel), { channel, key: item.dedupKey });
      return true;
    case 'message':
      await store.markFailed(item.id, result.error, now);
      metrics.failed('message', 1);
      log.error(chat.hint(result, channel), { channel, key: item.dedupKey });
      return true;
    case 'revoked': {
      // The workspace waits, every channel of it, and its rows stay exactly as they are: no attempt counted
      // (a reinstall must not turn the backlog into a digest), nothing failed, nothing skipped. Slack refused
      // the post outright, so it did not happen: the same row goes first once a token works again.
      if (token.refusals === 0) log.error(chat.hint(result, channel), { channel });
      token.refusals += 1;
      token.until = now + backoffMs(token.refusals, context.backoffMs, context.backoffCapMs);
      return false;
    }
    case 'auth':
    case 'transient': {
      // Never given up: an outage or a token being rotated ends, and an alert must not be lost to it. Only
      // Slack refusing the channel or the message itself (above) fails a row.
      const attempts = item.attempts + 1;
      const backoff = backoffMs(attempts, context.backoffMs, context.backoffCapMs);
      await store.markRetry(item.id, now + backoff, result.error);
      // Holding the channel keeps its alerts in order: the next one waits for this one's retry.
      state.notBefore = now + backoff;
      log[result.kind === 'auth' ? 'error' : 'warn'](chat.hint(result, channel), {
        channel,
        attempts,
        retryInMs: backoff,
      });
      return false;
    }
  }
}

/** Replaces a channel's unposted alerts by one digest when there are more than the digest threshold. */
export async function collapseBacklog(
  options: {
    readonly store: Store;
    readonly clock: Clock;
    readonly log: Logger;
    readonly digestThreshold?: number;
  },
  channel: string,
): Promise<void> {
  const { store, clock, log } = options;
  const threshold = options.digestThreshold;
  if (threshold === undefined) return;
  const collapse = backlogDigest(channel, await store.unattemptedAlerts(channel), threshold);
  if (collapse === null) return;
  if (await store.replaceWithDigest(collapse.ids, collapse.digest, clock.now())) {
    log.info('delivery: Slack is answering again; the alerts that waited go as one digest', {
      channel,
      alerts: collapse.ids.length,
    });
  }
}
