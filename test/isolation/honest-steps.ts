/**
 * Honest steps: a scope's view acts on its own objects, as the pipeline and the commands do. Each checks the
 * view's answer against the scope's model. IDs, channels and event IDs collide across scopes on purpose (the same
 * event pool everywhere, the same channels for a workspace's two accounts): what one scope does with them must
 * not change what another holds. The outbox's steps are in honest-outbox-steps.ts.
 */
import { DELETION_POOL } from './fingerprint.ts';
import { honestOutboxSteps } from './honest-outbox-steps.ts';
import { KEYS, poolEvent, USERS, type Step } from './world.ts';

export const honestSteps: Step[] = [
  ...honestOutboxSteps,
  {
    name: 'addSubscription',
    weight: 4,
    async run(w, a) {
      const channel = w.pick(w.channels(a));
      const keys = w.chance(0.5) ? [] : [w.pick(KEYS)];
      const targetIds = w.chance(0.6) ? [] : [1 + w.int(3)];
      const minSeverity = w.chance(0.7) ? null : ('high' as const);
      const sub = { channel, keys, targetIds, minSeverity, createdBy: w.pick(USERS), createdAt: w.now };
      const { subscription, created } = await w.view(a).addSubscription(sub);
      const same = a.model.sameSubscription(sub);
      w.expect('addSubscription created', created, same === undefined);
      if (same !== undefined) w.expect('addSubscription existing', subscription, same);
      else {
        w.expect('addSubscription', { ...subscription, id: 0 }, { ...sub, id: 0 });
        a.model.subs.set(subscription.id, subscription);
      }
    },
  },
  {
    name: 'removeSubscription',
    weight: 2,
    async run(w, a) {
      const subs = [...a.model.subs.values()];
      if (subs.length === 0) return false;
      const sub = w.pick(subs);
      const channel = w.chance(0.8) ? sub.channel : w.pick(w.channels(a));
      const removed = await w.view(a).removeSubscription(channel, sub.id);
      w.expect('removeSubscription', removed, channel === sub.channel);
      if (removed) a.model.subs.delete(sub.id);
    },
  },
  {
    name: 'subscriptions by channel',
    weight: 1,
    async run(w, a) {
      const channel = w.pick(w.channels(a));
      const expected = [...a.model.subs.values()]
        .filter((s) => s.channel === channel)
        .sort((x, y) => x.id - y.id);
      w.expect('subscriptions(channel)', await w.view(a).subscriptions(channel), expected);
      if (!w.chance(0.2)) return;
      w.expect('removeAllSubscriptions', await w.view(a).removeAllSubscriptions(channel), expected.length);
      for (const s of expected) a.model.subs.delete(s.id);
    },
  },
  {
    name: 'threads',
    weight: 4,
    async run(w, a) {
      const view = w.view(a);
      const channel = w.pick(w.channels(a));
      const targetId = 1 + w.int(3);
      const where = `${channel}|${targetId}`;
      const how = w.int(3);
      if (how === 0) {
        const thread = {
          channel,
          targetId,
          parentTs: `${w.step}.${a.slot}`,
          parent: `{"p":${w.step}}`,
          openedAt: w.now,
        };
        await view.openThread(thread);
        a.model.threads.set(where, { ...thread, counts: {} });
      } else if (how === 1) {
        const key = w.pick(KEYS);
        await view.countReply(channel, targetId, key, 2);
        const t = a.model.threads.get(where);
        if (t !== undefined)
          a.model.threads.set(where, { ...t, counts: { ...t.counts, [key]: (t.counts[key] ?? 0) + 2 } });
      } else {
        w.expect('closeThread', await view.closeThread(channel, targetId), a.model.threads.get(where));
        a.model.threads.delete(where);
      }
      const other = 1 + w.int(3);
      w.expect('thread', await view.thread(channel, other), a.model.threads.get(`${channel}|${other}`));
    },
  },
  {
    name: 'deletions',
    weight: 2,
    async run(w, a) {
      const record = {
        eventId: w.pick(DELETION_POOL),
        userId: w.pick(USERS),
        at: w.now,
        alreadyDeleted: w.chance(0.3),
      };
      await w.view(a).recordDeletion(record);
      a.model.deletions.set(record.eventId, record);
    },
  },
  {
    name: 'mutes',
    weight: 5,
    async run(w, a) {
      const view = w.view(a);
      const channel = w.pick(w.channels(a));
      const how = w.int(4);
      if (how === 0) {
        const targetId = w.chance(0.5) ? null : 1 + w.int(3);
        const mute = {
          channel,
          key: targetId === null || w.chance(0.5) ? w.pick(KEYS) : null,
          targetId,
          targetLabel: targetId === null ? '' : `host${targetId}`,
          createdBy: w.pick(USERS),
          createdAt: w.now,
          expiresAt: w.now + (1 + w.int(40)) * 1000,
        };
        const made = await view.addMute(mute);
        w.expect('addMute', { ...made, id: 0 }, { ...mute, id: 0, held: 0 });
        a.model.mutes.set(made.id, { ...made, endedAt: null });
      } else if (how === 1) {
        const open = a.model.openMutes();
        if (open.length === 0) return false;
        const mute = w.pick(open);
        const inChannel = w.chance(0.5) ? undefined : w.pick(w.channels(a));
        w.expect(
          'removeMute',
          await view.removeMute(mute.id, w.now, inChannel),
          a.model.removeMute(mute.id, w.now, inChannel),
        );
      } else if (how === 2) {
        const held = new Map(a.model.openMutes().map((m) => [m.id, 1 + w.int(3)] as const));
        await view.countMuted(held);
        a.model.countMuted(held);
      } else {
        const expired = await view.expiredMutes(w.now);
        w.expect('expiredMutes', expired, a.model.expiredMutes(w.now));
        await view.endMutes(
          expired.map((m) => m.id),
          w.now,
        );
        a.model.endMutes(
          expired.map((m) => m.id),
          w.now,
        );
      }
      w.expect('activeMutes', await view.activeMutes(w.now, channel), a.model.activeMutes(w.now, channel));
    },
  },
  {
    name: 'audit',
    weight: 2,
    async run(w, a) {
      const entry = {
        at: w.now,
        userId: w.pick(USERS),
        action: 'mute' as const,
        channel: w.pick(w.channels(a)),
        detail: `${a.slot}:${w.step}`,
      };
      await w.view(a).audit(entry);
      a.model.audit.push(entry);
    },
  },
  {
    name: 'recordMessage',
    weight: 5,
    async run(w, a) {
      const event = poolEvent(w.pick(w.eventIds(1)));
      const message = {
        channel: w.pick(w.channels(a)),
        ts: `${w.int(16)}.000${a.slot}`,
        eventId: event.eventId,
        payload: JSON.stringify(event),
        key: event.key,
        targetId: event.target?.id ?? null,
      };
      const got = await w.view(a).recordMessage(message, w.now);
      w.expect('recordMessage', got, a.model.recordMessage(message, w.now));
    },
  },
  {
    name: 'acknowledge',
    weight: 3,
    async run(w, a) {
      const messages = [...a.model.messages.values()];
      if (messages.length === 0) return false;
      const m = w.pick(messages);
      const ack = {
        channel: m.channel,
        messageTs: m.ts,
        eventId: m.eventId,
        userId: w.pick(USERS),
        at: w.now,
      };
      w.expect('acknowledge', await w.view(a).acknowledge(ack), a.model.acknowledge(ack));
    },
  },
  {
    name: 'messages',
    weight: 4,
    async run(w, a) {
      const view = w.view(a);
      const how = w.int(4);
      if (how === 0) {
        const messages = [...a.model.messages.values()];
        if (messages.length === 0) return false;
        const m = w.pick(messages);
        const got = await view.setMessageSummary(m.channel, m.ts, `summary ${w.step}`);
        w.expect('setMessageSummary', got, a.model.setMessageSummary(m.channel, m.ts, `summary ${w.step}`));
      } else if (how === 1) {
        const ids = w.eventIds(4);
        await view.markListed(ids, w.now - 500);
        a.model.markListed(ids, w.now - 500);
      } else if (how === 2) {
        const coverage = {
          all: w.chance(0.3),
          keys: w.chance(0.5) ? [w.pick(KEYS)] : [],
          targetIds: w.chance(0.5) ? [1 + w.int(4)] : [],
        };
        const threshold = 1 + w.int(3);
        const got = await view.countMisses(coverage, w.now, threshold);
        w.expect('countMisses', got, a.model.countMisses(coverage, w.now, threshold));
      } else {
        const ids = w.some(a.model.watchedIds().concat(w.eventIds(1)), 2);
        const items = [...a.model.messages.values()]
          .filter((m) => ids.includes(m.eventId))
          .map((m) => ({
            channel: m.channel,
            kind: 'alert' as const,
            payload: m.payload,
            dedupKey: `${m.channel}:gone:${m.eventId}`,
          }));
        await view.markGone(ids, items, w.now);
        a.model.markGone(ids, items, w.now);
        for (const channel of new Set(items.map((item) => item.channel))) await w.learnIds(a, channel);
      }
      const ids = w.eventIds(4);
      w.expect('eventMessages', await view.eventMessages(ids), a.model.eventMessages(ids));
      const keys = w.chance(0.5) ? [] : [w.pick(KEYS)];
      const since = w.now - w.int(30) * 1000;
      w.expect('postedSince', await view.postedSince(keys, [], since), a.model.postedSince(keys, [], since));
      const targets = (await view.postedTargets(100)).map((t) => t.targetId).sort((x, y) => x - y);
      w.expect('postedTargets', targets, a.model.postedTargetIds());
    },
  },
  {
    name: 'summaries',
    weight: 3,
    async run(w, a) {
      const view = w.view(a);
      const channel = w.pick(w.channels(a));
      const how = w.int(3);
      if (how === 0) {
        const weekly = w.chance(0.3);
        const s = {
          channel,
          cadence: weekly ? ('weekly' as const) : ('daily' as const),
          weekday: weekly ? 1 : null,
          minute: 60 * w.int(3),
          createdBy: 'U1',
          createdAt: w.now,
        };
        await view.setSummary(s);
        a.model.setSummary(s);
      } else if (how === 1) {
        const item = {
          channel,
          kind: 'alert' as const,
          payload: '{}',
          dedupKey: `${channel}:summary:${w.step % 16}`,
        };
        const held = { '1': w.int(3) };
        await view.routeSummary(item, w.now, held, w.now);
        a.model.routeSummary(item, w.now, held, w.now);
        await w.learnIds(a, channel);
      } else if (w.chance(0.3)) {
        w.expect('removeSummary', await view.removeSummary(channel), a.model.summaries.delete(channel));
      }
      w.expect(
        'summaries(channel)',
        await view.summaries(channel),
        [a.model.summaries.get(channel)].filter(Boolean),
      );
    },
  },
];
