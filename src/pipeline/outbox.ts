import type { HaloEvent } from '../halo/types.ts';
import { summarizeDigest } from '../slack/blocks/index.ts';
import type { NewOutboxItem } from '../store/store.ts';
import { routeEvents, type Route } from './routes.ts';

/**
 * The outbox rows for newly found events: one alert per event and channel, or, when more than `digestThreshold`
 * events are for one channel, a single digest for that channel. The dedup keys make routing the same events
 * twice (a crash between routing and unstaging) a no-op.
 */
export function outboxItems(
  routes: readonly Route[],
  events: readonly HaloEvent[],
  digestThreshold: number,
): NewOutboxItem[] {
  return outboxItemsFor(routeEvents(routes, events), digestThreshold);
}

/** {@link outboxItems} for events already routed to their channels (and, say, without the muted ones). */
export function outboxItemsFor(
  byChannel: ReadonlyMap<string, readonly HaloEvent[]>,
  digestThreshold: number,
): NewOutboxItem[] {
  const items: NewOutboxItem[] = [];
  for (const [channel, matched] of byChannel) {
    if (matched.length > digestThreshold) {
      items.push({
        channel,
        kind: 'digest',
        payload: JSON.stringify(summarizeDigest(matched)),
        dedupKey: `${channel}:digest:${matched[0]!.eventId}:${matched.length}`,
      });
      continue;
    }
    for (const event of matched) {
      items.push({
        channel,
        kind: 'alert',
        payload: JSON.stringify(event),
        dedupKey: `${channel}:event:${event.eventId}`,
      });
    }
  }
  return items;
}
