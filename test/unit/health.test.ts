import { describe, expect, it } from 'vitest';
import type { ChatPort, PostResult } from '../../src/pipeline/chat-port.ts';
import { LAST_SUCCESS_SHARE_MS } from '../../src/domain/last-success.ts';
import { healthBody } from '../../src/pipeline/health.ts';
import { ChannelRefusals } from '../../src/pipeline/refusals.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const base = {
  lastSuccessAt: null,
  lastErrorAt: null,
  consecutiveFailures: 0,
  pending: 2,
  failed: 1,
  seen: 500,
};

describe('healthBody', () => {
  it('on a standby, allows for the 5 minutes between the holder’s shares of its last success', () => {
    const at = (role: 'leader' | 'standby', agoMs: number) =>
      healthBody(
        { ...base, lastSuccessAt: NOW - agoMs, leadership: { role, leader: 'halo-2', self: 'halo-1' } },
        NOW,
        1000,
      ).status;
    // 3 intervals plus 30 s: 33 s at a 1 s interval.
    expect(at('leader', 33_000)).toBe('ok');
    expect(at('leader', 34_000)).toBe('degraded');
    expect(at('standby', 34_000)).toBe('ok');
    expect(at('standby', 33_000 + LAST_SUCCESS_SHARE_MS)).toBe('ok');
    expect(at('standby', 34_000 + LAST_SUCCESS_SHARE_MS)).toBe('degraded');
  });

  it('says starting before the first poll', () => {
    expect(healthBody(base, NOW, 60_000)).toEqual({
      status: 'starting',
      lastPollAt: null,
      lastErrorAt: null,
      consecutiveFailures: 0,
      alertsPending: 2,
      alertsFailed: 1,
      eventsSeen: 500,
    });
  });

  it('says which account this replica polls for, how many accounts it holds and how many replicas it sees', () => {
    const shared = {
      ...base,
      lastSuccessAt: NOW - 1000,
      leadership: { role: 'standby' as const, leader: 'halo-2', self: 'halo-1' },
      sharing: { accountsHeld: 12, replicasSeen: 3 },
    };
    expect(healthBody(shared, NOW, 60_000)).toEqual({
      status: 'ok',
      lastPollAt: new Date(NOW - 1000).toISOString(),
      lastErrorAt: null,
      consecutiveFailures: 0,
      alertsPending: 2,
      alertsFailed: 1,
      eventsSeen: 500,
      role: 'standby',
      leader: 'halo-2',
      replica: 'halo-1',
      accountsHeld: 12,
      replicasSeen: 3,
    });
  });

  it('says ok after a recent poll, and degraded once it is older than three intervals and the backoff', () => {
    expect(healthBody({ ...base, lastSuccessAt: NOW - 60_000 }, NOW, 60_000)).toMatchObject({
      status: 'ok',
      lastPollAt: '2026-11-25T11:59:00.000Z',
    });
    expect(healthBody({ ...base, lastSuccessAt: NOW - 210_001 }, NOW, 60_000)).toMatchObject({
      status: 'degraded',
    });
  });

  it('says degraded when the last poll cut a scan short, with the reasons as words and never the details', () => {
    const cut = {
      ...base,
      lastSuccessAt: NOW - 1000,
      lastPoll: {
        cutShort: [
          {
            scope: 'all',
            reason: 'repeated-page' as const,
            detail: 'the page at start=1000 begins with event <!channel>',
          },
          { scope: 'key:a', reason: 'repeated-page' as const, detail: '…' },
          { scope: 'key:b', reason: 'request-cap' as const, detail: '…' },
        ],
      },
    };
    const body = healthBody(cut, NOW, 60_000);
    expect(body).toMatchObject({ status: 'degraded', scansCutShort: ['repeated-page', 'request-cap'] });
    expect(JSON.stringify(body)).not.toContain('start=1000');
    expect(healthBody({ ...cut, lastPoll: { cutShort: [] } }, NOW, 60_000)).not.toHaveProperty(
      'scansCutShort',
    );
  });

  it('says degraded while polls fail, with the time of the last error but never its text', () => {
    // The status view passes the whole poll status, error text included: the public body must not carry it.
    const failing = {
      ...base,
      lastSuccessAt: NOW - 5000,
      consecutiveFailures: 2,
      lastError: 'Halo event/list.json failed: see https://user:pass@halo.example/ (code 7)',
      lastErrorAt: NOW - 1000,
    };
    expect(healthBody(failing, NOW, 60_000)).toEqual({
      status: 'degraded',
      lastPollAt: '2026-11-25T11:59:55.000Z',
      lastErrorAt: '2026-11-25T11:59:59.000Z',
      consecutiveFailures: 2,
      alertsPending: 2,
      alertsFailed: 1,
      eventsSeen: 500,
    });
  });

  it('says degraded, without counts, when the database cannot be read', () => {
    const unreachable = {
      ...base,
      lastSuccessAt: NOW - 5000,
      pending: null,
      failed: null,
      seen: null,
      databaseReachable: false,
    };
    expect(healthBody(unreachable, NOW, 60_000)).toEqual({
      status: 'degraded',
      lastPollAt: '2026-11-25T11:59:55.000Z',
      lastErrorAt: null,
      consecutiveFailures: 0,
      alertsPending: null,
      alertsFailed: null,
      eventsSeen: null,
      database: 'unreachable',
    });
  });
});

