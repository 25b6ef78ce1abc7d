/**
 * What a delivery records around a post besides the row itself: the message an alert became (so that it can be
 * updated once its event is gone from Halo), and the scan threads (which thread a row goes to, and what its post
 * changes in that thread).
 */
import type { Clock } from '../clock.ts';
import type { Severity, SeverityOf } from '../domain/severity.ts';
import type { Logger } from '../log.ts';
import type { OutboxItem, Store } from './store-port.ts';
import type { ChatPort } from './chat-port.ts';
import { markEventsGone } from './gone-tracking.ts';
import { parseEvent } from './outbox.ts';
import { scanSummary, stepFor, threadStep, threadTarget, type ThreadStep } from './threads.ts';

/** Scan threads (HALO_THREADS), as a delivery is given them. */
export interface DeliveryThreads<M> {
  readonly severityOf: SeverityOf;
  /** A thread's parent again, with the one-line summary its scan ended with. */
  readonly renderParent: (parentPayload: string, summary: string) => M;
}

/** What the bookkeeping reads of its delivery's options. */
export interface Bookkeeping<M> {
  readonly store: Store;
  readonly chat: ChatPort<M>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly threads?: DeliveryThreads<M>;
}

export const NO_THREAD: ThreadStep = { kind: 'none' };

/**
 * Remembers the message an alert became, so that it can be updated once its event is gone from Halo. An alert
 * posted after its event was found gone (it waited out a Slack outage) is updated at once.
 */
export async function remember<M>(options: Bookkeeping<M>, item: OutboxItem, ts: string): Promise<void> {
  if (item.kind !== 'alert' || ts === '') return;
  const event = parseEvent(item.payload);
  if (event === null) return;
  const { store, clock } = options;
  const now = clock.now();
  const { goneAt } = await store.recordMessage(
    {
      channel: item.channel,
      ts,
      eventId: event.eventId,
      payload: item.payload,
      key: event.key,
      targetId: event.target?.id ?? null,
    },
    now,
  );
  if (goneAt !== null) await markEventsGone(store, [event.eventId], goneAt);
}

/** Whether the row opens a scan thread, replies in one, or neither. */
export async function threadStepOf<M>(options: Bookkeeping<M>, item: OutboxItem): Promise<ThreadStep> {
  const threads = options.threads;
  if (threads === undefined) return NO_THREAD;
  const now = options.clock.now();
  if (item.kind === 'digest') {
    // A digest of one thread's replies (routing made it) goes into that thread.
    const summary = JSON.parse(item.payload) as { thread?: unknown; highest?: Severity };
    if (typeof summary.thread !== 'number') return NO_THREAD;
    const open = await options.store.thread(item.channel, summary.thread);
    return stepFor(summary.thread, undefined, summary.highest ?? 'info', open, now);
  }
  if (item.kind !== 'alert') return NO_THREAD;
  const event = parseEvent(item.payload);
  const targetId = event === null ? null : threadTarget(event);
  if (event === null || targetId === null) return NO_THREAD;
  const open = await options.store.thread(item.channel, targetId);
  return threadStep(event, threads.severityOf(event.key), open, now);
}

/** Thread bookkeeping once a row is in Slack: record a new parent, count a reply, or end the scan's thread. */
export async function afterPosted<M>(
  options: Bookkeeping<M>,
  item: OutboxItem,
  step: ThreadStep,
  ts: string,
): Promise<void> {
  const { store, clock, chat, log } = options;
  const threads = options.threads;
  if (threads === undefined || step.kind === 'none') return;
  const channel = item.channel;
  if (step.kind === 'open') {
    await store.openThread({
      channel,
      targetId: step.targetId,
      parentTs: ts,
      parent: item.payload,
      openedAt: clock.now(),
    });
    return;
  }
  if (item.kind === 'digest') {
    const summary = JSON.parse(item.payload) as { byKey?: { key: string; count: number }[] };
    for (const entry of summary.byKey ?? [])
      await store.countReply(channel, step.targetId, entry.key, entry.count);
    return;
  }
  const event = parseEvent(item.payload)!;
  if (!step.closes) {
    await store.countReply(channel, step.targetId, event.key, 1);
    return;
  }
  const closed = await store.closeThread(channel, step.targetId);
  if (closed === null || closed.parentTs !== step.parentTs) return;
  const summary = scanSummary(event.key, closed.counts);
  const { goneAt } = await store.setMessageSummary(channel, closed.parentTs, summary);
  const parentEvent = parseEvent(closed.parent);
  if (goneAt !== null && parentEvent !== null) {
    // Its event is gone from Halo: the parent keeps saying so, with the summary, and gets no buttons back.
    await markEventsGone(store, [parentEvent.eventId], goneAt, ':summary');
    return;
  }
  let parent: M;
  try {
    parent = threads.renderParent(closed.parent, summary);
  } catch (error) {
    log.warn('delivery: a scan thread parent could not be rendered again', { channel, error });
    return;
  }
  // Best effort: the summary is a convenience, the alerts themselves are all in the thread.
  const updated = await chat.update(channel, closed.parentTs, parent);
  if (!updated.ok)
    log.warn(`delivery: the scan thread's parent could not be updated (${updated.error})`, { channel });
}
