import type { NewOutboxItem } from './store-port.ts';
import type { MuteEndedNotice } from './mute-expiry.ts';
import type { Route } from './routes.ts';

/**
 * The outbox payload of the one message a first start posts to HALO_ALERT_CHANNEL: the install works, this is
 * how much history became the silent starting point, and this is what will be posted from now on. Without it a
 * correct install is silent until Halo happens to produce an event.
 */
export interface ConnectedNotice {
  readonly notice: 'connected';
  /** Events the first poll recorded without posting them. */
  readonly baseline: number;
  /** How many of the newest of those HALO_BACKFILL posts anyway, right after this message. */
  readonly backfill: number;
  readonly route: Route;
}

/**
 * The one message saying Halo refused an account's key (401/403): polling it slows to hourly until an admin
 * gives it a new key (`/halo connect`, or HALO_API_KEY for the environment's account).
 */
export interface NeedsKeyNotice {
  readonly notice: 'needs_key';
  /** The account's name, as `account:NAME` and `/halo accounts` show it. */
  readonly account: string;
  /** The refused key's last 4 characters. */
  readonly keyHint: string;
  /** How the key is replaced: from Slack, or in the environment (the single-workspace shape's own account). */
  readonly fix: 'connect' | 'env';
}

/** Every line the bot posts that is neither an alert nor a digest. */
export type Notice = MuteEndedNotice | ConnectedNotice | NeedsKeyNotice;

/**
 * The needs-key notice as an outbox row. Sent when an account turns `needs_key`; the key's hint in the dedup
 * key makes a repeat for the same key (a crash between queueing it and recording the status) a no-op, while a
 * later key refused in its turn gets its own notice.
 */
export function needsKeyItem(channel: string, notice: Omit<NeedsKeyNotice, 'notice'>): NewOutboxItem {
  const payload: NeedsKeyNotice = { notice: 'needs_key', ...notice };
  return {
    channel,
    kind: 'notice',
    payload: JSON.stringify(payload),
    dedupKey: `${channel}:needs-key:${notice.account}:${notice.keyHint}`,
  };
}

/**
 * The connected message as an outbox row. It is queued once, on the poll that records the baseline, and its
 * dedup key makes a second queueing a no-op (a crash after queueing it but before the baseline is saved
 * repeats that poll). A restart finds a saved baseline and queues nothing.
 */
export function connectedItem(route: Route, baseline: number, backfill: number): NewOutboxItem {
  const payload: ConnectedNotice = { notice: 'connected', baseline, backfill, route };
  return {
    channel: route.channel,
    kind: 'notice',
    payload: JSON.stringify(payload),
    dedupKey: `${route.channel}:connected`,
  };
}
