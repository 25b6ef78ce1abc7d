/**
 * A scope's observable state in one string, read through its view's read methods, or computed from its model:
 * the suite compares the two for the scope that acted, and each other scope's against what it was before.
 */
import type { Store } from '../../src/pipeline/store-port.ts';
import { byText, type ScopeModel } from './model.ts';

/** Every Halo event ID the suite uses: the same pool for every scope, so IDs collide across scopes honestly. */
export const EVENT_POOL = Array.from({ length: 24 }, (_, i) => `ev-${i}`);
/** The event IDs deletions are recorded for (each is read back in every fingerprint). */
export const DELETION_POOL = EVENT_POOL.slice(0, 2);
/** The state keys the suite sets: the same names in every scope, as the poller's are. */
export const STATE_KEYS = ['baseline', 'cursor'] as const;
/** A time after every step: every pending row is due then. */
export const LATER = 9e12;

/** JSON with object keys sorted (PostgreSQL's JSONB does not keep their order). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => byText(a, b)))
      : v,
  );
}

/** What the registry holds of a scope's account and workspace, as the fingerprint shows it. */
export interface RegistryView {
  readonly account: {
    name: string;
    keyHint: string;
    apiKey: string;
    status: string;
    lastPollAt: number | null;
    lastError: string | null;
  } | null;
  readonly installation: { botId: string; botToken: string; teamId: string | null } | null;
}

interface Parts {
  subs: unknown;
  mutes: unknown;
  mutedTotal: number;
  audit: unknown;
  stats: unknown;
  threads: unknown;
  staged: string[];
  due: string[];
  state: (string | null)[];
  watched: string[];
  summaries: unknown;
  messages: unknown;
  failures: unknown;
  deletions: unknown;
  registry: RegistryView;
}

const subFields = (s: {
  id: number;
  channel: string;
  keys: readonly string[];
  targetIds: readonly number[];
  minSeverity: string | null;
  createdBy: string;
  createdAt: number;
}) => [s.id, s.channel, s.keys, s.targetIds, s.minSeverity, s.createdBy, s.createdAt];
const muteFields = (m: {
  id: number;
  channel: string;
  key: string | null;
  targetId: number | null;
  targetLabel: string;
  held: number;
  expiresAt: number;
  createdAt: number;
  createdBy: string;
}) => [m.id, m.channel, m.key, m.targetId, m.targetLabel, m.held, m.expiresAt, m.createdAt, m.createdBy];
const threadFields = (t: {
  channel: string;
  targetId: number;
  parentTs: string;
  parent: string;
  counts: object;
  openedAt: number;
}) => [t.channel, t.targetId, t.parentTs, t.parent, t.counts, t.openedAt];
const byThread = (a: unknown[], b: unknown[]) =>
  byText(`${String(a[0])}|${String(a[1])}`, `${String(b[0])}|${String(b[1])}`);

/** The scope's state as its view reads it. */
export async function readFingerprint(view: Store, registry: RegistryView): Promise<string> {
  // Concurrently: PostgreSQL's pool runs them on several connections (SQLite runs them one by one anyway).
  const [subs, mutes, mutedTotal, audit, stats, threads, staged, due, state, watched, summaries] =
    await Promise.all([
      view.subscriptions(),
      view.activeMutes(0),
      view.mutedTotal(),
      view.recentAudit(5),
      view.stats(),
      view.openThreads(),
      view.staged(),
      view.dueChannels(LATER),
      Promise.all(STATE_KEYS.map((key) => view.getState(key))),
      view.watchedEventIds(),
      view.summaries(),
    ]);
  const [messages, failures, deletions] = await Promise.all([
    view.eventMessages(EVENT_POOL),
    view.recentFailures(5),
    Promise.all(DELETION_POOL.map((id) => view.deletion(id))),
  ]);
  const parts: Parts = {
    subs: subs.map(subFields),
    mutes: mutes.map(muteFields),
    mutedTotal,
    audit: audit.map((a) => [a.at, a.userId, a.action, a.channel, a.detail]),
    stats,
    threads: threads.map(threadFields).sort(byThread),
    staged: staged.map((e) => e.eventId),
    due: due.sort(byText),
    state,
    watched: watched.sort(byText),
    summaries: summaries.map((s) => [
      s.channel,
      s.cadence,
      s.weekday,
      s.minute,
      s.lastSlot,
      s.held,
      s.createdAt,
    ]),
    messages,
    failures,
    deletions,
    registry,
  };
  return canonical(parts);
}

/** The scope's state as its model predicts it. */
export function modelFingerprint(model: ScopeModel, registry: RegistryView): string {
  const audit = model.audit.slice(-5).reverse();
  const parts: Parts = {
    subs: [...model.subs.values()].sort((a, b) => a.id - b.id).map(subFields),
    mutes: model.activeMutes(0).map(muteFields),
    mutedTotal: model.mutedTotal(),
    audit: audit.map((a) => [a.at, a.userId, a.action, a.channel, a.detail]),
    stats: model.stats(),
    threads: [...model.threads.values()].map(threadFields).sort(byThread),
    staged: model.stagedList().map((e) => e.eventId),
    due: model.dueChannels(LATER),
    state: STATE_KEYS.map((key) => model.state.get(key) ?? null),
    watched: model.watchedIds(),
    summaries: [...model.summaries.values()]
      .sort((a, b) => byText(a.channel, b.channel))
      .map((s) => [s.channel, s.cadence, s.weekday, s.minute, s.lastSlot, s.held, s.createdAt]),
    messages: model.eventMessages(EVENT_POOL),
    failures: model.recentFailures(5),
    deletions: DELETION_POOL.map((id) => model.deletions.get(id) ?? null),
    registry,
  };
  return canonical(parts);
}
