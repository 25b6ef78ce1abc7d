/**
 * The {@link Store}, written once for SQLite and PostgreSQL with Kysely, as a view of one {@link Scope}: every
 * query of every method filters by the scope's `workspace_id` and `account_id`, and every insert writes them, so
 * that an ID or a channel of another scope reads and changes nothing. What only one database does comes from its
 * {@link Engine}: the SQLite file lock (sqlite.ts), and PostgreSQL's fenced transactions and `SKIP LOCKED` claims
 * (postgres.ts), per-account leases (pg-leases.ts). The few spellings the two differ in come from the `Dialect`
 * (schema.ts).
 *
 * The queries live in one part per concern, each a view of the same scope on the same engine (sql-scoped.ts): this
 * class only hands each method of the port to its part, so that each file reads at once.
 */
import type { HaloEvent } from '../domain/event.ts';
import type { Engine } from './sql-rows.ts';
import { SqlChannels } from './sql-channels.ts';
import { SqlEvents } from './sql-events.ts';
import { SqlIntake } from './sql-intake.ts';
import { SqlOutbox } from './sql-outbox.ts';
import { SqlSummaries } from './sql-summaries.ts';
import type * as api from '../pipeline/store-port.ts';
import type { Scope } from '../pipeline/tenancy-port.ts';
import type {
  Acknowledgement,
  DeletionRecord,
  Mute,
  NewOutboxItem,
  OutboxItem,
  ScanThread,
} from '../pipeline/store-port.ts';

export class SqlStore implements api.Store {
  private readonly intake: SqlIntake;
  private readonly outbox: SqlOutbox;
  private readonly channels: SqlChannels;
  private readonly events: SqlEvents;
  private readonly summary: SqlSummaries;

  /** `release`: what `close()` does; nothing for a view (the tenant store closes the database), see `owned`. */
  constructor(
    private readonly engine: Engine,
    readonly scope: Scope,
    private readonly release: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.intake = new SqlIntake(engine, scope);
    this.outbox = new SqlOutbox(engine, scope);
    this.channels = new SqlChannels(engine, scope);
    this.events = new SqlEvents(engine, scope);
    this.summary = new SqlSummaries(engine, scope);
  }

  markSending(id: number, now: number): Promise<boolean> {
    return this.engine.markSending(this.scope, id, now);
  }

  close(): Promise<void> {
    return this.release();
  }

