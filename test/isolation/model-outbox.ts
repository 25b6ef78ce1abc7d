/**
 * The isolation suite's model of one scope's seen and staged events, outbox and state: plain maps that follow the
 * Store contract (test/contract/store.contract.ts). See model.ts for the rest of a scope.
 */
import type { HaloEvent } from '../../src/domain/event.ts';
import type { NewOutboxItem } from '../../src/pipeline/store-port.ts';

export interface ModelRow extends NewOutboxItem {
  /** The store's ID, once the suite has read it back (the store's `route` does not return it). */
  id: number | null;
  /** Insertion order within the scope: the order of the store's IDs. */
  readonly seq: number;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  sentAt: number | null;
  nextAt: number;
  readonly createdAt: number;
  doneAt: number | null;
  error: string | null;
}

let seqs = 0;

/** Bytewise order, as the store's `bytewise` columns (the suite's IDs are ASCII). */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class OutboxModel {
  readonly seen = new Set<string>();
  readonly staged = new Map<string, HaloEvent>();
  /** By dedup key. */
  readonly outbox = new Map<string, ModelRow>();
  readonly state = new Map<string, string>();

  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): number {
    const fresh = new Set(events.map((e) => e.eventId).filter((id) => !this.seen.has(id)));
    let staged = 0;
    events.forEach((event, i) => {
      if (!fresh.delete(event.eventId)) return;
      this.seen.add(event.eventId);
      if (news[i] === true && !this.staged.has(event.eventId)) {
        this.staged.set(event.eventId, event);
        staged += 1;
      }
    });
    return staged;
  }

  unseen(ids: readonly string[]): number[] {
    return ids.flatMap((id, i) => (this.seen.has(id) ? [] : [i]));
  }

  stage(events: readonly HaloEvent[]): void {
    for (const event of events) {
      this.seen.add(event.eventId);
      if (!this.staged.has(event.eventId)) this.staged.set(event.eventId, event);
    }
  }

  stagedList(): HaloEvent[] {
    return [...this.staged.values()].sort(
      (a, b) => byText(a.dateCreated, b.dateCreated) || byText(a.eventId, b.eventId),
    );
  }

  insert(items: readonly NewOutboxItem[], now: number): void {
    for (const item of items) {
      if (this.outbox.has(item.dedupKey)) continue;
      this.outbox.set(item.dedupKey, {
        ...item,
        id: null,
        seq: ++seqs,
        state: 'pending',
        attempts: 0,
        sentAt: null,
        nextAt: now,
        createdAt: now,
        doneAt: null,
        error: null,
      });
    }
  }

  route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): void {
    this.insert(items, now);
    for (const id of eventIds) this.staged.delete(id);
  }

  rows(): ModelRow[] {
    return [...this.outbox.values()].sort((a, b) => a.seq - b.seq);
  }

  row(id: number): ModelRow | undefined {
    return this.rows().find((row) => row.id === id);
  }

  pendingIn(channel: string): ModelRow[] {
    return this.rows().filter((row) => row.state === 'pending' && row.channel === channel);
  }

  dueChannels(now: number): string[] {
    const due = this.rows().filter((row) => row.state === 'pending' && row.nextAt <= now);
    return [...new Set(due.map((row) => row.channel))].sort(byText);
  }

  nextDue(channel: string, now: number): ModelRow | null {
    const first = this.pendingIn(channel)[0];
    return first === undefined || first.nextAt > now ? null : first;
  }

  unattemptedAlerts(channel: string): ModelRow[] {
    return this.pendingIn(channel).filter((r) => r.kind === 'alert' && r.attempts === 0 && r.sentAt === null);
  }

  markSending(id: number, now: number): boolean {
    const row = this.row(id);
    if (row?.state !== 'pending') return false;
    row.sentAt = now;
    return true;
  }

  mark(id: number, change: Partial<ModelRow>): void {
    const row = this.row(id);
    if (row === undefined) return;
    Object.assign(row, change, { attempts: row.attempts + 1 });
  }

  failChannel(channel: string, error: string, now: number): number {
    const rows = this.pendingIn(channel);
    for (const row of rows) Object.assign(row, { state: 'failed', error, doneAt: now });
    return rows.length;
  }

  replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): boolean {
    const unique = new Set(ids);
    const rows = this.rows().filter(
      (r) =>
        r.id !== null && unique.has(r.id) && r.state === 'pending' && r.attempts === 0 && r.sentAt === null,
    );
    if (rows.length !== unique.size) return false;
    for (const row of rows) this.outbox.delete(row.dedupKey);
    this.insert([digest], now);
    return true;
  }

  recentFailures(limit: number) {
    const failed = this.rows().filter((row) => row.state === 'failed');
    failed.sort((a, b) => (b.doneAt ?? 0) - (a.doneAt ?? 0) || b.seq - a.seq);
    return failed
      .slice(0, limit)
      .map((r) => ({ channel: r.channel, kind: r.kind, error: r.error ?? '', at: r.doneAt ?? 0 }));
  }

  prune(before: number): void {
    for (const row of this.rows())
      if (row.state === 'delivered' && (row.doneAt ?? 0) < before) this.outbox.delete(row.dedupKey);
  }

  stats() {
    const count = (state: ModelRow['state']) => this.rows().filter((row) => row.state === state).length;
    return {
      seen: this.seen.size,
      staged: this.staged.size,
      pending: count('pending'),
      failed: count('failed'),
      delivered: count('delivered'),
    };
  }
}
