import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import {
  AccountHealthRecorder,
  HEALTH_SAVE_MS,
  HealthBook,
  pollErrorCode,
} from '../../src/pipeline/fleet-health.ts';
import type { FleetAccount } from '../../src/pipeline/fleet-plan.ts';
import { HaloAuthError, HaloHttpError, HaloNetworkError } from '../../src/pipeline/halo-errors.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';
import { renderAlert, renderDigest } from '../../src/slack/blocks/index.ts';
import { renderNeedsKey } from '../../src/slack/blocks/notice-message.ts';
import { openSqliteStore } from '../stores.ts';
import { formatEventsCommand } from '../../src/domain/command-text.ts';

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
const account: FleetAccount = {
  scope: { workspace: 'T1', account: 'a1' },
  name: 'Client A',
  apiUrl: 'https://api.halosecurity.com/api/v1',
  apiKey: 'secret-key-abcd',
  keyHint: 'abcd',
  status: 'active',
};

describe('pollErrorCode: a poll failure as a short stable code', () => {
  it.each([
    [new HaloAuthError('list', 401), 'halo_unauthorized'],
    [new HaloAuthError('list', 403), 'halo_forbidden'],
    [new HaloHttpError('list', 503, null), 'halo_http_503'],
    [new HaloNetworkError('list', true, 'timeout'), 'halo_timeout'],
    [new HaloNetworkError('list', false, 'ECONNREFUSED'), 'halo_unreachable'],
    [new Error('boom'), 'internal_error'],
  ])('%s → %s', (error, code) => {
    expect(pollErrorCode(error)).toBe(code);
  });
});

describe('AccountHealthRecorder: health after each poll, and a refused key', () => {
  let store: Store;
  let saved: { scope: Scope; status: string; lastPollAt: number | null; lastError: string | null }[];
  let routed: number;
  let now: number;
  const recorder = (defaultRoute: { channel: string } | null = null): AccountHealthRecorder =>
    new AccountHealthRecorder({
      account,
      book: new HealthBook(
        {
          setAccountHealth: (scope, health) => {
            saved.push({ scope, ...health });
            return Promise.resolve();
          },
        },
        quiet,
      ),
      store,
      defaultRoute: defaultRoute === null ? null : { ...defaultRoute, keys: [], targetIds: [] },
      fix: 'connect',
      clock: { now: () => now },
      log: quiet,
      onRouted: () => routed++,
    });

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    saved = [];
    routed = 0;
    now = 1_000;
  });
  afterEach(async () => {
    await store.close();
  });

  it('records good polls and failures; a 401 turns needs_key once, with one notice to the oldest subscription’s channel', async () => {
    await store.addSubscription({
      channel: 'CSECOND',
      keys: [],
      targetIds: [],
      createdBy: 'U1',
      createdAt: 1,
    });
    await store.addSubscription({
      channel: 'CTHIRD',
      keys: [],
      targetIds: [],
      createdBy: 'U1',
      createdAt: 2,
    });
    const health = recorder();
    await health.record(null);
    now = 2_000;
    await health.record(new HaloHttpError('list', 502, null));
    now = 3_000;
    await health.record(new HaloAuthError('list', 401));
    now = 4_000;
    // Unchanged but for the time: not saved again within HEALTH_SAVE_MS (5 minutes), then saved.
    await health.record(new HaloAuthError('list', 401));
    now = 3_000 + HEALTH_SAVE_MS - 1;
    await health.record(new HaloAuthError('list', 401));
    now = 3_000 + HEALTH_SAVE_MS;
    await health.record(new HaloAuthError('list', 401));
    expect(saved).toEqual([
      { scope: account.scope, status: 'active', lastPollAt: 1_000, lastError: null },
      { scope: account.scope, status: 'active', lastPollAt: 2_000, lastError: 'halo_http_502' },
      { scope: account.scope, status: 'needs_key', lastPollAt: 3_000, lastError: 'halo_unauthorized' },
      {
        scope: account.scope,
        status: 'needs_key',
        lastPollAt: 3_000 + HEALTH_SAVE_MS,
        lastError: 'halo_unauthorized',
      },
    ]);
    expect(routed).toBe(1);
    const due = await store.dueChannels(now);
    expect(due).toEqual(['CSECOND']);
    const item = await store.nextDue('CSECOND', now);
    expect(JSON.parse(item!.payload)).toEqual({
      notice: 'needs_key',
      account: 'Client A',
      keyHint: 'abcd',
      fix: 'connect',
    });
  });

  it('sends the notice to HALO_ALERT_CHANNEL when the account has it, and none when it has no channel at all', async () => {
    await recorder({ channel: 'CALERTS' }).record(new HaloAuthError('list', 403));
    expect(await store.dueChannels(now)).toEqual(['CALERTS']);
    const other = openSqliteStore(':memory:');
    const bare = new AccountHealthRecorder({
      account,
      book: new HealthBook({ setAccountHealth: () => Promise.resolve() }, quiet),
      store: other,
      defaultRoute: null,
      fix: 'connect',
      clock: { now: () => now },
      log: quiet,
      onRouted: () => routed++,
    });
    await bare.record(new HaloAuthError('list', 401));
    expect(await other.dueChannels(now)).toEqual([]);
    await other.close();
  });
});

