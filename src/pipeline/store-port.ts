/**
 * Everything the bot must remember across restarts, behind one small interface so that a PostgreSQL
 * implementation (several replicas, one database) can sit beside the SQLite one. Methods are async for that reason.
 *
 * The delivery design is an outbox: a scan records each page's unseen events as `seen` and, when they are news,
 * `staged`, in one transaction; routing turns staged events into outbox rows (one per channel) in one
 * transaction; a post marks its row delivered. A crash at any point leaves each event in exactly one of those
 * states, so nothing is lost. A post whose answer never came (a timeout, a crash mid-post) is looked for in the
 * channel before it is made again, so it is repeated only when that check cannot be made.
 */
import type { Severity } from '../domain/severity.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { SummarySchedule } from '../domain/summary-schedule.ts';

export interface Subscription {
  readonly id: number;
  readonly channel: string;
  readonly keys: readonly string[];
  readonly targetIds: readonly number[];
  /** Only events this severe or more; null: all. */
  readonly minSeverity: Severity | null;
  readonly createdBy: string;
  readonly createdAt: number;
}

/** A subscription to add; no minimum severity means every level. */
export type NewSubscription = Omit<Subscription, 'id' | 'minSeverity'> & {
  readonly minSeverity?: Severity | null;
};

/** A scan's thread in one channel: the Scan Started alert is its parent. */
export interface ScanThread {
  readonly channel: string;
  readonly targetId: number;
  /** The parent message's `ts`: what replies go under, and what is updated with the summary. */
  readonly parentTs: string;
  /** The parent's outbox payload (the Scan Started event), to render it again with the summary. */
  readonly parent: string;
  /** Replies so far, by event key. */
  readonly counts: Readonly<Record<string, number>>;
  readonly openedAt: number;
}

/**
 * `notice`: one line the bot says of itself (a mute ended); its payload is the message text's data.
 * `gone`: not a post but an update of a message already in the channel whose event no longer exists in Halo.
 * `summary`: a channel's scheduled summary of a period (see pipeline/summaries.ts).
 */
export type OutboxKind = 'alert' | 'digest' | 'notice' | 'gone' | 'summary';

export interface NewOutboxItem {
  readonly channel: string;
  readonly kind: OutboxKind;
  /** JSON: a HaloEvent for alerts, a DigestSummary for digests. Rendered at delivery time. */
  readonly payload: string;
  /** Makes a repeat of the same delivery a no-op, e.g. `C123:event:ev-1`. */
  readonly dedupKey: string;
}

export interface OutboxItem extends NewOutboxItem {
  readonly id: number;
  readonly attempts: number;
  /**
   * When the last post of this row began, if it may have reached Slack without the bot hearing so (a timeout,
   * a crash mid-post); null before the first attempt. The next attempt first checks the channel.
   */
  readonly sentAt: number | null;
  /** When the row entered the outbox: the start of its event-to-post latency. */
  readonly createdAt: number;
}

export interface StoreStats {
  readonly seen: number;
  readonly pending: number;
  readonly failed: number;
  readonly delivered: number;
  readonly staged: number;
}

export interface FailedDelivery {
  readonly channel: string;
  readonly kind: OutboxKind;
  readonly error: string;
  readonly at: number;
}

export interface DeletionRecord {
  readonly eventId: string;
  readonly userId: string;
  readonly at: number;
  readonly alreadyDeleted: boolean;
}

/** "Do not post these events in this channel until `expiresAt`": a key, a target, or both (both must match). */
export interface Mute {
  readonly id: number;
  readonly channel: string;
  readonly key: string | null;
  readonly targetId: number | null;
  /** How the target was named when the mute was made (a host), for the lines that mention it; may be empty. */
  readonly targetLabel: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Events it kept from being posted so far. */
  readonly held: number;
}

export type NewMute = Omit<Mute, 'id' | 'held'>;

export interface Acknowledgement {
  readonly channel: string;
  readonly messageTs: string;
  readonly eventId: string;
  readonly userId: string;
  readonly at: number;
}

export type AuditAction =
  | 'delete'
  | 'acknowledge'
  | 'mute'
  | 'unmute'
  | 'mute_expired'
  | 'subscribe'
  | 'unsubscribe'
  | 'summary'
  /** A Halo account connected (or given a new key), or disconnected: the workspace's, not an account's. */
  | 'connect'
  | 'disconnect';

