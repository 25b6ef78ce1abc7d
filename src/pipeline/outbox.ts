import { summarizeDigest } from '../domain/digest.ts';
import type { HaloEvent } from '../halo/types.ts';
import type { NewOutboxItem, OutboxItem } from '../store/store.ts';
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

/**
 * A channel's backlog of unposted alerts as one digest, when it holds more than `digestThreshold` of them: after
 * a Slack outage the channel gets what it would have got had those events come in one poll, not a flood. Null
 * when the backlog is small enough to post one by one. A row whose payload is not an event is left as it is (it
 * fails on its own when rendered).
 */
export function backlogDigest(
  channel: string,
  rows: readonly OutboxItem[],
  digestThreshold: number,
): { ids: number[]; digest: NewOutboxItem } | null {
  const ids: number[] = [];
  const events: HaloEvent[] = [];
  for (const row of rows) {
    if (row.channel !== channel || row.kind !== 'alert') continue;
    const event = parseEvent(row.payload);
    if (event === null) continue;
    ids.push(row.id);
    events.push(event);
  }
  if (events.length <= digestThreshold) return null;
  return {
    ids,
    digest: {
      channel,
      kind: 'digest',
      payload: JSON.stringify(summarizeDigest(events)),
      dedupKey: `${channel}:backlog:${events[0]!.eventId}:${events.length}`,
    },
  };
}

function parseEvent(payload: string): HaloEvent | null {
  try {
    const value = JSON.parse(payload) as Partial<HaloEvent> | null;
    return typeof value === 'object' && value !== null && typeof value.eventId === 'string'
      ? (value as HaloEvent)
      : null;
  } catch {
    return null;
  }
}