  // Intake (sql-intake.ts): seen IDs, staged events, the poller's state.
  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): Promise<number> {
    return this.intake.recordPage(events, news);
  }

  unseen(ids: readonly string[]): Promise<number[]> {
    return this.intake.unseen(ids);
  }

  stage(events: readonly HaloEvent[]): Promise<void> {
    return this.intake.stage(events);
  }

  staged(): Promise<HaloEvent[]> {
    return this.intake.staged();
  }

  route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): Promise<void> {
    return this.intake.route(items, eventIds, now);
  }

  getState(key: string): Promise<string | null> {
    return this.intake.getState(key);
  }

  setState(entries: Readonly<Record<string, string>>): Promise<void> {
    return this.intake.setState(entries);
  }

  // The outbox (sql-outbox.ts).
  dueChannels(now: number): Promise<string[]> {
    return this.outbox.dueChannels(now);
  }

  nextDue(channel: string, now: number): Promise<OutboxItem | null> {
    return this.outbox.nextDue(channel, now);
  }

  unattemptedAlerts(channel: string): Promise<OutboxItem[]> {
    return this.outbox.unattemptedAlerts(channel);
  }

  replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): Promise<boolean> {
    return this.outbox.replaceWithDigest(ids, digest, now);
  }

  markDelivered(id: number, now: number): Promise<void> {
    return this.outbox.markDelivered(id, now);
  }

  markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    return this.outbox.markRetry(id, nextAttemptAt, error);
  }

  markFailed(id: number, error: string, now: number): Promise<void> {
    return this.outbox.markFailed(id, error, now);
  }

  failChannel(channel: string, error: string, now: number): Promise<number> {
    return this.outbox.failChannel(channel, error, now);
  }

  recentFailures(limit: number): Promise<api.FailedDelivery[]> {
    return this.outbox.recentFailures(limit);
  }

  prune(before: number): Promise<void> {
    return this.outbox.prune(before);
  }

  pendingCount(): Promise<number> {
    return this.outbox.pendingCount();
  }

  // Per channel (sql-channels.ts): subscriptions, threads, mutes, the audit.
  addSubscription(sub: api.NewSubscription) {
    return this.channels.addSubscription(sub);
  }

  removeSubscription(channel: string, id: number): Promise<boolean> {
    return this.channels.removeSubscription(channel, id);
  }

  removeAllSubscriptions(channel: string): Promise<number> {
    return this.channels.removeAllSubscriptions(channel);
  }

  subscriptions(channel?: string): Promise<api.Subscription[]> {
    return this.channels.subscriptions(channel);
  }

  openThread(thread: Omit<ScanThread, 'counts'>): Promise<void> {
    return this.channels.openThread(thread);
  }

  openThreads(): Promise<ScanThread[]> {
    return this.channels.openThreads();
  }

  thread(channel: string, targetId: number): Promise<ScanThread | null> {
    return this.channels.thread(channel, targetId);
  }

  countReply(channel: string, targetId: number, key: string, count: number): Promise<void> {
    return this.channels.countReply(channel, targetId, key, count);
  }

  closeThread(channel: string, targetId: number): Promise<ScanThread | null> {
    return this.channels.closeThread(channel, targetId);
  }

  addMute(mute: api.NewMute): Promise<Mute> {
    return this.channels.addMute(mute);
  }

  removeMute(id: number, now: number, channel?: string): Promise<Mute | null> {
    return this.channels.removeMute(id, now, channel);
  }

  activeMutes(now: number, channel?: string): Promise<Mute[]> {
    return this.channels.activeMutes(now, channel);
  }

  expiredMutes(now: number): Promise<Mute[]> {
    return this.channels.expiredMutes(now);
  }

  countMuted(held: ReadonlyMap<number, number>): Promise<void> {
    return this.channels.countMuted(held);
  }

  endMutes(ids: readonly number[], now: number): Promise<void> {
    return this.channels.endMutes(ids, now);
  }

  mutedTotal(): Promise<number> {
    return this.channels.mutedTotal();
  }

  audit(entry: api.NewAuditEntry): Promise<void> {
    return this.channels.audit(entry);
  }

  recentAudit(limit: number): Promise<api.AuditEntry[]> {
    return this.channels.recentAudit(limit);
  }

  // Posted events (sql-events.ts): deletions, acknowledgements, messages, watched and gone events.
  recordDeletion(record: DeletionRecord): Promise<void> {
    return this.events.recordDeletion(record);
  }

  deletion(eventId: string): Promise<DeletionRecord | null> {
    return this.events.deletion(eventId);
  }

  acknowledge(ack: Acknowledgement): Promise<Acknowledgement[]> {
    return this.events.acknowledge(ack);
  }

  recordMessage(message: api.NewEventMessage, now: number): Promise<{ goneAt: number | null }> {
    return this.events.recordMessage(message, now);
  }

  setMessageSummary(channel: string, ts: string, summary: string): Promise<{ goneAt: number | null }> {
    return this.events.setMessageSummary(channel, ts, summary);
  }

  watchedEventIds(): Promise<string[]> {
    return this.events.watchedEventIds();
  }

  markListed(eventIds: readonly string[], scanStartedAt: number): Promise<void> {
    return this.events.markListed(eventIds, scanStartedAt);
  }

  countMisses(
    coverage: api.ScanCoverage,
    scanStartedAt: number,
    threshold: number,
    listed: readonly string[] = [],
  ): Promise<string[]> {
    return this.events.countMisses(coverage, scanStartedAt, threshold, listed);
  }

  eventMessages(eventIds: readonly string[]) {
    return this.events.eventMessages(eventIds);
  }

  postedSince(
    keys: readonly string[],
    targetIds: readonly number[],
    since: number,
  ): Promise<api.PostedSince> {
    return this.events.postedSince(keys, targetIds, since);
  }

  postedTargets(limit: number): Promise<api.PostedTarget[]> {
    return this.events.postedTargets(limit);
  }

  markGone(eventIds: readonly string[], items: readonly NewOutboxItem[], now: number): Promise<void> {
    return this.events.markGone(eventIds, items, now);
  }

  // Summaries and stats (sql-summaries.ts).
  setSummary(setting: Omit<api.SummarySetting, 'lastSlot' | 'held'>): Promise<void> {
    return this.summary.setSummary(setting);
  }

  removeSummary(channel: string): Promise<boolean> {
    return this.summary.removeSummary(channel);
  }

  summaries(channel?: string): Promise<api.SummarySetting[]> {
    return this.summary.summaries(channel);
  }

  routeSummary(
    item: NewOutboxItem,
    slot: number,
    held: Readonly<Record<string, number>>,
    now: number,
  ): Promise<void> {
    return this.summary.routeSummary(item, slot, held, now);
  }

  channelActivity(channel: string, from: number, to: number): Promise<api.ChannelActivity> {
    return this.summary.channelActivity(channel, from, to);
  }

  stats(): Promise<api.StoreStats> {
    return this.summary.stats();
  }
}
