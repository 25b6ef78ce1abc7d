/**
 * Many Halo accounts spread over real replicas (issue 20, "Sharing"): 30 accounts (the environment's, and 29
 * connected through the TenantStore before any replica starts), replicas spawned as `npm start` runs them, on one
 * PostgreSQL schema, polling every second. Two replicas share the accounts; a third joins and gets its share
 * without a gap in any account's polls; one is killed with kill -9 and the others take its accounts; one stops
 * with SIGTERM and hands them over. Events arrive all along: each is posted exactly once, and no two replicas
 * ever poll one account at the same moment. The figures are printed; only generous bounds are asserted.
 */
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { balance } from '../../src/pipeline/shares.ts';
import { ENV_SCOPE } from '../../src/pipeline/tenancy-port.ts';
import { openPostgresTenants } from '../../src/store/postgres.ts';
import type { HaloRequest } from '../../fakes/halo.ts';
import {
  botEnv,
  FAST_DELAYS,
  getJson,
  spawnBot,
  startFakes,
  waitFor,
  type ChildBot,
  type Fakes,
} from '../harness.ts';
import { admin, describePg, freshSchema } from '../postgres.ts';
import { TEST_KEYS } from '../stores.ts';

const ACCOUNTS = 30;
const INTERVAL_MS = 1000;

let fakes: Fakes | undefined;
const children: ChildBot[] = [];

afterAll(async () => {
  for (const bot of children) bot.child.kill('SIGKILL');
  await fakes?.close();
});

interface Account {
  readonly name: string;
  readonly id: string;
  readonly channel: string;
  addEvent(partial: { event_id: string }): unknown;
  listRequests(): HaloRequest[];
}

/** The figures, printed with the test's output (`vitest run test/e2e/sharing.test.ts`). */
function report(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function held(bot: ChildBot): Promise<number> {
  return (await getJson(`${bot.url}/healthz`)).body.accountsHeld as number;
}

/** Each replica's polls, by account name, as [start, end] in ms (the environment's account is `Halo`). */
function pollsByAccount(output: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const line of output.split('\n')) {
    const match = /^(\S+) +\w+ +poll: (?:done|baseline recorded) .*\bms=(\d+)/.exec(line);
    if (match === null) continue;
    const name = /\baccount=(\S+)/.exec(line)?.[1] ?? 'Halo';
    const end = Date.parse(match[1]!);
    out.set(name, [...(out.get(name) ?? []), [end - Number(match[2]), end]]);
  }
  return out;
}

