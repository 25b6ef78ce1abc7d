import { describe, expect, it } from 'vitest';
import type { HaloAccount } from '../../src/commands/accounts.ts';
import { LinkPreviews } from '../../src/commands/link-preview.ts';
import type { HaloClient } from '../../src/pipeline/halo-port.ts';
import { HaloApiError, HaloNetworkError } from '../../src/pipeline/halo-errors.ts';
import type { HaloEvent } from '../../src/domain/event.ts';
import { createLogger } from '../../src/log.ts';
import type { Acknowledgement, DeletionRecord, EventMessage } from '../../src/pipeline/store-port.ts';

const link = (id: string): string => `https://www.halosecurity.com/link?q=user-event&id=${id}`;
const event = (id: string): HaloEvent => ({
  eventId: id,
  subject: 'Scan Started',
  dateCreated: '2026-12-01 09:30',
  key: 'target-scan-start',
  url: link(id),
  target: null,
});
const T1 = { teamId: 'T1' };

/** A Halo that holds `ids`, answers after `release()` when held, and counts the questions. */
function fakeHalo(ids: string[], failWith?: Error) {
  const asked: string[] = [];
  const halo = {
    getEvent: (id: string) => {
      asked.push(id);
      if (failWith !== undefined) return Promise.reject(failWith);
      if (!ids.includes(id))
        return Promise.reject(new HaloApiError('event/get.json', 404, 'event not found', 200));
      return Promise.resolve(event(id));
    },
  } as unknown as HaloClient;
  return { halo, asked };
}

function previews(
  halo: HaloClient,
  store: {
    messages?: (EventMessage & { acks: Acknowledgement[] })[];
    deletion?: DeletionRecord;
  } = {},
  cache = { lifetimeMs: 600_000, entries: 1000 },
) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const subject = new LinkPreviews({
    accountOf: (workspace) =>
      Promise.resolve(
        workspace.teamId === T1.teamId
          ? [
              {
                id: 'env',
                halo,
                store: {
                  eventMessages: (ids: string[]) =>
                    Promise.resolve((store.messages ?? []).filter((m) => ids.includes(m.eventId))),
                  deletion: (id: string) =>
                    Promise.resolve(store.deletion?.eventId === id ? store.deletion : null),
                },
              } as unknown as HaloAccount,
            ]
          : [],
      ),
    clock,
    // The redaction itself is the e2e tests' concern (test/e2e/link-previews.test.ts).
    redact: (text) => text,
    log: createLogger({ level: 'error', secrets: [], write: () => undefined }),
    cache,
  });
  return { subject, advance: (ms: number) => (now += ms) };
}

describe('LinkPreviews', () => {
  it('previews an event of the account, asking Halo once per lifetime however many ask at once', async () => {
    const { halo, asked } = fakeHalo(['ev-1']);
    const { subject, advance } = previews(halo);
    const all = await Promise.all([1, 2, 3].map(() => subject.preview(T1, link('ev-1'))));
    expect(all.every((p) => p?.kind === 'event' && p.event.eventId === 'ev-1')).toBe(true);
    expect(asked).toEqual(['ev-1']);
    advance(599_999);
    await subject.preview(T1, link('ev-1'));
    expect(asked).toEqual(['ev-1']);
    advance(1);
    await subject.preview(T1, link('ev-1'));
    expect(asked).toEqual(['ev-1', 'ev-1']);
  });

  it('keeps a miss and a failure for the lifetime too, and shows neither', async () => {
    const missing = fakeHalo([]);
    const a = previews(missing.halo).subject;
    expect(await a.preview(T1, link('ev-x'))).toBeNull();
    expect(await a.preview(T1, link('ev-x'))).toBeNull();
    expect(missing.asked).toEqual(['ev-x']);
    const down = fakeHalo(['ev-1'], new HaloNetworkError('event/get.json', true, 'timeout'));
    const b = previews(down.halo).subject;
    expect(await b.preview(T1, link('ev-1'))).toBeNull();
    expect(await b.preview(T1, link('ev-1'))).toBeNull();
    expect(down.asked).toEqual(['ev-1']);
  });

  it('asks nothing for another link or another workspace', async () => {
    const { halo, asked } = fakeHalo(['ev-1']);
    const { subject } = previews(halo);
    expect(await subject.preview(T1, 'https://example.com/link?q=user-event&id=ev-1')).toBeNull();
    expect(await subject.preview({ teamId: 'T2' }, link('ev-1'))).toBeNull();
    expect(await subject.preview({ teamId: undefined }, link('ev-1'))).toBeNull();
    expect(asked).toEqual([]);
  });

  it('holds at most `entries` links, dropping the oldest', async () => {
    const { halo, asked } = fakeHalo(['a', 'b', 'c']);
    const { subject } = previews(halo, {}, { lifetimeMs: 600_000, entries: 2 });
    for (const id of ['a', 'b', 'c', 'c', 'b', 'a']) await subject.preview(T1, link(id));
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it('names everyone who acknowledged the event, each once, earliest first', async () => {
    const { halo } = fakeHalo(['ev-1']);
    const ack = (userId: string, at: number): Acknowledgement => ({
      channel: 'C1',
      messageTs: '1.1',
      eventId: 'ev-1',
      userId,
      at,
    });
    const message = { channel: 'C1', ts: '1.1', eventId: 'ev-1', payload: '{}', summary: null };
    const { subject } = previews(halo, { messages: [{ ...message, acks: [ack('UB', 20), ack('UA', 10)] }] });
    const preview = await subject.preview(T1, link('ev-1'), [ack('UA', 5), ack('UC', 30)]);
    expect(preview?.kind === 'event' ? preview.acks.map((a) => [a.userId, a.at]) : null).toEqual([
      ['UA', 5],
      ['UB', 20],
      ['UC', 30],
    ]);
  });

  it('shows an event Halo no longer holds as gone only when the bot alerted or deleted it', async () => {
    const { halo } = fakeHalo([]);
    const alerted = {
      channel: 'C1',
      ts: '1.1',
      eventId: 'ev-a',
      payload: JSON.stringify(event('ev-a')),
      summary: null,
    };
    const deletion: DeletionRecord = { eventId: 'ev-d', userId: 'U1', at: 5, alreadyDeleted: false };
    const { subject } = previews(halo, { messages: [{ ...alerted, acks: [] }], deletion });
    expect(await subject.preview(T1, link('ev-a'))).toEqual({
      kind: 'gone',
      account: expect.objectContaining({ id: 'env' }) as unknown,
      eventId: 'ev-a',
      event: event('ev-a'),
      deletion: null,
    });
    expect(await subject.preview(T1, link('ev-d'))).toEqual({
      kind: 'gone',
      account: expect.objectContaining({ id: 'env' }) as unknown,
      eventId: 'ev-d',
      event: null,
      deletion,
    });
    expect(await subject.preview(T1, link('ev-other'))).toBeNull();
  });
});