describe('healthBody: channels refusing posts', () => {
  it('says degraded, naming each channel and the error code, while a channel refuses posts for good', () => {
    const refusing = [{ channel: 'CALERTS', error: 'not_in_channel' }];
    expect(healthBody({ ...base, lastSuccessAt: NOW - 5000, refusing }, NOW, 60_000)).toMatchObject({
      status: 'degraded',
      alertsFailed: 1,
      channelsRefusing: [{ channel: 'CALERTS', error: 'not_in_channel' }],
    });
    expect(healthBody({ ...base, lastSuccessAt: NOW - 5000, refusing: [] }, NOW, 60_000)).not.toHaveProperty(
      'channelsRefusing',
    );
  });

  it('never shows a value that is not a channel ID and an error code', () => {
    const refusing = [
      { channel: 'CALERTS', error: 'not_authed (token xoxb-1-2)' },
      { channel: '<https://x|y>', error: 'channel_not_found' },
    ];
    expect(healthBody({ ...base, lastSuccessAt: NOW - 5000, refusing }, NOW, 60_000)).toMatchObject({
      status: 'ok',
    });
  });
});

describe('ChannelRefusals', () => {
  it('keeps a channel from its post refused for good until a post there is accepted', async () => {
    const answers: PostResult[] = [
      { ok: false, kind: 'channel', error: 'not_in_channel' },
      { ok: false, kind: 'transient', error: 'http_503' },
      { ok: false, kind: 'auth', error: 'token_revoked' },
      { ok: true, ts: '1.2' },
    ];
    const chat: ChatPort<string> = {
      post: () => Promise.resolve(answers.shift()!),
      update: () => Promise.resolve({ ok: true }),
      find: () => Promise.resolve({ found: false }),
      hint: () => '',
    };
    const refusals = new ChannelRefusals();
    const watched = refusals.watch(chat);
    const post = (channel: string) => watched.post(channel, 'm', { dedupKey: 'k' });
    await post('CA');
    expect(refusals.list()).toEqual([{ channel: 'CA', error: 'not_in_channel' }]);
    // A transient failure says nothing new about the channel.
    await post('CA');
    expect(refusals.list()).toEqual([{ channel: 'CA', error: 'not_in_channel' }]);
    await post('CB');
    expect(refusals.list()).toEqual([
      { channel: 'CA', error: 'not_in_channel' },
      { channel: 'CB', error: 'token_revoked' },
    ]);
    await post('CA');
    expect(refusals.list()).toEqual([{ channel: 'CB', error: 'token_revoked' }]);
  });
});
