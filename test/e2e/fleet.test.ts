/**
 * One process polling several Halo accounts (issue 19), in the single shape: the environment's account
 * (HALO_API_KEY) and a second one connected by calling the TenantStore directly, as `/halo connect` will.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeEvents, type FakeHaloAccount } from '../../fakes/halo.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';
import type { TenantStore } from '../../src/pipeline/tenancy-port.ts';
import {
  botEnv,
  inProcessBot,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { alert } from '../contract/store.contract.ts';
import { TEST_KEYS } from '../stores.ts';
import { until } from './workspaces.ts';

let fakes: Fakes | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await fakes?.close();
  fakes = undefined;
});

const SECOND_KEY = 'second-account-key-wxyz';

interface Setup {
  readonly fakes: Fakes;
  readonly bot: InProcessBot;
  readonly tenants: TenantStore;
  readonly second: FakeHaloAccount;
  readonly scope: Scope;
}

/** Both accounts with 3 existing events each, the second subscribed in CSECOND; both baselines recorded. */
async function setup(overrides: Record<string, string> = {}): Promise<Setup> {
  fakes = await startFakes();
  for (let i = 0; i < 3; i++) fakes.halo.addEvent({ key: 'target-scan-start' });
  const second = fakes.halo.addAccount(SECOND_KEY);
  for (let i = 0; i < 3; i++) second.addEvent({ key: 'port-open' });
  const env = botEnv(fakes, {
    HALO_ENCRYPTION_KEYS: Buffer.from(TEST_KEYS[0]!).toString('base64'),
    ...overrides,
  });
  bot = await inProcessBot(env);
  // Connected through the running bot's own store, as `/halo connect` will: the fleet starts it within an interval.
  const tenants = bot.bot.tenants;
  const { account } = await tenants.connectAccount({
    workspace: 'env',
    name: 'Second',
    apiUrl: fakes.halo.url,
    apiKey: SECOND_KEY,
    createdBy: 'UADMIN',
    createdAt: Date.now(),
  });
  const scope = { workspace: 'env', account: account.id };
  await tenants.scoped(scope).addSubscription({
    channel: 'CSECOND',
    keys: [],
    targetIds: [],
    createdBy: 'UADMIN',
    createdAt: Date.now(),
  });
  const logs = bot.logs;
  await waitFor(
    'both baselines',
    () => logs.filter((line) => line.includes('poll: baseline recorded')).length >= 2,
  );
  return { fakes, bot, tenants, second, scope };
}

/** Waits until every account has finished a poll that started after this call (`count` more polls in all). */
async function polls(bot: InProcessBot, count: number): Promise<void> {
  const done = (): number => bot.logs.filter((line) => / poll: (done|baseline)/.test(line)).length;
  const before = done();
  await waitFor(`${count} more polls`, () => done() >= before + count);
}

/** Halo refuses the second account's key; it is then given a new one through the registry. */
async function refusedKeyResumes({ fakes, second, bot, tenants, scope }: Setup): Promise<void> {
  second.apiKey = 'rotated-in-halo-0000';
  const notice = await fakes.slack.waitFor(() => fakes.slack.postsTo('CSECOND')[0]);
  expect(notice.text).toBe('Halo refused the API key of the account Second');
  expect(visibleText(notice as unknown as Record<string, unknown>)).toContain('the key ending in `wxyz`');
  const [record] = await tenants.accounts('env');
  expect(record).toMatchObject({ name: 'Second', status: 'needs_key', lastError: 'halo_unauthorized' });

  // The environment's account goes on, and the second is not asked again within the hour.
  const withOldKey = (): number =>
    fakes.halo.requests.filter((request) => request.apiKey === SECOND_KEY).length;
  const refused = withOldKey();
  const envEvent = fakes.halo.addEvent({ key: 'target-scan-start' });
  await fakes.slack.waitFor(() =>
    fakes.slack.postsTo('CALERTS').find((post) => JSON.stringify(post.blocks).includes(envEvent.event_id)),
  );
  await polls(bot, 3);
  expect(fakes.slack.postsTo('CSECOND')).toHaveLength(1);
  expect(withOldKey()).toBe(refused);

  // An event while the key was refused, then `/halo connect` with the same name and the new key.
  const missed = second.addEvent({ key: 'port-open', subject: 'While refused' });
  const { account, created } = await tenants.connectAccount({
    workspace: 'env',
    name: 'Second',
    apiUrl: fakes.halo.url,
    apiKey: 'rotated-in-halo-0000',
    createdBy: 'UADMIN',
    createdAt: Date.now(),
  });
  expect({ id: account.id, created, status: account.status }).toEqual({
    id: scope.account,
    created: false,
    status: 'active',
  });
  const resumed = await fakes.slack.waitFor(() => fakes.slack.postsTo('CSECOND')[1]);
  expect(JSON.stringify(resumed.blocks)).toContain(missed.event_id);
  await polls(bot, 4);
  // The baseline's three events were never posted: only the notice and the one missed event.
  expect(fakes.slack.postsTo('CSECOND')).toHaveLength(2);
  expect(await tenants.accounts('env')).toMatchObject([{ status: 'active', lastError: null }]);
}

