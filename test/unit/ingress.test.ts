import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withIngressHealth } from '../../src/slack/ingress.ts';
import { SOCKET_TIMINGS } from '../../src/slack/socket.ts';

describe('withIngressHealth', () => {
  it('adds the way in and marks the bot degraded while commands cannot arrive', () => {
    const body = { status: 'ok', alertsPending: 0 };
    expect(withIngressHealth(body, { degraded: false, fields: { slackMode: 'http' } })).toEqual({
      status: 'ok',
      alertsPending: 0,
      slackMode: 'http',
    });
    expect(
      withIngressHealth(body, {
        degraded: true,
        fields: { slackMode: 'socket', socket: 'disconnected', socketFailures: 3 },
      }),
    ).toEqual({
      status: 'degraded',
      alertsPending: 0,
      slackMode: 'socket',
      socket: 'disconnected',
      socketFailures: 3,
    });
    expect(
      withIngressHealth({ status: 'starting' }, { degraded: false, fields: { socket: 'connecting' } }),
    ).toEqual({ status: 'starting', socket: 'connecting' });
  });
});

describe('SOCKET_TIMINGS', () => {
  it('are the values docs/operations.md states, and Bolt’s own ping defaults', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8').replace(
      /\s+/g,
      ' ',
    );
    const stated = /it retries after (\d+) s, doubling up to (\d+) s/.exec(doc);
    expect(stated).not.toBeNull();
    expect(SOCKET_TIMINGS).toEqual({
      clientPingTimeoutMs: 5000,
      serverPingTimeoutMs: 30_000,
      firstConnectMs: 10_000,
      retryMinMs: Number(stated![1]) * 1000,
      retryMaxMs: Number(stated![2]) * 1000,
    });
  });
});
