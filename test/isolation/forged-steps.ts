/**
 * Forged steps: the view of scope A is handed what belongs to scope B (B's outbox row IDs, mute IDs,
 * subscription IDs, channels, event IDs, message timestamps, thread keys, B's account ID under A's workspace).
 * Each must answer what A's model says A holds (for IDs B made: nothing) and leave B as it was; the runner then
 * reads B back. A and B are of the same workspace a third of the time (the same channels, other accounts).
 */
import { LATER, STATE_KEYS } from './fingerprint.ts';
import { forgedRegistrySteps } from './registry-steps.ts';
import { poolEvent, USERS, type Tenant, type World } from './world.ts';

export interface ForgedStep {
  readonly name: string;
  readonly weight: number;
  /** False: B holds nothing of the kind to forge with. */
  run(w: World, a: Tenant, b: Tenant): Promise<unknown>;
}

const nothing = <T>(items: T[]): T[] | false => (items.length === 0 ? false : items);

export const forgedSteps: ForgedStep[] = [
  ...forgedRegistrySteps,
  {
    name: "marks on B's outbox rows",
    weight: 6,
    async run(w, a, b) {
      const rows = nothing(b.model.rows().filter((r) => r.id !== null));
      if (rows === false) return false;
      const id = w.pick(rows).id!;
      const view = w.view(a);
      w.expect("markSending(B's row)", await view.markSending(id, w.now), a.model.markSending(id, w.now));
      // A store whose IDs are per scope may hold an A row of that ID: the model then marks it too.
      await view.markDelivered(id, w.now);
      a.model.mark(id, { state: 'delivered', doneAt: w.now });
      await view.markRetry(id, w.now + 1000, 'forged');
      a.model.mark(id, { nextAt: w.now + 1000, error: 'forged' });
      await view.markFailed(id, 'forged', w.now);
      a.model.mark(id, { state: 'failed', error: 'forged', doneAt: w.now });
    },
  },
  {
    name: "digest of B's rows",
    weight: 2,
    async run(w, a, b) {
      const rows = nothing(b.model.rows().filter((r) => r.id !== null && r.state === 'pending'));
      if (rows === false) return false;
      const ids = [...new Set(w.some(rows, 2).map((r) => r.id!))];
      const channel = w.pick(w.channels(a));
      const digest = {
        channel,
        kind: 'alert' as const,
        payload: '{}',
        dedupKey: `${channel}:digest:${w.step % 16}`,
      };
      const replaced = await w.view(a).replaceWithDigest(ids, digest, w.now);
      w.expect("replaceWithDigest(B's rows)", replaced, a.model.replaceWithDigest(ids, digest, w.now));
      await w.learnIds(a, channel);
    },
  },
  {
    name: "B's channel",
    weight: 6,
    async run(w, a, b) {
      const channel = w.pick(w.channels(b));
      const view = w.view(a);
      const how = w.int(7);
      if (how === 0)
        w.expect(
          "failChannel(B's)",
          await view.failChannel(channel, 'forged', w.now),
          a.model.failChannel(channel, 'forged', w.now),
        );
      if (how === 1) {
        const expected = [...a.model.subs.values()].filter((s) => s.channel === channel);
        w.expect("removeAllSubscriptions(B's)", await view.removeAllSubscriptions(channel), expected.length);
        for (const s of expected) a.model.subs.delete(s.id);
      }
      if (how === 2) {
        w.expect(
          "nextDue(B's)",
          (await view.nextDue(channel, LATER))?.dedupKey,
          a.model.nextDue(channel, LATER)?.dedupKey,
        );
        w.expect(
          "unattemptedAlerts(B's)",
          (await view.unattemptedAlerts(channel)).map((r) => r.dedupKey),
          a.model.unattemptedAlerts(channel).map((r) => r.dedupKey),
        );
      }
      if (how === 3)
        w.expect(
          "channelActivity(B's)",
          await view.channelActivity(channel, 0, LATER),
          a.model.channelActivity(channel, 0, LATER),
        );
      if (how === 4) {
        w.expect("activeMutes(B's)", await view.activeMutes(0, channel), a.model.activeMutes(0, channel));
        w.expect(
          "subscriptions(B's)",
          (await view.subscriptions(channel)).map((s) => s.id),
          [...a.model.subs.values()]
            .filter((s) => s.channel === channel)
            .map((s) => s.id)
            .sort((x, y) => x - y),
        );
      }
      if (how === 5) {
        const item = {
          channel,
          kind: 'alert' as const,
          payload: '{}',
          dedupKey: `${channel}:summary:${w.step % 16}`,
        };
        await view.routeSummary(item, w.now, { forged: 1 }, w.now);
        a.model.routeSummary(item, w.now, { forged: 1 }, w.now);
        await w.learnIds(a, channel);
        w.expect("removeSummary(B's)", await view.removeSummary(channel), a.model.summaries.delete(channel));
      }
      if (how === 6) {
        // A's own summary in B's channel (same workspace: the same channel): B's must stay as it was.
        const s = {
          channel,
          cadence: 'daily' as const,
          weekday: null,
          minute: 0,
          createdBy: 'UFORGED',
          createdAt: w.now,
        };
        await view.setSummary(s);
        a.model.setSummary(s);
      }
    },
  },
  {
    name: "B's subscriptions",
    weight: 4,
    async run(w, a, b) {
      const subs = nothing([...b.model.subs.values()]);
      if (subs === false) return false;
      const sub = w.pick(subs);
      const view = w.view(a);
      const mine = a.model.subs.get(sub.id)?.channel === sub.channel;
      w.expect("removeSubscription(B's)", await view.removeSubscription(sub.channel, sub.id), mine);
      if (mine) a.model.subs.delete(sub.id);
      // The same filters in the same channel: A gets its own, never B's.
      const { subscription, created } = await view.addSubscription({ ...sub, createdAt: w.now });
      const same = a.model.sameSubscription(sub);
      w.expect('addSubscription(as B) created', created, same === undefined);
      if (same === undefined)
        a.model.subs.set(subscription.id, { ...sub, id: subscription.id, createdAt: w.now });
    },
  },
  {
    name: "B's mutes",
    weight: 4,
    async run(w, a, b) {
      const mutes = nothing([...b.model.mutes.values()]);
      if (mutes === false) return false;
      const mute = w.pick(mutes);
      const view = w.view(a);
      const channel = w.chance(0.5) ? mute.channel : undefined;
      w.expect(
        "removeMute(B's)",
        await view.removeMute(mute.id, w.now, channel),
        a.model.removeMute(mute.id, w.now, channel),
      );
      await view.countMuted(new Map([[mute.id, 7]]));
      a.model.countMuted(new Map([[mute.id, 7]]));
      await view.endMutes([mute.id], w.now);
      a.model.endMutes([mute.id], w.now);
      w.expect('expiredMutes', await view.expiredMutes(w.now), a.model.expiredMutes(w.now));
      w.expect('mutedTotal', await view.mutedTotal(), a.model.mutedTotal());
    },
  },
  {
    name: "B's threads",
    weight: 3,
    async run(w, a, b) {
      const threads = nothing([...b.model.threads.values()]);
      if (threads === false) return false;
      const { channel, targetId } = w.pick(threads);
      const where = `${channel}|${targetId}`;
      const view = w.view(a);
      w.expect("thread(B's)", await view.thread(channel, targetId), a.model.threads.get(where));
      await view.countReply(channel, targetId, 'forged', 5);
      const t = a.model.threads.get(where);
      if (t !== undefined)
        a.model.threads.set(where, { ...t, counts: { ...t.counts, forged: (t.counts['forged'] ?? 0) + 5 } });
      if (w.chance(0.5)) {
        w.expect("closeThread(B's)", await view.closeThread(channel, targetId), a.model.threads.get(where));
        a.model.threads.delete(where);
      } else {
        // A's own thread under B's key: B's must stay as it was.
        const thread = {
          channel,
          targetId,
          parentTs: `${w.step}.9`,
          parent: '{"forged":true}',
          openedAt: w.now,
        };
        await view.openThread(thread);
        a.model.threads.set(where, { ...thread, counts: {} });
      }
    },
  },
  {
    name: "B's messages",
    weight: 5,
    async run(w, a, b) {
      const messages = nothing([...b.model.messages.values()]);
      if (messages === false) return false;
      const m = w.pick(messages);
      const view = w.view(a);
      const how = w.int(3);
      if (how === 0) {
        const got = await view.setMessageSummary(m.channel, m.ts, 'forged');
        w.expect("setMessageSummary(B's)", got, a.model.setMessageSummary(m.channel, m.ts, 'forged'));
      } else if (how === 1) {
        const ack = {
          channel: m.channel,
          messageTs: m.ts,
          eventId: m.eventId,
          userId: w.pick(USERS),
          at: w.now,
        };
        w.expect("acknowledge(B's message)", await view.acknowledge(ack), a.model.acknowledge(ack));
      } else {
        // A message of A's at B's very (channel, ts): B's must stay as it was.
        const event = poolEvent(m.eventId);
        const mine = {
          channel: m.channel,
          ts: m.ts,
          eventId: m.eventId,
          payload: m.payload,
          key: event.key,
          targetId: event.target?.id ?? null,
        };
        w.expect(
          "recordMessage(at B's ts)",
          await view.recordMessage(mine, w.now),
          a.model.recordMessage(mine, w.now),
        );
      }
      w.expect(
        "eventMessages(B's)",
        await view.eventMessages([m.eventId]),
        a.model.eventMessages([m.eventId]),
      );
    },
  },
  {
    name: "B's watched events",
    weight: 4,
    async run(w, a, b) {
      const watched = nothing(b.model.watchedIds());
      if (watched === false) return false;
      const ids = w.some(watched, 3);
      const view = w.view(a);
      if (w.chance(0.5)) {
        await view.markGone(ids, [], w.now);
        a.model.markGone(ids, [], w.now);
      } else {
        await view.markListed(ids, w.now + 1);
        a.model.markListed(ids, w.now + 1);
        const coverage = { all: true, keys: [], targetIds: [] };
        w.expect(
          'countMisses(all)',
          await view.countMisses(coverage, w.now, 1),
          a.model.countMisses(coverage, w.now, 1),
        );
      }
      w.expect('watchedEventIds', (await view.watchedEventIds()).sort(), a.model.watchedIds());
      w.expect('postedSince', await view.postedSince([], [], 0), a.model.postedSince([], [], 0));
    },
  },
  {
    name: "B's seen and staged events",
    weight: 4,
    async run(w, a, b) {
      const seen = nothing([...b.model.seen]);
      if (seen === false) return false;
      const ids = w.some(seen, 3);
      const view = w.view(a);
      w.expect("unseen(B's)", await view.unseen(ids), a.model.unseen(ids));
      const staged = [...b.model.staged.keys()];
      if (staged.length > 0 && w.chance(0.5)) {
        const routed = w.some(staged, 2);
        await view.route([], routed, w.now);
        a.model.route([], routed, w.now);
      } else {
        const events = ids.map(poolEvent);
        const news = events.map(() => true);
        w.expect("recordPage(B's)", await view.recordPage(events, news), a.model.recordPage(events, news));
      }
    },
  },
  {
    name: "B's deletions and state",
    weight: 2,
    async run(w, a, b) {
      const deleted = [...b.model.deletions.keys()];
      const view = w.view(a);
      if (deleted.length > 0) {
        const id = w.pick(deleted);
        w.expect("deletion(B's)", await view.deletion(id), a.model.deletions.get(id));
        if (w.chance(0.5)) {
          const record = { eventId: id, userId: 'UFORGED', at: w.now, alreadyDeleted: true };
          await view.recordDeletion(record);
          a.model.deletions.set(id, record);
        }
      }
      const key = w.pick([...b.model.state.keys(), ...STATE_KEYS]);
      w.expect("getState(B's key)", await view.getState(key), a.model.state.get(key));
    },
  },
];
