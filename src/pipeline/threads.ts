/**
 * Pure rules for scan threads. A target's Scan Started alert opens a thread in its channel; the target's events
 * that follow while the scan runs are replies in it, and Scan Complete (or Failed) is the last reply, after
 * which the parent is updated with a one-line summary. High and critical replies are also sent to the channel.
 */
import { EVENT_TYPES, severityRank, type Severity } from '../domain/severity.ts';
import type { HaloEvent } from '../domain/event.ts';

/** A scan whose end never came (Halo lost it, or it was deleted) stops gathering replies after this long. */
export const THREAD_MAX_AGE_MS = 24 * 3600 * 1000;

/** What one alert does about threads. */
export type ThreadStep =
  | { readonly kind: 'none' }
  /** Posted in the channel; its ts becomes the parent of the target's thread. */
  | { readonly kind: 'open'; readonly targetId: number }
  | {
      readonly kind: 'reply';
      readonly targetId: number;
      readonly parentTs: string;
      /** Also shown in the channel: nothing important hides in a thread. */
      readonly broadcast: boolean;
      /** The scan ended: the thread closes and its parent gets the summary. */
      readonly closes: boolean;
    };

export interface OpenThread {
  readonly parentTs: string;
  readonly openedAt: number;
}

/** The target a thread is for: only a real target ID ties events together. */
export function threadTarget(event: HaloEvent): number | null {
  const id = event.target?.id ?? null;
  return id !== null && id > 0 ? id : null;
}

export function scanRole(key: string): 'start' | 'end' | undefined {
  return EVENT_TYPES[key]?.role;
}

export function threadStep(
  event: HaloEvent,
  severity: Severity,
  open: OpenThread | null,
  now: number,
): ThreadStep {
  return stepFor(threadTarget(event), scanRole(event.key), severity, open, now);
}

/** {@link threadStep} for a target, role and severity known otherwise (a digest of one thread's replies). */
export function stepFor(
  targetId: number | null,
  role: 'start' | 'end' | undefined,
  severity: Severity,
  open: OpenThread | null,
  now: number,
): ThreadStep {
  if (targetId === null) return { kind: 'none' };
  if (role === 'start') return { kind: 'open', targetId };
  if (open === null || now - open.openedAt > THREAD_MAX_AGE_MS) return { kind: 'none' };
  return {
    kind: 'reply',
    targetId,
    parentTs: open.parentTs,
    broadcast: severityRank(severity) >= severityRank('high'),
    closes: role === 'end',
  };
}

/**
 * Events in the order their scans happened. Halo stamps events to the minute and lists them by name, so a scan's
 * Scan Started, its findings and its end often share a `dateCreated` and arrive in any order: within one minute
 * a start goes first and an end last, so that the findings land in the thread and not in the channel before it.
 * Only runs of one `dateCreated` are reordered (the store lists by creation time), and stably.
 */
export function inScanOrder(events: readonly HaloEvent[]): HaloEvent[] {
  const rank = (event: HaloEvent): number => {
    const role = scanRole(event.key);
    return role === 'start' ? 0 : role === 'end' ? 2 : 1;
  };
  const ordered: HaloEvent[] = [];
  for (let from = 0; from < events.length;) {
    let to = from + 1;
    while (to < events.length && events[to]!.dateCreated === events[from]!.dateCreated) to++;
    // Array.prototype.sort is stable: equal ranks keep the store's order.
    ordered.push(...events.slice(from, to).sort((a, b) => rank(a) - rank(b)));
    from = to;
  }
  return ordered;
}

/**
 * Which of a channel's new events will be thread replies, predicted at routing time from the threads open now
 * and the scans this batch starts (events arrive oldest first). Replies do not make a channel noisy, so they do
 * not count towards a digest. With `startsOpen: false` only threads already open count (a digest swallows the
 * batch's own Scan Started alerts, so they open none).
 */
export function willReply(
  channel: string,
  events: readonly HaloEvent[],
  isOpen: (channel: string, targetId: number) => boolean,
  startsOpen = true,
): Set<HaloEvent> {
  const opened = new Set<number>();
  const closed = new Set<number>();
  const replies = new Set<HaloEvent>();
  for (const event of events) {
    const targetId = threadTarget(event);
    if (targetId === null) continue;
    const role = scanRole(event.key);
    if (role === 'start') {
      if (startsOpen) {
        opened.add(targetId);
        closed.delete(targetId);
      }
      continue;
    }
    if (opened.has(targetId) || (!closed.has(targetId) && isOpen(channel, targetId))) {
      replies.add(event);
      if (role === 'end') {
        opened.delete(targetId);
        closed.add(targetId);
      }
    }
  }
  return replies;
}

/** "Scan complete · 3 new issues · 1 port opened": the parent's line once the scan ended. */
export function scanSummary(endKey: string, counts: Readonly<Record<string, number>>): string {
  const head = endKey.includes('fail') ? 'Scan failed' : 'Scan complete';
  const parts: string[] = [];
  let other = 0;
  for (const [key, count] of Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const noun = EVENT_TYPES[key]?.noun;
    if (noun === undefined) other += count;
    else parts.push(`${count} ${count === 1 ? noun[0] : noun[1]}`);
  }
  if (other > 0) parts.push(`${other} other ${other === 1 ? 'event' : 'events'}`);
  return [head, ...(parts.length === 0 ? ['nothing new'] : parts)].join(' · ');
}
