/**
 * Clock skew between replicas (issue 20): two in-process replicas share 6 accounts on one PostgreSQL schema, one
 * of them with its clock 30 s ahead (the injectable clock). A lease's expiry is decided by the database's clock,
 * so the skewed replica never takes an account whose holder is alive: the shares settle and stay put, no account
 * is polled by both at once, and every event is posted exactly once, through a hand-over too.
 */
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { ENV_SCOPE } from '../../src/pipeline/tenancy-port.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import {
  botEnv,
  FAST_DELAYS,
  getJson,
  inProcessBot,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { describePg, freshSchema } from '../postgres.ts';
import { TEST_KEYS } from '../stores.ts';

const ACCOUNTS = 6;
const SKEW_MS = 30_000;

let fakes: Fakes | undefined;
const bots: InProcessBot[] = [];

afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.stop();
  await fakes?.close();
  fakes = undefined;
});

async function held(bot: InProcessBot): Promise<number> {
  return (await getJson(`${bot.url}/healthz`)).body.accountsHeld as number;
}

/** Each poll of `bot`, by account name, as [start, end] in ms (log times are the real clock's). */
function pollsByAccount(logs: readonly string[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const line of logs) {
    const match = /^(\S+) +\w+ +poll: (?:done|baseline recorded) .*\bms=(\d+)/.exec(line);
    if (match === null) continue;
    const name = /\baccount=(\S+)/.exec(line)?.[1] ?? 'Halo';
    const end = Date.parse(match[1]!);
    out.set(name, [...(out.get(name) ?? []), [end - Number(match[2]), end]]);
  }
  return out;
}

describePg('a replica whose clock is 30 s ahead', () => {
  it('never takes a live replica’s accounts: shares settle and stay, polls never overlap, nothing lost or doubled', async () => {
    fakes = await startFakes();
    const f = fakes;
    const { url } = await freshSchema('skew');
    const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
    const tenants = await openPostgresTenants(url, quiet, TEST_KEYS);
    const accounts: { name: string; channel: string; addEvent(p: { event_id: string }): unknown }[] = [
      { name: 'Halo', channel: 'CALERTS', addEvent: (partial) => f.halo.addEvent(partial) },
    ];
    for (let i = 1; i < ACCOUNTS; i++) {
      const name = `skew-${i}`;
      const halo = f.halo.addAccount(`skew-key-${i}`);
      const { account } = await tenants.connectAccount({
        workspace: ENV_SCOPE.workspace,
        name,
        apiUrl: f.halo.url,
        apiKey: halo.apiKey,
        createdBy: 'UADMIN',
        createdAt: Date.now(),
      });
      await tenants.scoped({ workspace: ENV_SCOPE.workspace, account: account.id }).addSubscription({
        channel: 'CSKEW',
        keys: [],
        targetIds: [],
        createdBy: 'UADMIN',
        createdAt: Date.now(),
      });
      accounts.push({ name, channel: 'CSKEW', addEvent: (partial) => halo.addEvent(partial) });
    }
    await tenants.close();

    const env = (id: string): Record<string, string> =>
      botEnv(f, {
        DATABASE_URL: url,
        REPLICA_ID: id,
        HALO_ENCRYPTION_KEYS: Buffer.from(TEST_KEYS[0]!).toString('base64'),
        TEST_DELAYS: FAST_DELAYS.replace(/pollInterval=\d+/, 'pollInterval=500'),
        LOG_LEVEL: 'info',
      });
    const onTime = await inProcessBot(env('on-time'));
    bots.push(onTime);
    const ahead = await inProcessBot(env('ahead'), { clock: { now: () => Date.now() + SKEW_MS } });
    bots.push(ahead);
    const shares = async (): Promise<number[]> => [await held(onTime), await held(ahead)];
    const deadline = Date.now() + 30_000;
    while ((await shares()).join() !== '3,3') {
      if (Date.now() > deadline) throw new Error(`the shares did not settle: ${(await shares()).join('/')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(
      'every account’s baseline',
      () =>
        [...onTime.logs, ...ahead.logs].filter((line) => line.includes('poll: baseline recorded')).length >=
        ACCOUNTS,
    );

    // Events while the shares stay put: sampled every 100 ms for 4 s. A replica deciding expiry by its own clock
    // would see the other's heartbeat expired at once, and take every account, again and again; this one moves
    // none (unless on a machine so loaded that a heartbeat is 5 s late: hence "most samples", not all).
    const created = new Map<string, string>();
    const samples: string[] = [];
    for (let n = 0; n < 40; n++) {
      const account = accounts[n % ACCOUNTS]!;
      const id = `skew-event-${String(n).padStart(3, '0')}-end`;
      account.addEvent({ event_id: id });
      created.set(id, account.channel);
      samples.push((await shares()).join('/'));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(samples.filter((sample) => sample === '3/3').length).toBeGreaterThan(samples.length / 2);
    expect(samples.filter((sample) => sample === '0/6')).toEqual([]);

    // The on-time replica stops (SIGTERM's path): the skewed one takes its accounts, and later events too.
    await onTime.stop();
    bots.splice(bots.indexOf(onTime), 1);
    const deadline2 = Date.now() + 20_000;
    while ((await held(ahead)) !== ACCOUNTS) {
      if (Date.now() > deadline2) throw new Error('the skewed replica did not take the accounts over');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const [n, account] of accounts.entries()) {
      const id = `skew-after-${n}-end`;
      account.addEvent({ event_id: id });
      created.set(id, account.channel);
    }
    const postsOf = (id: string): number =>
      f.slack.postsTo(created.get(id)!).filter((post) => JSON.stringify(post.blocks).includes(id)).length;
    await waitFor('every event posted', () => [...created.keys()].every((id) => postsOf(id) > 0), 60_000);
    for (const id of created.keys()) expect(postsOf(id)).toBe(1);

    const [mine, theirs] = [pollsByAccount(onTime.logs), pollsByAccount(ahead.logs)];
    for (const { name } of accounts)
      for (const [start, end] of mine.get(name) ?? [])
        for (const [otherStart, otherEnd] of theirs.get(name) ?? [])
          expect(start > otherEnd || end < otherStart).toBe(true);
    // Both replicas polled, each its own share.
    expect(mine.size).toBeGreaterThan(0);
    expect(theirs.size).toBeGreaterThan(0);
  }, 90_000);
});
