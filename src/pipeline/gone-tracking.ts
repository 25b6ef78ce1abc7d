/**
 * Alerts that stay true. Halo cannot say "event deleted", so absence is read from the scans the poller makes
 * anyway: an alerted event that a conclusive scan of a scope covering it does not list has missed once. Two
 * misses in a row (two conclusive scans, whatever failed in between) make it gone, and every message showing it
 * is updated through the outbox. One miss is not enough: a scan's pages are read at offsets, so an event deleted
 * while the scan runs shifts the next ones back and one of them can fall between two pages unread.
 */
import type { Clock } from '../clock.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import type {
  Acknowledgement,
  DeletionRecord,
  EventMessage,
  NewOutboxItem,
  ScanCoverage,
  Store,
} from './store-port.ts';
import { parseEvent } from './outbox.ts';
import { scopeId, type Scope } from './routes.ts';

/** Conclusive scans in a row that must miss an event before it counts as gone. */
export const MISSES_TO_GONE = 2;

/** The outbox payload that updates one message whose event is gone; rendering it needs nothing else. */
export interface GoneNotice {
  /** The message to update. */
  readonly ts: string;
  readonly event: HaloEvent;
  /** A scan thread parent's summary line, kept. */
  readonly summary: string | null;
  /** When the bot found the event gone. */
  readonly noticedAt: number;
  /** Who acknowledged this message: still shown. */
  readonly acks: readonly { readonly userId: string; readonly at: number }[];
  /** The bot's own Delete button removed it, if so: still shown. */
  readonly deletion: Omit<DeletionRecord, 'eventId'> | null;
}

/** What one scope's scan proved, from its counts: only a complete, steady, fully readable scan proves absence. */
export interface ScopeScan {
  readonly scope: Scope;
  readonly events: number;
  readonly invalid: number;
  readonly total: number | null;
  /** Every page reported the first page's total: nothing was added or deleted while the scan ran. */
  readonly steady: boolean;
}

export function isConclusive(scan: ScopeScan): boolean {
  if (!scan.steady || scan.invalid > 0) return false;
  return scan.total === null || scan.events >= scan.total;
}

/** The scopes that conclusive scans covered, as the store selects watched events by them. */
export function coverageOf(scopes: readonly Scope[]): ScanCoverage {
  const keys = new Set<string>();
  const targetIds = new Set<number>();
  let all = false;
  for (const scope of scopes) {
    if (scopeId(scope) === 'all') all = true;
    else if (scope.key !== undefined) keys.add(scope.key);
    else if (scope.target_id !== undefined) targetIds.add(scope.target_id);
  }
  return { all, keys: [...keys].sort(), targetIds: [...targetIds].sort((a, b) => a - b) };
}

/**
 * One outbox row per message of the gone events (a message whose stored event cannot be read is skipped). The
 * dedup key names the message, so finding the same event gone twice updates nothing twice; `again` makes a second
 * update of the same message (a thread parent that got its summary after its event was gone).
 */
export function goneItems(
  messages: readonly (EventMessage & { readonly acks: readonly Acknowledgement[] })[],
  deletions: ReadonlyMap<string, DeletionRecord>,
  noticedAt: number,
  again = '',
): NewOutboxItem[] {
  const items: NewOutboxItem[] = [];
  for (const message of messages) {
    const event = parseEvent(message.payload);
    if (event === null) continue;
    const deletion = deletions.get(message.eventId);
    const notice: GoneNotice = {
      ts: message.ts,
      event,
      summary: message.summary,
      noticedAt,
      acks: message.acks.map((ack) => ({ userId: ack.userId, at: ack.at })),
      deletion:
        deletion === undefined
          ? null
          : { userId: deletion.userId, at: deletion.at, alreadyDeleted: deletion.alreadyDeleted },
    };
    items.push({
      channel: message.channel,
      kind: 'gone',
      payload: JSON.stringify(notice),
      dedupKey: `${message.channel}:gone:${message.ts}${again}`,
    });
  }
  return items;
}

/** The message a `gone` row updates; null for a payload that is not a {@link GoneNotice}. */
export function goneTarget(payload: string): string | null {
  try {
    const value = JSON.parse(payload) as Partial<GoneNotice> | null;
    return typeof value?.ts === 'string' && value.ts !== '' ? value.ts : null;
  } catch {
    return null;
  }
}

/**
 * Marks events gone and queues the updates of every message showing them, in one transaction. Returns how many
 * messages will be updated. Bounded by the events given: each has a few messages at most.
 */
export async function markEventsGone(
  store: Pick<Store, 'eventMessages' | 'deletion' | 'markGone'>,
  eventIds: readonly string[],
  now: number,
  again = '',
): Promise<number> {
  if (eventIds.length === 0) return 0;
  const messages = await store.eventMessages(eventIds);
  const deletions = new Map<string, DeletionRecord>();
  for (const id of eventIds) {
    const deletion = await store.deletion(id);
    if (deletion !== null) deletions.set(id, deletion);
  }
  const items = goneItems(messages, deletions, now, again);
  await store.markGone(eventIds, items, now);
  return items.length;
}

/**
 * After a poll: counts a miss for each alerted event that a conclusive scan covered without listing it, and
 * updates the messages of those that missed {@link MISSES_TO_GONE} in a row. Costs no Halo request: the scans
 * were made anyway. An alerted event that no scan covers (its route was removed) is never counted, so never
 * marked.
 */
export async function settleAbsences(
  deps: {
    readonly store: Store;
    readonly clock: Clock;
    readonly log: Logger;
    /** Called when new rows are in the outbox. */
    readonly onRouted: () => void;
  },
  conclusive: readonly Scope[],
  listed: readonly string[],
  startedAt: number,
): Promise<void> {
  const { store, clock, log } = deps;
  const gone = await store.countMisses(coverageOf(conclusive), startedAt, MISSES_TO_GONE, listed);
  if (gone.length === 0) return;
  const messages = await markEventsGone(store, gone, clock.now());
  log.info('poll: alerted events no longer in Halo; their messages will say so', {
    events: gone.length,
    messages,
  });
  if (messages > 0) deps.onRouted();
}
