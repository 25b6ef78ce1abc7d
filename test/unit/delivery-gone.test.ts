/**
 * Delivery of `gone` rows (updates of messages whose event left Halo) and the bookkeeping of posted alerts that
 * makes them possible, against a chat port that records every call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import type { ChatPort, PostResult, UpdateResult } from '../../src/pipeline/chat-port.ts';
import { Delivery } from '../../src/pipeline/delivery.ts';
import { goneItems } from '../../src/pipeline/gone-tracking.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import { failureHint } from '../../src/slack/blocks/slack-errors.ts';
import { openSqliteStore } from '../stores.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import { waitFor } from '../harness.ts';

/** Until the store says so (the harness's waitFor takes a synchronous probe). */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const logs: string[] = [];
const log: Logger = {
  debug: (m) => logs.push(`debug ${m}`),
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

interface Call {
  readonly method: 'post' | 'update' | 'find';
  readonly channel: string;
  readonly ts?: string;
  readonly text: string;
}

function recordingChat(update: (n: number) => UpdateResult = () => ({ ok: true })) {
  const calls: Call[] = [];
  let posts = 0;
  let updates = 0;
  const chat: ChatPort<SlackMessage> = {
    post: (channel, message): Promise<PostResult> => {
      calls.push({ method: 'post', channel, text: message.text });
      return Promise.resolve({ ok: true, ts: `100.${++posts}` });
    },
    update: (channel, ts, message) => {
      calls.push({ method: 'update', channel, ts, text: message.text });
      return Promise.resolve(update(updates++));
    },
    find: (channel) => {
      calls.push({ method: 'find', channel, text: '' });
      return Promise.resolve({ found: false });
    },
    hint: failureHint,
  };
  return { chat, calls };
}

const event = (id: string): HaloEvent => ({
  eventId: id,
  subject: 'New Open Port',
  dateCreated: '2026-11-29 10:00',
  key: 'port-open',
  url: '',
  target: { name: '', id: 7, host: 'h7' },
});

const running: Delivery<SlackMessage>[] = [];
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop(200)));
  await Promise.all(stores.splice(0).map((s) => s.close()));
  logs.length = 0;
});

function start(store: Store, chat: ChatPort<SlackMessage>): Delivery<SlackMessage> {
  const delivery = new Delivery({
    store,
    chat,
    clock: systemClock,
    log,
    render: (row) => ({ text: `${row.kind} ${row.dedupKey}`, blocks: [] }),
    gapMs: 5,
    backoffMs: 20,
    backoffCapMs: 1000,
    tickMs: 10,
  });
  running.push(delivery);
  delivery.start();
  return delivery;
}

async function storeWith(): Promise<Store> {
  const store = openSqliteStore(':memory:');
  stores.push(store);
  return Promise.resolve(store);
}

const goneRow = (channel: string, ts: string, id = 'e1') =>
  goneItems(
    [{ channel, ts, eventId: id, payload: JSON.stringify(event(id)), summary: null, acks: [] }],
    new Map(),
    5000,
  )[0]!;

describe('a gone row', () => {
  it('updates the message it names in place: no post, no lookup, even after an uncertain attempt', async () => {
    const store = await storeWith();
    await store.route([goneRow('C1', '42.0')], [], Date.now());
    const row = (await store.nextDue('C1', Date.now()))!;
    await store.markSending(row.id, Date.now() - 1000);
    const { chat, calls } = recordingChat();
    start(store, chat);
    await waitFor('the update', () => calls.length > 0);
    await until('the row delivered', async () => (await store.stats()).delivered === 1);
    expect(calls).toEqual([{ method: 'update', channel: 'C1', ts: '42.0', text: 'gone C1:gone:42.0' }]);
  });

  it('is done when the message was deleted in Slack, and retried when Slack fails for now', async () => {
    const store = await storeWith();
    await store.route([goneRow('C1', '1.0', 'a'), goneRow('C2', '2.0', 'b')], [], Date.now());
    const answers: UpdateResult[] = [
      { ok: false, kind: 'message', error: 'message_not_found' },
      { ok: false, kind: 'transient', error: 'http_503' },
    ];
    const { chat, calls } = recordingChat((n) => answers[n] ?? { ok: true });
    start(store, chat);
    await until('both rows delivered', async () => (await store.stats()).delivered === 2);
    expect(
      calls
        .filter((c) => c.method === 'update')
        .map((c) => c.ts)
        .sort(),
    ).toEqual(['1.0', '2.0', '2.0']);
    expect(logs).toContain('info message not updated: it was deleted in Slack');
    expect((await store.stats()).failed).toBe(0);
  });
});

describe('a posted alert', () => {
  it('is remembered as a message of its event; one posted after its event was found gone is updated at once', async () => {
    const store = await storeWith();
    const alert = (id: string) => ({
      channel: 'C1',
      kind: 'alert' as const,
      payload: JSON.stringify(event(id)),
      dedupKey: `C1:event:${id}`,
    });
    // e2 went from Halo while its alert waited (say, out a Slack outage).
    await store.recordMessage(
      {
        channel: 'C0',
        ts: '9.0',
        eventId: 'e2',
        payload: JSON.stringify(event('e2')),
        key: 'port-open',
        targetId: 7,
      },
      1,
    );
    await store.markGone(['e2'], [], 3000);
    await store.route([alert('e1'), alert('e2')], [], Date.now());
    const { chat, calls } = recordingChat();
    start(store, chat);
    await waitFor('the update', () => calls.some((c) => c.method === 'update' && c.channel === 'C1'));
    expect(calls.filter((c) => c.channel === 'C1').map((c) => [c.method, c.ts ?? '', c.text])).toEqual([
      ['post', '', 'alert C1:event:e1'],
      ['post', '', 'alert C1:event:e2'],
      ['update', '100.2', 'gone C1:gone:100.2'],
    ]);
    expect((await store.eventMessages(['e1'])).map((m) => [m.channel, m.ts])).toEqual([['C1', '100.1']]);
    expect(await store.watchedEventIds()).toEqual(['e1']);
  });
});