/**
 * Rows that no poll of this process wrote, so that nothing kicked a delivery for them: written straight into the
 * store, as a command on another replica, a replica that died or an earlier holder leaves them. The accounts'
 * deliveries have no tick of their own: the one due sweep of the process finds them (pipeline/due-sweep.ts).
 */
async function rowsFromElsewhere({ fakes, bot, tenants, scope }: Setup): Promise<void> {
  const texts = (channel: string): string[] => fakes.slack.postsTo(channel).map((post) => post.text);
  await tenants.scoped(scope).route([alert('CSECOND', 'now')], [], Date.now());
  await tenants.scoped({ workspace: 'env', account: 'env' }).route([alert('CALERTS', 'now')], [], Date.now());
  await fakes.slack.waitFor(() => texts('CSECOND').length === 1 && texts('CALERTS').length === 1);

  // A failed post's retry, due shortly (left by a replica that died while it waited): posted once it is due.
  // Written as not due yet, so that the sweep cannot take it before it is marked as a retry.
  const second = tenants.scoped(scope);
  const due = Date.now() + 600;
  await second.route([alert('CSECOND', 'retry')], [], due);
  const [row] = await second.unattemptedAlerts('CSECOND');
  await second.markRetry(row!.id, due, 'http_503');
  await fakes.slack.waitFor(() => texts('CSECOND').length === 2);
  expect(Date.now()).toBeGreaterThanOrEqual(due);

  await polls(bot, 4);
  expect(texts('CSECOND')).toHaveLength(2);
  expect(texts('CALERTS')).toHaveLength(1);
  // The events behind these rows are not in Halo, so the polls also queue updates saying so ("no longer exists"):
  // those go out as well, and then nothing of the account is left pending.
  await until('every row of the account posted', async () => (await second.pendingCount()) === 0);
}

/**
 * One account's long poll (100,000 events: 100 pages, a slow Halo) never holds up another's: while one poll of
 * the large account is under way, the small account polls, and its new event is posted, before that poll ends.
 * Each account's requests queue on its own bound (Halo's limits are per key), inside the process's total.
 */
async function largeAccountHoldsNoneUp(): Promise<void> {
  fakes = await startFakes();
  fakes.halo.addEvent({ key: 'target-scan-start' });
  const large = fakes.halo.addAccount(SECOND_KEY, makeEvents(100_000));
  bot = await inProcessBot(
    botEnv(fakes, { HALO_ENCRYPTION_KEYS: Buffer.from(TEST_KEYS[0]!).toString('base64') }),
  );
  const running = bot;
  const { account } = await running.bot.tenants.connectAccount({
    workspace: 'env',
    name: 'Large',
    apiUrl: fakes.halo.url,
    apiKey: SECOND_KEY,
    createdBy: 'UADMIN',
    createdAt: Date.now(),
  });
  // Every event of it, so that each of its polls reads all its pages (its baseline posts none of them).
  await running.bot.tenants.scoped({ workspace: 'env', account: account.id }).addSubscription({
    channel: 'CLARGE',
    keys: [],
    targetIds: [],
    createdBy: 'UADMIN',
    createdAt: Date.now(),
  });
  const largePolls = (): number =>
    running.logs.filter((line) => / poll: (done|baseline)/.test(line) && line.includes('account=Large'))
      .length;
  await waitFor('the large account’s baseline', () => largePolls() >= 1, 60_000);
  // Slow from here: each page takes 100 ms, so a poll of the large account lasts seconds.
  fakes.halo.latencyMs = 100;
  // At the end of one of its polls, the large account's next poll begins: its first page is asked for.
  const before = largePolls();
  await waitFor('a poll of the large account ended', () => largePolls() > before, 60_000);
  const ended = largePolls();
  const asked = large.listRequests().length;
  await waitFor('its next poll under way', () => large.listRequests().length > asked, 30_000);
  const event = fakes.halo.addEvent({ key: 'target-scan-start' });
  const post = await fakes.slack.waitFor(() =>
    fakes!.slack.postsTo('CALERTS').find((p) => JSON.stringify(p.blocks).includes(event.event_id)),
  );
  expect(post).toBeDefined();
  // Posted while the large account's poll was still reading its pages.
  expect(largePolls()).toBe(ended);
  expect(large.listRequests().length).toBeLessThan(asked + 100);
  expect(fakes.slack.postsTo('CLARGE')).toEqual([]);
}

