/**
 * The isolation suite's model of one scope: plain maps that follow the Store contract (test/contract/*) closely
 * enough to predict every answer of the view and its fingerprint. One model per scope, and nothing shared between
 * them: whatever one scope does, the model of every other scope stays as it was, so any difference the store shows
 * is a leak (or, for the acting scope, a read that saw another scope's rows).
 */
import type {
  Acknowledgement,
  DeletionRecord,
  Mute,
  NewOutboxItem,
  ScanThread,
  Subscription,
  SummarySetting,
} from '../../src/pipeline/store-port.ts';
import { byText, OutboxModel } from './model-outbox.ts';

export { byText, type ModelRow } from './model-outbox.ts';

export type ModelMute = { -readonly [K in keyof Mute]: Mute[K] } & { endedAt: number | null };

export interface Watched {
  readonly key: string;
  readonly targetId: number | null;
  listedAt: number;
  goneAt: number | null;
  misses: number;
}

export interface Message {
  readonly channel: string;
  readonly ts: string;
  readonly eventId: string;
  readonly payload: string;
  summary: string | null;
}

export interface AuditLine {
  readonly at: number;
  readonly userId: string;
  readonly action: string;
  readonly channel: string | null;
  readonly detail: string;
}

/** A scope as the model holds it: what model-outbox.ts holds, and the rest of the Store's tables. */
export class ScopeModel extends OutboxModel {
  readonly subs = new Map<number, Subscription>();
  readonly mutes = new Map<number, ModelMute>();
  /** Oldest first. */
  readonly audit: AuditLine[] = [];
  /** By `channel|target`. */
  readonly threads = new Map<string, ScanThread>();
  readonly deletions = new Map<string, DeletionRecord>();
  /** By `channel|ts|user`. */
  readonly acks = new Map<string, Acknowledgement>();
  readonly watched = new Map<string, Watched>();
  /** By `channel|ts`. */
  readonly messages = new Map<string, Message>();
  readonly summaries = new Map<string, SummarySetting>();

  /** The subscription with these filters in that channel, as `addSubscription` looks for it. */
  sameSubscription(sub: Omit<Subscription, 'id'>): Subscription | undefined {
    const filters = (s: Omit<Subscription, 'id'>) =>
      JSON.stringify([s.channel, [...s.keys].sort(), [...s.targetIds].sort(), s.minSeverity]);
    return [...this.subs.values()].find((s) => filters(s) === filters(sub));
  }

  // --- mutes ----------------------------------------------------------------------------------------------

  openMutes(): ModelMute[] {
    return [...this.mutes.values()].filter((m) => m.endedAt === null).sort((a, b) => a.id - b.id);
  }

  removeMute(id: number, now: number, channel?: string): Mute | null {
    const mute = this.mutes.get(id);
    if (mute === undefined || mute.endedAt !== null || (channel !== undefined && mute.channel !== channel))
      return null;
    mute.endedAt = now;
    return publicMute(mute);
  }

  activeMutes(now: number, channel?: string): Mute[] {
    const open = this.openMutes().filter((m) => m.expiresAt > now);
    return open.filter((m) => channel === undefined || m.channel === channel).map(publicMute);
  }

  expiredMutes(now: number): Mute[] {
    const expired = this.openMutes().filter((m) => m.expiresAt <= now);
    return expired.sort((a, b) => a.expiresAt - b.expiresAt || a.id - b.id).map(publicMute);
  }

  countMuted(held: ReadonlyMap<number, number>): void {
    for (const [id, count] of held) {
      const mute = this.mutes.get(id);
      if (mute !== undefined) mute.held += count;
    }
  }

  endMutes(ids: readonly number[], now: number): void {
    for (const id of ids) {
      const mute = this.mutes.get(id);
      if (mute !== undefined && mute.endedAt === null) mute.endedAt = now;
    }
  }

  mutedTotal(): number {
    return [...this.mutes.values()].reduce((sum, m) => sum + m.held, 0);
  }

  // --- messages and watched events ------------------------------------------------------------------------

  recordMessage(m: Omit<Message, 'summary'> & { key: string; targetId: number | null }, now: number) {
    if (!this.watched.has(m.eventId))
      this.watched.set(m.eventId, {
        key: m.key,
        targetId: m.targetId,
        listedAt: now,
        goneAt: null,
        misses: 0,
      });
    const where = `${m.channel}|${m.ts}`;
    if (!this.messages.has(where))
      this.messages.set(where, {
        channel: m.channel,
        ts: m.ts,
        eventId: m.eventId,
        payload: m.payload,
        summary: null,
      });
    return { goneAt: this.watched.get(m.eventId)?.goneAt ?? null };
  }

  setMessageSummary(channel: string, ts: string, summary: string) {
    const message = this.messages.get(`${channel}|${ts}`);
    if (message === undefined) return { goneAt: null };
    message.summary = summary;
    return { goneAt: this.watched.get(message.eventId)?.goneAt ?? null };
  }

  watchedIds(): string[] {
    return [...this.watched]
      .filter(([, w]) => w.goneAt === null)
      .map(([id]) => id)
      .sort(byText);
  }

  markListed(ids: readonly string[], scanStartedAt: number): void {
    for (const id of ids) {
      const w = this.watched.get(id);
      if (w === undefined) continue;
      w.listedAt = Math.max(w.listedAt, scanStartedAt);
      w.misses = 0;
    }
  }