export interface NewAuditEntry {
  readonly at: number;
  /** Who did it; the bot itself for `mute_expired`. */
  readonly userId: string;
  readonly action: AuditAction;
  /** The channel it concerned, when one. */
  readonly channel: string | null;
  /** Plain text: what it concerned (an event ID, a mute's filter, a subscription's ID and filters). */
  readonly detail: string;
}

export interface AuditEntry extends NewAuditEntry {
  readonly id: number;
}

/** What the acknowledge, mute and audit features need; part of {@link Store}. */
export interface ActionStore {
  /**
   * Records that `userId` acknowledged the alert at (`channel`, `messageTs`); a repeat by the same user keeps the
   * first time. Returns every acknowledgement of that message, oldest first.
   */
  acknowledge(ack: Acknowledgement): Promise<Acknowledgement[]>;

  addMute(mute: NewMute): Promise<Mute>;
  /** Ends a mute early (unmute); null when no mute in force has that ID (in that channel, when given). */
  removeMute(id: number, now: number, channel?: string): Promise<Mute | null>;
  /** Mutes in force at `now`, oldest first; only that channel's when given. */
  activeMutes(now: number, channel?: string): Promise<Mute[]>;
  /** Adds to each mute's count of events held back. */
  countMuted(held: ReadonlyMap<number, number>): Promise<void>;
  /** Mutes whose time is up at `now` and whose end has not been announced yet. */
  expiredMutes(now: number): Promise<Mute[]>;
  /** Marks mutes as ended (announced or removed): they are never returned again. */
  endMutes(ids: readonly number[], now: number): Promise<void>;
  /** Events held back by every mute ever made. */
  mutedTotal(): Promise<number>;

  audit(entry: NewAuditEntry): Promise<void>;
  /** The newest entries first. */
  recentAudit(limit: number): Promise<AuditEntry[]>;
}

/** A channel message that shows one Halo event: an alert, a scan thread's parent or one of its replies. */
export interface EventMessage {
  readonly channel: string;
  readonly ts: string;
  readonly eventId: string;
  /** The event as posted (HaloEvent JSON): what renders the message again once the event is gone. */
  readonly payload: string;
  /** A scan thread parent's one-line summary, once its scan ended; null otherwise. */
  readonly summary: string | null;
}

/** A message to keep true: the event's key and target say which scans cover it. */
export interface NewEventMessage extends Omit<EventMessage, 'summary'> {
  readonly key: string;
  readonly targetId: number | null;
}

/**
 * What the conclusive scans of one poll covered (each complete, its total steady, every entry readable): every
 * event, or the events with these keys or targets.
 */
export interface ScanCoverage {
  readonly all: boolean;
  readonly keys: readonly string[];
  readonly targetIds: readonly number[];
}

/**
 * Keeping alerts true: the messages posted for each event, and for those events only (never every event seen)
 * whether the latest conclusive scans still listed them. Part of {@link Store}.
 */
export interface MessageStore {
  /**
   * Remembers a message posted for an event, and starts watching the event as listed at `now`. Returns when the
   * event was found gone, or null: a message posted after that must be updated on its own.
   */
  recordMessage(message: NewEventMessage, now: number): Promise<{ goneAt: number | null }>;
  /**
   * A scan thread parent got its summary line; a later update keeps it. Returns when its event was found gone,
   * or null (also for a message not recorded).
   */
  setMessageSummary(channel: string, ts: string, summary: string): Promise<{ goneAt: number | null }>;
  /**
   * The events watched and not gone, so that a scan tells the store only about those: far fewer than it lists,
   * and O(alerts posted) to hold.
   */
  watchedEventIds(): Promise<string[]>;
  /** Records that a scan begun at `scanStartedAt` listed these events (those watched); unknown IDs are ignored. */
  markListed(eventIds: readonly string[], scanStartedAt: number): Promise<void>;
  /**
   * After a poll whose scans began at `scanStartedAt`: each watched event not gone that `coverage` covers and that
   * was not listed since then (by {@link markListed}, or in `listed`) has missed one more conclusive scan. Returns
   * every watched event not yet marked gone that has missed `threshold` or more in a row (a listing resets the
   * count). `listed`: the watched events this poll listed, told here rather than by {@link markListed} so that a
   * steady poll writes no row (only a count that was not 0 is reset).
   */
  countMisses(
    coverage: ScanCoverage,
    scanStartedAt: number,
    threshold: number,
    listed?: readonly string[],
  ): Promise<string[]>;
  /** The messages showing these events, oldest first, each with its acknowledgements. */
  eventMessages(eventIds: readonly string[]): Promise<(EventMessage & { acks: Acknowledgement[] })[]>;
  /**
   * In one transaction: marks the events gone at `now` (those already gone keep their time) and adds the outbox
   * rows that update their messages (a repeat is a no-op, by dedup key).
   */
  markGone(eventIds: readonly string[], items: readonly NewOutboxItem[], now: number): Promise<void>;
  /**
   * The subscribe dialog's recent counts: the events posted since `since` with one of `keys` and one of
   * `targetIds` (an empty list: any), counted by key, and the newest of them as posted. Reads the watched events
   * only (one row per event alerted), never every event seen.
   */
  postedSince(keys: readonly string[], targetIds: readonly number[], since: number): Promise<PostedSince>;
  /** The targets of the events posted, newest first, each with one of its events as posted (for its name). */
  postedTargets(limit: number): Promise<PostedTarget[]>;
}