/** Polls `probe` (which may ask the replicas) until it holds. */
async function until(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The longest wait between two polls (list requests) of any account within [from, to], in ms. */
function longestGap(accounts: readonly Account[], from: number, to: number): number {
  let longest = 0;
  for (const account of accounts) {
    const times = account
      .listRequests()
      .map((request) => request.at)
      .filter((at) => at >= from && at <= to);
    const points = [from, ...times, to];
    for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  }
  return longest;
}

/** How long after `since` the last of `accounts` was polled (listed) for the first time since. */
function firstPollsAfter(accounts: readonly Account[], since: number): number | null {
  let last = 0;
  for (const account of accounts) {
    const first = account.listRequests().find((request) => request.at > since);
    if (first === undefined) return null;
    last = Math.max(last, first.at - since);
  }
  return last;
}

describePg('30 Halo accounts over several replicas on one PostgreSQL database', () => {
  it('fair shares, a new replica’s share without a gap, kill -9 and SIGTERM hand-overs; nothing lost or doubled', async () => {
    fakes = await startFakes();
    const f = fakes;
    const { schema, url } = await freshSchema('sharing');
    const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
    const tenants = await openPostgresTenants(url, quiet, TEST_KEYS);
    const accounts: Account[] = [
      {
        name: 'Halo',
        id: ENV_SCOPE.account,
        channel: 'CALERTS',
        addEvent: (partial) => f.halo.addEvent(partial),
        listRequests: () => f.halo.listRequests().filter((r) => r.apiKey === f.halo.apiKey),
      },
    ];
    for (let i = 1; i < ACCOUNTS; i++) {
      const name = `acct-${String(i).padStart(2, '0')}`;
      const halo = f.halo.addAccount(`sharing-key-${name}`);
      const { account } = await tenants.connectAccount({
        workspace: ENV_SCOPE.workspace,
        name,
        apiUrl: f.halo.url,
        apiKey: halo.apiKey,
        createdBy: 'UADMIN',
        createdAt: Date.now(),
      });
      // Three accounts' worth of channels each: accounts on different replicas post to one channel.
      const channel = `CSHARE${i % 3}`;
      await tenants.scoped({ workspace: ENV_SCOPE.workspace, account: account.id }).addSubscription({
        channel,
        keys: [],
        targetIds: [],
        createdBy: 'UADMIN',
        createdAt: Date.now(),
      });
      accounts.push({
        name,
        id: account.id,
        channel,
        addEvent: (partial) => halo.addEvent(partial),
        listRequests: () => halo.listRequests(),
      });
    }
    await tenants.close();

    const env = (id: string): Record<string, string> =>
      botEnv(f, {
        DATABASE_URL: url,
        REPLICA_ID: id,
        HALO_ENCRYPTION_KEYS: Buffer.from(TEST_KEYS[0]!).toString('base64'),
        HALO_POLL_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
        TEST_DELAYS: FAST_DELAYS.replace(/pollInterval=\d+/, `pollInterval=${INTERVAL_MS}`),
        LOG_LEVEL: 'info',
      });
    const spawn = async (id: string): Promise<ChildBot> => {
      const bot = await spawnBot(env(id));
      children.push(bot);
      return bot;
    };
    const loads = (bots: readonly ChildBot[]): Promise<number[]> => Promise.all(bots.map(held));
    const settled = async (bots: readonly ChildBot[], each: number): Promise<boolean> => {
      const now = await loads(bots);
      return now.every((load) => load === each);
    };

    // 1. Two replicas share the 30 accounts, 15 each; every account's baseline is recorded.
    const a = await spawn('replica-a');
    const b = await spawn('replica-b');
    await until('15 accounts each', () => settled([a, b], 15));
    await waitFor(
      'every account’s baseline',
      () => [a, b].flatMap((bot) => bot.output().match(/poll: baseline recorded/g) ?? []).length >= ACCOUNTS,
      20_000,
    );

    // Events all along, one account after the other.
    const created = new Map<string, Account>();
    const adding = { on: true };
    const adder = (async () => {
      for (let n = 0; adding.on; n++) {
        const account = accounts[n % ACCOUNTS]!;
        const eventId = `share-${account.name}-${String(n).padStart(4, '0')}-end`;
        account.addEvent({ event_id: eventId });
        created.set(eventId, account);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    // 2. A third replica joins: it gets its share from the others, and no account goes unpolled meanwhile.
    const c = await spawn('replica-c');
    const joined = Date.now();
    await until('10 accounts each', () => settled([a, b, c], 10));
    const joinMs = Date.now() - joined;
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    const afterJoin = await loads([a, b, c]);
    const joinGap = longestGap(accounts, joined, Date.now());
    report(
      `sharing: replica-c had its share ${joinMs} ms after it started (interval ${INTERVAL_MS} ms); loads ${afterJoin.join('/')}, balance ${balance(afterJoin).toFixed(2)}; longest wait between two polls of one account meanwhile ${joinGap} ms`,
    );
    expect(afterJoin).toEqual([10, 10, 10]);
    expect((await getJson(`${c.url}/healthz`)).body).toMatchObject({ accountsHeld: 10, replicasSeen: 3 });
    expect(balance(afterJoin)).toBeLessThanOrEqual(1.25);
    // The target is 2 intervals (0.5–1.7 s measured alone); the bounds are generous, for a machine loaded by other
    // test files (up to 10 s seen with the whole unit suite beside it on 2 cores).
    expect(joinGap).toBeLessThan(20_000);
    expect(joinMs).toBeLessThan(20_000);

    // 3. kill -9 of replica-a: the others take its accounts once its heartbeat expires.
    const ofA = new Set(
      (
        await admin<{ account_id: string }>(
          `SELECT account_id FROM ${schema}.halo_leases WHERE holder = 'replica-a'`,
        )
      ).map((row) => row.account_id),
    );
    expect(ofA.size).toBe(10);
    const orphans = accounts.filter((account) => ofA.has(account.id));
    a.child.kill('SIGKILL');
    const killed = Date.now();
    await a.exited;
    await waitFor('the orphans polled again', () => firstPollsAfter(orphans, killed) !== null, 30_000);
    const failoverMs = firstPollsAfter(orphans, killed)!;
    await until('15 accounts each', () => settled([b, c], 15));
    report(`sharing: kill -9 — every orphaned account polled again within ${failoverMs} ms`);
    expect(failoverMs).toBeLessThan(15_000);

    // 4. SIGTERM of replica-b: it hands its accounts over as it stops.
    const ofB = new Set(
      (
        await admin<{ account_id: string }>(
          `SELECT account_id FROM ${schema}.halo_leases WHERE holder = 'replica-b'`,
        )
      ).map((row) => row.account_id),
    );
    const handed = accounts.filter((account) => ofB.has(account.id));
    const termed = Date.now();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // From its exit: until then, its own last polls may still run.
    const exited = Date.now();
    await waitFor(
      'the handed-over accounts polled again',
      () => firstPollsAfter(handed, exited) !== null,
      20_000,
    );
    const handoverMs = firstPollsAfter(handed, exited)!;
    const stopMs = exited - termed;
    await until('replica-c holds all', () => settled([c], ACCOUNTS));
    report(
      `sharing: SIGTERM — replica-b stopped in ${stopMs} ms; every account it handed over polled again within ${handoverMs} ms of its exit`,
    );
    expect(handoverMs).toBeLessThan(15_000);

    // 5. Every event posted exactly once, in its account's channel.
    adding.on = false;
    await adder;
    const channels = [...new Set(accounts.map((account) => account.channel))];
    const postedIds = (): string[] =>
      channels.flatMap((channel) =>
        f.slack.postsTo(channel).flatMap((post) => {
          const text = JSON.stringify(post.blocks);
          return [...created.keys()].filter((id) => text.includes(id));
        }),
      );
    const stoppedAdding = Date.now();
    try {
      await waitFor('every event posted', () => new Set(postedIds()).size === created.size, 120_000);
    } catch (error) {
      const posted = new Set(postedIds());
      report(`sharing: not posted: ${[...created.keys()].filter((id) => !posted.has(id)).join(', ')}`);
      if (process.env.SHARING_DEBUG !== undefined) {
        report(
          JSON.stringify(
            await admin(`SELECT account_id, holder, token FROM ${schema}.halo_leases ORDER BY 1`),
          ),
        );
        report(
          JSON.stringify(
            await admin(
              `SELECT account_id, state, count(*) FROM ${schema}.halo_outbox GROUP BY 1, 2 ORDER BY 1`,
            ),
          ),
        );
        report(
          c
            .output()
            .split('\n')
            .filter((l) => /sharing:|fleet:|ERROR|WARN/.test(l))
            .slice(-60)
            .join('\n'),
        );
        for (const account of accounts.slice(0, 8))
          report(
            `${account.name}: last list ${Date.now() - (account.listRequests().at(-1)?.at ?? 0)} ms ago`,
          );
      }
      throw error;
    }
    report(`sharing: every event posted ${Date.now() - stoppedAdding} ms after the last was made`);
    const posted = postedIds();
    report(`sharing: ${created.size} events, ${posted.length} posts`);
    expect(posted.length).toBe(created.size);
    for (const [id, account] of created)
      expect(
        f.slack.postsTo(account.channel).filter((p) => JSON.stringify(p.blocks).includes(id)),
      ).toHaveLength(1);

    // Never two replicas polling one account at once.
    const polls = [a, b, c].map((bot) => pollsByAccount(bot.output()));
    for (const account of accounts) {
      const each = polls.map((byAccount) => byAccount.get(account.name) ?? []);
      for (const [i, mine] of each.entries())
        for (const theirs of each.slice(i + 1))
          for (const [start, end] of mine)
            for (const [otherStart, otherEnd] of theirs)
              expect(start > otherEnd || end < otherStart).toBe(true);
    }
    c.child.kill('SIGTERM');
  }, 240_000);
});