  countMisses(
    coverage: { all: boolean; keys: string[]; targetIds: number[] },
    at: number,
    threshold: number,
  ) {
    const covered = (w: Watched) =>
      coverage.all ||
      coverage.keys.includes(w.key) ||
      (w.targetId !== null && coverage.targetIds.includes(w.targetId));
    for (const w of this.watched.values())
      if (w.goneAt === null && w.listedAt < at && covered(w)) w.misses += 1;
    return [...this.watched]
      .filter(([, w]) => w.goneAt === null && w.misses >= threshold)
      .map(([id]) => id)
      .sort(byText);
  }

  eventMessages(ids: readonly string[]) {
    const wanted = new Set(ids);
    const messages = [...this.messages.values()].filter((m) => wanted.has(m.eventId));
    messages.sort(
      (a, b) => byText(a.eventId, b.eventId) || byText(a.ts, b.ts) || byText(a.channel, b.channel),
    );
    return messages.map((m) => ({ ...m, acks: this.acksOf(m.channel, m.ts, m.eventId) }));
  }

  /** A message's acknowledgements, as `eventMessages` reads them: with the message's event ID. */
  private acksOf(channel: string, ts: string, eventId: string): Acknowledgement[] {
    return this.acknowledged(channel, ts).map((a) => ({ ...a, eventId }));
  }

  acknowledged(channel: string, ts: string): Acknowledgement[] {
    const acks = [...this.acks.values()].filter((a) => a.channel === channel && a.messageTs === ts);
    return acks.sort((a, b) => a.at - b.at || byText(a.userId, b.userId));
  }

  acknowledge(ack: Acknowledgement): Acknowledgement[] {
    const where = `${ack.channel}|${ack.messageTs}|${ack.userId}`;
    if (!this.acks.has(where)) this.acks.set(where, ack);
    return this.acknowledged(ack.channel, ack.messageTs);
  }

  markGone(ids: readonly string[], items: readonly NewOutboxItem[], now: number): void {
    for (const id of ids) {
      const w = this.watched.get(id);
      if (w !== undefined && w.goneAt === null) w.goneAt = now;
    }
    this.insert(items, now);
  }

  postedSince(keys: readonly string[], targetIds: readonly number[], since: number) {
    const hits = [...this.watched].filter(
      ([, w]) =>
        w.listedAt >= since &&
        (keys.length === 0 || keys.includes(w.key)) &&
        (targetIds.length === 0 || (w.targetId !== null && targetIds.includes(w.targetId))),
    );
    const counts = new Map<string, number>();
    for (const [, w] of hits) counts.set(w.key, (counts.get(w.key) ?? 0) + 1);
    const posted = hits.filter(([id]) => [...this.messages.values()].some((m) => m.eventId === id));
    posted.sort(([a, wa], [b, wb]) => wb.listedAt - wa.listedAt || byText(b, a));
    const first = posted[0];
    const payload = first && [...this.messages.values()].find((m) => m.eventId === first[0])?.payload;
    return {
      counts: [...counts].sort(([a], [b]) => byText(a, b)).map(([key, count]) => ({ key, count })),
      latest: first && payload !== undefined ? { payload, at: first[1].listedAt } : null,
    };
  }

  postedTargetIds(): number[] {
    const ids = new Set<number>();
    for (const m of this.messages.values()) {
      const target = this.watched.get(m.eventId)?.targetId;
      if (target !== null && target !== undefined) ids.add(target);
    }
    return [...ids].sort((a, b) => a - b);
  }

  // --- summaries ------------------------------------------------------------------------------------------

  setSummary(s: Omit<SummarySetting, 'lastSlot' | 'held'>): void {
    const same = this.summaries.get(s.channel);
    if (same?.cadence === s.cadence && same.weekday === s.weekday && same.minute === s.minute) return;
    this.summaries.set(s.channel, { ...s, lastSlot: s.createdAt, held: {} });
  }

  routeSummary(item: NewOutboxItem, slot: number, held: Record<string, number>, now: number): void {
    const summary = this.summaries.get(item.channel);
    if (summary === undefined || summary.lastSlot >= slot) return;
    this.summaries.set(item.channel, { ...summary, lastSlot: slot, held });
    this.insert([item], now);
  }

  channelActivity(channel: string, from: number, to: number) {
    const rows = this.rows().filter(
      (r) =>
        r.channel === channel && r.state === 'delivered' && (r.doneAt ?? 0) >= from && (r.doneAt ?? 0) < to,
    );
    rows.sort((a, b) => (a.doneAt ?? 0) - (b.doneAt ?? 0) || a.seq - b.seq);
    const mutes = [...this.mutes.values()].filter(
      (m) => m.channel === channel && m.createdAt < to && (m.endedAt ?? m.expiresAt) >= from,
    );
    return {
      rows: rows.map((r) => ({ kind: r.kind, payload: r.payload })),
      held: Object.fromEntries(mutes.map((m) => [String(m.id), m.held])),
    };
  }
}

export function publicMute(mute: ModelMute): Mute {
  const { id, channel, key, targetId, targetLabel, createdBy, createdAt, expiresAt, held } = mute;
  return { id, channel, key, targetId, targetLabel, createdBy, createdAt, expiresAt, held };
}