export interface PostedSince {
  readonly counts: readonly { readonly key: string; readonly count: number }[];
  readonly latest: { readonly payload: string; readonly at: number } | null;
}

export interface PostedTarget {
  readonly targetId: number;
  /** An event of this target as posted (HaloEvent JSON). */
  readonly payload: string;
}

/** A channel's scheduled summary (`/halo summary daily 09:00`): one a channel. */
export interface SummarySetting extends SummarySchedule {
  readonly channel: string;
  readonly createdBy: string;
  readonly createdAt: number;
  /** The slot of the last summary queued; a new setting starts from its creation, so owes none before it. */
  readonly lastSlot: number;
  /** Events each mute (by ID) had held back when the last summary was queued: the next counts from there. */
  readonly held: Readonly<Record<string, number>>;
}

/** What a channel was told in a period, read for its summary. */
export interface ChannelActivity {
  /** The rows delivered to the channel in the period, oldest first. */
  readonly rows: readonly Pick<OutboxItem, 'kind' | 'payload'>[];
  /** Events held back so far by each of the channel's mutes in force during the period, by mute ID. */
  readonly held: Readonly<Record<string, number>>;
}

/** Scheduled summaries; part of {@link Store}. */
export interface SummaryStore {
  /** Sets (or replaces) the channel's summary; its `lastSlot` is its `createdAt`, its `held` empty. */
  setSummary(setting: Omit<SummarySetting, 'lastSlot' | 'held'>): Promise<void>;
  /** False when the channel had none. */
  removeSummary(channel: string): Promise<boolean>;
  /** Every channel's, or one channel's. */
  summaries(channel?: string): Promise<SummarySetting[]>;
  /**
   * In one transaction (fenced, as the poller's writes): queues the summary of `slot` and records `slot` as the
   * channel's last, with `held`, unless a later one is recorded. A repeat is a no-op, by the row's dedup key.
   */
  routeSummary(
    item: NewOutboxItem,
    slot: number,
    held: Readonly<Record<string, number>>,
    now: number,
  ): Promise<void>;
  /** The rows delivered to `channel` from `from` (included) to `to` (excluded), and what its mutes held. */
  channelActivity(channel: string, from: number, to: number): Promise<ChannelActivity>;
}

/**
 * The store's contract, implemented by SQLite (one process) and PostgreSQL (several replicas). Every method is
 * async and takes plain data, never a callback: a PostgreSQL transaction spans network round trips, and a callback
 * run inside one would hold its locks for as long as the caller takes. `test/contract/store.contract.ts` is the
 * one test suite both implementations pass.
 */
