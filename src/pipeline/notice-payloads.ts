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

/** Every line the bot posts that is neither an alert nor a digest. */
export type Notice = MuteEndedNotice | ConnectedNotice;

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
