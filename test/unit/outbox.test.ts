import { describe, expect, it } from 'vitest';
import type { HaloEvent } from '../../src/domain/event.ts';
import { Newest } from '../../src/pipeline/newest.ts';
import { backlogDigest, outboxItems } from '../../src/pipeline/outbox.ts';
import type { OutboxItem } from '../../src/pipeline/store-port.ts';

function event(id: string, key = 'port-open', targetId = 1, dateCreated = '2026-11-01 10:00'): HaloEvent {
  return {
    eventId: id,
    subject: `Subject ${id}`,
    dateCreated,
    key,
    url: '',
    target: { name: '', id: targetId, host: 'h' },
  };
}

describe('outboxItems', () => {
  it('makes one alert per event and channel, each event once per channel whatever routes match', () => {
    const routes = [
      { channel: 'C1', keys: ['port-open'], targetIds: [] },
      { channel: 'C1', keys: [], targetIds: [1] },
      { channel: 'C2', keys: ['domain-add'], targetIds: [] },
    ];
    const items = outboxItems(routes, [event('a'), event('b', 'domain-add', 2)], 20);
    expect(items.map((i) => [i.channel, i.kind, i.dedupKey])).toEqual([
      ['C1', 'alert', 'C1:event:a'],
      ['C2', 'alert', 'C2:event:b'],
    ]);
    expect(JSON.parse(items[0]!.payload)).toEqual(event('a'));
  });

  it('makes one digest for a channel past the threshold, and alerts for the channels under it', () => {
    const routes = [
      { channel: 'CBUSY', keys: [], targetIds: [] },
      { channel: 'CQUIET', keys: ['domain-add'], targetIds: [] },
    ];
    const events = [event('a'), event('b'), event('c', 'domain-add')];
    const items = outboxItems(routes, events, 2);
    expect(items.map((i) => [i.channel, i.kind, i.dedupKey])).toEqual([
      ['CBUSY', 'digest', 'CBUSY:digest:a:3'],
      ['CQUIET', 'alert', 'CQUIET:event:c'],
    ]);
    expect(JSON.parse(items[0]!.payload)).toMatchObject({ total: 3 });
  });

  it('drops events no route wants', () => {
    expect(outboxItems([{ channel: 'C1', keys: ['x'], targetIds: [] }], [event('a')], 20)).toEqual([]);
  });
});

describe('Newest', () => {
  it('keeps the newest events by Halo date, once each, newest first', () => {
    const newest = new Newest(2);
    newest.offer(event('old', 'k', 1, '2026-01-01 10:00'));
    newest.offer(event('new', 'k', 1, '2026-03-01 10:00'));
    newest.offer(event('mid', 'k', 1, '2026-02-01 10:00'));
    newest.offer(event('new', 'k', 1, '2026-03-01 10:00'));
    expect(newest.events().map((e) => e.eventId)).toEqual(['new', 'mid']);
  });
});

describe('backlogDigest', () => {
  const row = (
    id: number,
    channel: string,
    payload: string,
    kind: 'alert' | 'digest' = 'alert',
  ): OutboxItem => ({
    id,
    channel,
    kind,
    payload,
    dedupKey: `${channel}:${id}`,
    attempts: 0,
    sentAt: null,
    createdAt: 0,
  });

  it('turns more than the threshold of a channel’s alerts into one digest of their events', () => {
    const rows = [
      row(4, 'C1', JSON.stringify(event('a'))),
      row(5, 'C1', JSON.stringify(event('b', 'domain-add', 2))),
      row(6, 'C1', JSON.stringify(event('c'))),
      row(7, 'C1', 'not an event'),
      row(8, 'C2', JSON.stringify(event('d'))),
      row(9, 'C1', '{}', 'digest'),
    ];
    expect(backlogDigest('C1', rows, 3)).toBeNull();
    const collapsed = backlogDigest('C1', rows, 2);
    expect(collapsed?.ids).toEqual([4, 5, 6]);
    expect(collapsed?.digest).toMatchObject({ channel: 'C1', kind: 'digest', dedupKey: 'C1:backlog:a:3' });
    expect(JSON.parse(collapsed!.digest.payload)).toMatchObject({
      total: 3,
      byKey: [
        { key: 'port-open', count: 2 },
        { key: 'domain-add', count: 1 },
      ],
    });
  });
});
