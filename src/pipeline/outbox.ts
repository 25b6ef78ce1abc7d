import { summarizeDigest } from '../domain/digest.ts';
import { defaultSeverityOf, type SeverityOf } from '../domain/severity.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { NewOutboxItem, OutboxItem } from './store-port.ts';
import { routeEvents, type Route } from './routes.ts';
import { scanRole, threadTarget, willReply } from './threads.ts';

/** How routing turns events into rows. */
export interface RowOptions {
  /** Default: the built-in table. */
  readonly severityOf?: SeverityOf;
  /** Whether a scan thread is open for a target in a channel; absent when threads are off (HALO_THREADS). */
  readonly isOpen?: (channel: string, targetId: number) => boolean;
}

/**
 * The outbox rows for newly found events: one alert per event and channel, or, when more than `digestThreshold`
 * events would be posted in one channel, a single digest for that channel. Events that go into a scan's thread
 * do not count: they do not fill the channel. A thread that would get more than `digestThreshold` replies in one
 * poll gets one digest reply instead (its scan's end still posted on its own, to close it). The dedup keys make
 * routing the same events twice (a crash between routing and unstaging) a no-op.
 */
export function outboxItems(
  routes: readonly Route[],
  events: readonly HaloEvent[],
  digestThreshold: number,
  options: RowOptions = {},
): NewOutboxItem[] {
  return outboxItemsFor(routeEvents(routes, events, options.severityOf), digestThreshold, options);
}

/** {@link outboxItems} for events already routed to their channels (and, say, without the muted ones). */
export function outboxItemsFor(
  byChannel: ReadonlyMap<string, readonly HaloEvent[]>,
  digestThreshold: number,
  options: RowOptions = {},
): NewOutboxItem[] {
  const severityOf = options.severityOf ?? defaultSeverityOf;
  const items: NewOutboxItem[] = [];
  for (const [channel, matched] of byChannel) {
    const { isOpen } = options;
    let replies = isOpen === undefined ? new Set<HaloEvent>() : willReply(channel, matched, isOpen);
    if (matched.length - replies.size > digestThreshold) {
      // The digest takes this batch's Scan Started alerts too, so only threads open already get replies.
      replies = isOpen === undefined ? new Set() : willReply(channel, matched, isOpen, false);
      const topLevel = matched.filter((event) => !replies.has(event));
      items.push({
        channel,
        kind: 'digest',
        payload: JSON.stringify(summarizeDigest(topLevel, { severityOf })),
        dedupKey: `${channel}:digest:${topLevel[0]!.eventId}:${topLevel.length}`,
      });
      items.push(
        ...threadRows(
          channel,
          matched.filter((event) => replies.has(event)),
          digestThreshold,
          severityOf,
        ),
      );
      continue;
    }
    // Parents before replies: a Scan Started alert must be posted before what goes into its thread.
    for (const event of matched) if (!replies.has(event)) items.push(alertRow(channel, event));
    items.push(...threadRows(channel, [...replies], digestThreshold, severityOf));
  }
  return items;
}

function alertRow(channel: string, event: HaloEvent): NewOutboxItem {
  return {
    channel,
    kind: 'alert',
    payload: JSON.stringify(event),
    dedupKey: `${channel}:event:${event.eventId}`,
  };
}

/**
 * A channel's thread replies: each on its own, except that more than `digestThreshold` for one target become one
 * digest in that thread; the scan's end stays an alert of its own, last, because it closes the thread.
 */
function threadRows(
  channel: string,
  replies: readonly HaloEvent[],
  digestThreshold: number,
  severityOf: SeverityOf,
): NewOutboxItem[] {
  const byTarget = new Map<number, HaloEvent[]>();
  for (const event of replies) {
    const targetId = threadTarget(event)!;
    byTarget.set(targetId, [...(byTarget.get(targetId) ?? []), event]);
  }
  const items: NewOutboxItem[] = [];
  for (const [targetId, events] of byTarget) {
    const middle = events.filter((event) => scanRole(event.key) !== 'end');
    if (middle.length <= digestThreshold) {
      items.push(...events.map((event) => alertRow(channel, event)));
      continue;
    }
    const summary = {
      ...summarizeDigest(middle, { severityOf }),
      thread: targetId,
      ids: middle.map((e) => e.eventId),
    };
    items.push({
      channel,
      kind: 'digest',
      payload: JSON.stringify(summary),
      dedupKey: `${channel}:thread:${targetId}:${middle[0]!.eventId}:${middle.length}`,
    });
    items.push(
      ...events.filter((event) => scanRole(event.key) === 'end').map((event) => alertRow(channel, event)),
    );
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
  severityOf: SeverityOf = defaultSeverityOf,
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
      payload: JSON.stringify(summarizeDigest(events, { severityOf })),
      dedupKey: `${channel}:backlog:${events[0]!.eventId}:${events.length}`,
    },
  };
}

/** The event an alert row is about; null for a payload that is not one. */
export function parseEvent(payload: string): HaloEvent | null {
  try {
    const value = JSON.parse(payload) as Partial<HaloEvent> | null;
    return typeof value === 'object' && value !== null && typeof value.eventId === 'string'
      ? (value as HaloEvent)
      : null;
  } catch {
    return null;
  }
}