describe('HealthBook.view: what /halo accounts and the App Home show', () => {
  it('lays the health recorded since the listing over the listed one; never the key', async () => {
    const book = new HealthBook({ setAccountHealth: () => Promise.reject(new Error('no such row')) }, quiet);
    const env: FleetAccount = { ...account, scope: { workspace: 'env', account: 'env' }, name: 'Halo' };
    await book.record(env.scope, { status: 'needs_key', lastPollAt: 5_000, lastError: 'halo_unauthorized' });
    expect(book.view([env, { ...account, lastPollAt: 4_000, lastError: 'halo_timeout' }])).toEqual([
      {
        scope: { workspace: 'env', account: 'env' },
        name: 'Halo',
        status: 'needs_key',
        lastPollAt: 5_000,
        lastError: 'halo_unauthorized',
      },
      {
        scope: account.scope,
        name: 'Client A',
        status: 'active',
        lastPollAt: 4_000,
        lastError: 'halo_timeout',
      },
    ]);
  });

  it('shows the listed health when it is newer: the account moved to another replica, which saved its polls', async () => {
    const book = new HealthBook({ setAccountHealth: () => Promise.resolve() }, quiet);
    await book.record(account.scope, { status: 'active', lastPollAt: 5_000, lastError: 'halo_timeout' });
    const listed = { ...account, lastPollAt: 400_000, lastError: null };
    expect(book.view([listed])[0]).toMatchObject({ lastPollAt: 400_000, lastError: null });
    expect(book.view([{ ...listed, lastPollAt: 4_000 }])[0]).toMatchObject({
      lastPollAt: 5_000,
      lastError: 'halo_timeout',
    });
  });
});

describe('the account named in what it posts', () => {
  it('renders the needs-key notice with the fix', () => {
    const message = renderNeedsKey({
      notice: 'needs_key',
      account: 'Client *A*',
      keyHint: 'abcd',
      fix: 'connect',
    });
    expect(message.text).toBe('Halo refused the API key of the account Client A');
    expect((message.blocks[0] as { text: { text: string } }).text.text).toBe(
      ':warning: *Halo refused the API key of the account Client A* (the key ending in `abcd`). I now check it ' +
        'only once an hour, so new events of this account are not posted. An admin can give it a new key with ' +
        '`/halo connect` (same name, *Client A*): polling resumes where it stopped, without posting old events again.',
    );
  });

  it('adds an account line to an alert and a digest only when given one', () => {
    const event = {
      eventId: 'ev-1',
      subject: 'Scan Started',
      dateCreated: '2024-01-01 10:00',
      key: 'target-scan-start',
      url: 'https://www.halosecurity.com/link?q=user-event&id=ev-1',
      target: null,
    };
    const line = {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Halo account: *Client &lt;A&gt;*', verbatim: true }],
    };
    expect(renderAlert(event, { accountName: 'Client <A>' }).blocks[1]).toEqual(line);
    expect(renderAlert(event).blocks).not.toContainEqual(
      expect.objectContaining({ elements: line.elements }),
    );
    const digest = { total: 2, byKey: [], byTarget: [], sample: [] };
    const display = { severityOf: () => 'info' as const, timeZone: 'UTC', accountName: 'Client <A>' };
    expect(renderDigest(digest, formatEventsCommand, display).blocks[1]).toEqual(line);
  });
});