export interface Store extends ActionStore, MessageStore, SummaryStore {
  // The poller's writes (recordPage, stage, route, setState, markListed, countMisses, markGone) throw a
  // FencedError, changing nothing, when this replica led and a newer leader has taken over since (PostgreSQL;
  // SQLite has one process).
  /**
   * Records a scanned page as seen, in one transaction. `news[i]` says whether `events[i]`, if it was not seen
   * before, is news (staged for routing) or a baseline (only recorded). Returns how many were staged.
   */
  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): Promise<number>;
  /**
   * The positions in `ids` of those never recorded as seen, in order; reads only. A poll asks this of every
   * page and gives `recordPage` only those: in a steady poll, nearly none. Seen IDs are never forgotten, so an
   * ID this calls seen stays seen; one it calls unseen may be recorded meanwhile, which `recordPage` handles.
   */
  unseen(ids: readonly string[]): Promise<number[]>;
  /** Stages events directly (the first start's backfill); already-staged ones are ignored. */
  stage(events: readonly HaloEvent[]): Promise<void>;
  /** Staged events, oldest first by date then ID. */
  staged(): Promise<HaloEvent[]>;
  /** In one transaction: adds the outbox rows and unstages the events they came from. */
  route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): Promise<void>;

  getState(key: string): Promise<string | null>;
  setState(entries: Readonly<Record<string, string>>): Promise<void>;

  /** Channels with an outbox row due at `now`. */
  dueChannels(now: number): Promise<string[]>;
  nextDue(channel: string, now: number): Promise<OutboxItem | null>;
  /** A channel's pending alert rows never attempted (none can have reached Slack), oldest first. */
  unattemptedAlerts(channel: string): Promise<OutboxItem[]>;
  /**
   * In one transaction: removes the rows `ids`, each still pending and never attempted, and adds `digest` in
   * their place (a backlog that grew while Slack was down is posted as one message). False, changing nothing,
   * when any of them is no longer so.
   */
  replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): Promise<boolean>;
  /**
   * Claims a row for one post, written before it so that a post cut short (even by kill -9) is known to be
   * uncertain. False when the row may not be posted by this process: it is no longer pending, or (PostgreSQL)
   * another replica leads now or holds the row. The caller must then not post it.
   */
  markSending(id: number, now: number): Promise<boolean>;
  markDelivered(id: number, now: number): Promise<void>;
  /** Keeps `sentAt`: the failed attempt may have posted after all. */
  markRetry(id: number, nextAttemptAt: number, error: string): Promise<void>;
  markFailed(id: number, error: string, now: number): Promise<void>;
  /** A channel that can never receive (archived, bot removed): fails every pending row of it at once. */
  failChannel(channel: string, error: string, now: number): Promise<number>;
  recentFailures(limit: number): Promise<FailedDelivery[]>;
  /** Forgets delivered rows older than `before`, keeping the table small. */
  prune(before: number): Promise<void>;

  /** Adds one, unless the channel has the same filters already (then returns that one, `created: false`). */
  addSubscription(sub: NewSubscription): Promise<{ subscription: Subscription; created: boolean }>;
  removeSubscription(channel: string, id: number): Promise<boolean>;
  removeAllSubscriptions(channel: string): Promise<number>;
  subscriptions(channel?: string): Promise<Subscription[]>;

  /** Opens the scan thread of a target in a channel, replacing one left open (a scan whose end never came). */
  openThread(thread: Omit<ScanThread, 'counts'>): Promise<void>;
  /** Every open scan thread, for routing to tell replies from posts in the channel. */
  openThreads(): Promise<ScanThread[]>;
  /** The open scan thread of a target in a channel. */
  thread(channel: string, targetId: number): Promise<ScanThread | null>;
  /** Counts `count` replies posted in the thread under their event key. */
  countReply(channel: string, targetId: number, key: string, count: number): Promise<void>;
  /** Ends the thread (its scan ended) and returns it as it was, counts included; null when none was open. */
  closeThread(channel: string, targetId: number): Promise<ScanThread | null>;

  recordDeletion(record: DeletionRecord): Promise<void>;
  deletion(eventId: string): Promise<DeletionRecord | null>;

  stats(): Promise<StoreStats>;
  /** Outbox rows waiting to be posted: what `stats()` calls `pending`, without its other counts. */
  pendingCount(): Promise<number>;
  close(): Promise<void>;
}

/** The store cannot be opened or written: a person must fix a path, a permission or a second process. */
export class StoreError extends Error {
  override name = 'StoreError' as const;
}

/**
 * A write for an account whose lease this replica no longer holds, refused (PostgreSQL): a newer holder's fencing
 * token is in the account's lease row. The replica must stop polling and posting for it; the new holder does both.
 */
export class FencedError extends Error {
  override name = 'FencedError' as const;

  constructor(
    readonly token: number,
    readonly current: number | null,
  ) {
    super(
      `This replica no longer holds this account (its fencing token is ${token}, the database holds ${current ?? 'none'}): its write was refused.`,
    );
  }
}
