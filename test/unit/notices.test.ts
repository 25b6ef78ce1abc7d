import { describe, expect, it } from 'vitest';
import { connectedItem, type ConnectedNotice } from '../../src/pipeline/notice-payloads.ts';
import { renderConnected } from '../../src/slack/blocks/notice-message.ts';

const notice = (over: Partial<ConnectedNotice>): ConnectedNotice => ({
  notice: 'connected',
  baseline: 0,
  backfill: 0,
  route: { channel: 'CALERTS', keys: [], targetIds: [] },
  ...over,
});

const section = (n: ConnectedNotice): string =>
  (renderConnected(n).blocks[0] as { text: { text: string } }).text.text;

describe('the connected message', () => {
  it('counts the baseline, says what comes next, and names the filter', () => {
    expect(section(notice({ baseline: 1 }))).toBe(
      ':white_check_mark: *Connected to Halo Security.* I recorded 1 existing Halo event as the starting point ' +
        'and will not post them. From now on I post each new event here: every event.\n' +
        'Try `/halo test` to see what an alert looks like, or `/halo events` to list recent events.',
    );
    expect(
      section(
        notice({
          baseline: 12345,
          backfill: 5,
          route: { channel: 'C1', keys: ['a', 'b'], targetIds: [7], minSeverity: 'high' },
        }),
      ),
    ).toContain(
      'I recorded 12,345 existing Halo events as the starting point and post only the 5 newest, below. ' +
        'From now on I post each new event here: key `a` or `b` and target 7, of severity high or critical.',
    );
    expect(renderConnected(notice({ baseline: 0 })).text).toBe(
      'Connected to Halo Security: 0 existing Halo events recorded as the starting point',
    );
  });

  it('is one outbox notice per channel, whatever the counts: queueing it twice is a no-op', () => {
    const route = { channel: 'CALERTS', keys: [], targetIds: [] };
    expect(connectedItem(route, 3, 0)).toEqual({
      channel: 'CALERTS',
      kind: 'notice',
      payload: JSON.stringify({ notice: 'connected', baseline: 3, backfill: 0, route }),
      dedupKey: 'CALERTS:connected',
    });
    expect(connectedItem(route, 4, 1).dedupKey).toBe(connectedItem(route, 3, 0).dedupKey);
  });
});