describe('several Halo accounts in one process', () => {
  it('posts each account’s new events to its own channels, naming the account, and nothing old', async () => {
    const { fakes, second, bot } = await setup();
    const mine = fakes.halo.addEvent({ key: 'target-scan-start', subject: 'Env event' });
    const theirs = second.addEvent({ key: 'port-open', subject: 'Second event' });
    const envPost = await fakes.slack.waitFor(() => fakes.slack.postsTo('CALERTS')[0]);
    const secondPost = await fakes.slack.waitFor(() => fakes.slack.postsTo('CSECOND')[0]);
    await polls(bot, 4);
    expect(fakes.slack.postsTo('CALERTS')).toHaveLength(1);
    expect(fakes.slack.postsTo('CSECOND')).toHaveLength(1);
    expect(JSON.stringify(envPost.blocks)).toContain(mine.event_id);
    expect(JSON.stringify(secondPost.blocks)).toContain(theirs.event_id);
    // The workspace has two accounts: each alert says whose it is.
    expect(visibleText(envPost as unknown as Record<string, unknown>)).toContain('Halo account: *Halo*');
    expect(visibleText(secondPost as unknown as Record<string, unknown>)).toContain('Halo account: *Second*');
    // One keep-alive agent per Halo host, shared by the accounts' clients: a connection carries both keys' calls.
    await waitFor('a connection shared by both accounts', () => {
      const keysBy = new Map<number, Set<string | undefined>>();
      for (const request of fakes.halo.requests)
        keysBy.set(request.connection, (keysBy.get(request.connection) ?? new Set()).add(request.apiKey));
      return [...keysBy.values()].some((keys) => keys.size === 2);
    });
    // Each account's key was used for its own calls only.
    expect(second.requests().every((request) => request.apiKey === SECOND_KEY)).toBe(true);
    expect(fakes.halo.requests.some((request) => request.apiKey === fakes.halo.apiKey)).toBe(true);
  });

  it('a 401 on one account: needs_key, exactly one notice, the other unaffected; a new key resumes without replaying', async () => {
    await refusedKeyResumes(await setup());
  });

  it(
    'never lets one account’s long poll hold up another account’s poll or post',
    largeAccountHoldsNoneUp,
    90_000,
  );

  it('posts rows nothing kicked (another replica’s, a dead one’s, a retry come due), once, for each account', async () => {
    await rowsFromElsewhere(await setup());
  });

  it('stops polling a disconnected account within one interval, and the other goes on', async () => {
    const { fakes, second, bot, tenants, scope } = await setup();
    await tenants.disconnectAccount(scope);
    await waitFor('the account stopped', () =>
      bot.logs.some((line) => line.includes('fleet: account removed')),
    );
    const asked = second.requests().length;
    await polls(bot, 3);
    expect(second.requests()).toHaveLength(asked);
    const envEvent = fakes.halo.addEvent({ key: 'target-scan-start' });
    const post = await fakes.slack.waitFor(() => fakes.slack.postsTo('CALERTS')[0]);
    expect(JSON.stringify(post.blocks)).toContain(envEvent.event_id);
    // One account left in the workspace: its alerts no longer name it.
    expect(visibleText(post as unknown as Record<string, unknown>)).not.toContain('Halo account:');
  });
});

describePg('several Halo accounts in one process, on PostgreSQL', () => {
  it('posts rows nothing kicked (another replica’s, a dead one’s, a retry come due), once, for each account', async () => {
    await rowsFromElsewhere(await setup({ DATABASE_URL: (await freshSchema('fleet')).url }));
  });

  it('a 401 on one account: needs_key, one notice, the other unaffected; a new key resumes without replaying', async () => {
    await refusedKeyResumes(await setup({ DATABASE_URL: (await freshSchema('fleet')).url }));
  });
});
