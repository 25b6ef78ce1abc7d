/**
 * Honest steps on seen and staged events, the outbox and state: a scope's view acts on its own, as the poller and
 * the delivery do, and each answer is checked against the scope's model.
 */
import { STATE_KEYS } from './fingerprint.ts';
import { poolEvent, type Step } from './world.ts';

const alert = (channel: string, eventId: string) => ({
  channel,
  kind: 'alert' as const,
  payload: JSON.stringify(poolEvent(eventId)),
  dedupKey: `${channel}:event:${eventId}`,
});

export const honestOutboxSteps: Step[] = [
  {
    name: 'recordPage',
    weight: 6,
    async run(w, a) {
      const events = w.eventIds(4).map(poolEvent);
      const news = events.map(() => w.chance(0.7));
      w.expect('recordPage', await w.view(a).recordPage(events, news), a.model.recordPage(events, news));
    },
  },
  {
    name: 'unseen',
    weight: 2,
    async run(w, a) {
      const ids = w.eventIds(5);
      w.expect('unseen', await w.view(a).unseen(ids), a.model.unseen(ids));
    },
  },
  {
    name: 'stage',
    weight: 2,
    async run(w, a) {
      const events = w.eventIds(2).map(poolEvent);
      await w.view(a).stage(events);
      a.model.stage(events);
    },
  },
  {
    name: 'route',
    weight: 6,
    async run(w, a) {
      const staged = [...a.model.staged.keys()];
      if (staged.length === 0) return false;
      const ids = w.some(staged, 3);
      const channel = w.pick(w.channels(a));
      const items = ids.map((id) => alert(channel, id));
      await w.view(a).route(items, ids, w.now);
      a.model.route(items, ids, w.now);
      await w.learnIds(a, channel);
    },
  },
  {
    name: 'mark',
    weight: 8,
    async run(w, a) {
      const rows = a.model.rows().filter((r) => r.id !== null);
      if (rows.length === 0) return false;
      const id = w.pick(rows).id!;
      const view = w.view(a);
      const how = w.int(4);
      if (how === 0)
        w.expect('markSending', await view.markSending(id, w.now), a.model.markSending(id, w.now));
      if (how === 1) {
        await view.markDelivered(id, w.now);
        a.model.mark(id, { state: 'delivered', doneAt: w.now });
      }
      if (how === 2) {
        await view.markRetry(id, w.now + 5000, 'ratelimited');
        a.model.mark(id, { nextAt: w.now + 5000, error: 'ratelimited' });
      }
      if (how === 3) {
        await view.markFailed(id, 'channel_not_found', w.now);
        a.model.mark(id, { state: 'failed', error: 'channel_not_found', doneAt: w.now });
      }
    },
  },
  {
    name: 'failChannel',
    weight: 1,
    async run(w, a) {
      const channel = w.pick(w.channels(a));
      const failed = await w.view(a).failChannel(channel, 'is_archived', w.now);
      w.expect('failChannel', failed, a.model.failChannel(channel, 'is_archived', w.now));
    },
  },
  {
    name: 'replaceWithDigest',
    weight: 2,
    async run(w, a) {
      const channel = w.pick(w.channels(a));
      const candidates = a.model.pendingIn(channel).filter((r) => r.id !== null);
      if (candidates.length === 0) return false;
      const ids = w.some(candidates, 3).map((r) => r.id!);
      const digest = {
        channel,
        kind: 'alert' as const,
        payload: '{}',
        dedupKey: `${channel}:digest:${w.step % 16}`,
      };
      const replaced = await w.view(a).replaceWithDigest(ids, digest, w.now);
      w.expect('replaceWithDigest', replaced, a.model.replaceWithDigest(ids, digest, w.now));
      await w.learnIds(a, channel);
    },
  },
  {
    name: 'outbox reads',
    weight: 3,
    async run(w, a) {
      const view = w.view(a);
      const channel = w.pick(w.channels(a));
      await w.learnIds(a, channel);
      w.expect('pendingCount', await view.pendingCount(), a.model.stats().pending);
      w.expect('dueChannels', (await view.dueChannels(w.now)).sort(), a.model.dueChannels(w.now));
      const activity = await view.channelActivity(channel, w.now - 50_000, w.now + 1);
      w.expect('channelActivity', activity, a.model.channelActivity(channel, w.now - 50_000, w.now + 1));
    },
  },
  {
    name: 'prune',
    weight: 1,
    async run(w, a) {
      const before = w.now - w.int(20) * 1000;
      await w.view(a).prune(before);
      a.model.prune(before);
    },
  },
  {
    name: 'state',
    weight: 3,
    async run(w, a) {
      const key = w.pick(STATE_KEYS);
      const value = `${a.slot}:${w.step}`;
      await w.view(a).setState({ [key]: value });
      a.model.state.set(key, value);
      const other = w.pick(STATE_KEYS);
      w.expect('getState', await w.view(a).getState(other), a.model.state.get(other));
    },
  },
];
