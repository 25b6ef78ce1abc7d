/**
 * The Halo accounts spread over replicas (issue 20):
 * `npx tsx bench/replicas.ts [--replicas=1,2,3] [--accounts=1000] [--events=1000] [--workspaces=200]
 *  [--interval=20] [--kill-interval=10]` (`--kill-interval=0`: no kill run); `npm run bench -- --replicas` runs it
 *  too, and without `--replicas` shows the last figures (bench/replicas-last.json), saying when.
 * A Halo stand-in serves `accounts` accounts of `events` events each (20 ms a request), connected in `workspaces`
 * workspaces of a fresh PostgreSQL schema at TEST_DATABASE_URL (the distributed shape: each workspace installed
 * with a token of its own). For each number of replicas: start them as `npm start` does, each through a proxy that
 * counts its statements (bench/pg-count.ts), wait for every baseline and for the shares to settle, then
 * - a quiet window (two intervals, nothing new): CPU per account-poll and the replicas' total, statements and rows
 *   written per account-poll (rows: pg_stat_user_tables of the schema): an unchanged account should write nothing;
 * - an event window (one new event a second, to a random account): new event → post p50/p99, RSS per replica,
 *   the balance (most accounts held / fewest, from /healthz `accountsHeld`);
 * - then a run of 3 replicas at `--kill-interval` (since an account taken over first polls at its offset in
 *   the interval): kill -9 of one, time from the kill to each orphaned account's first poll elsewhere, and every
 *   event added over the run posted exactly once.
 * The single-account figure beside it: one replica polling one account of as many events at a 1 s interval.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startFakeHalo, type FakeHalo, type FakeHaloAccount } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import { accountChannel, connectAccounts, distributedEnv, percentile } from './accounts.ts';
import { BenchBot, ROOT } from './bot.ts';
import { startCountingProxy, type CountingProxy } from './pg-count.ts';
import { withSchema } from './postgres.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (text: string): void => void process.stderr.write(`[replicas] ${text}\n`);
const POLL_LINE = / poll: (done|baseline recorded) /;
const accountOf = (text: string): string | undefined => / account=(acct\d+)/.exec(text)?.[1];

export interface ReplicaRun {
  readonly replicas: number;
  readonly intervalS: number;
  readonly accounts: number;
  readonly baselineS: number;
  /** Quiet window: CPU ms per account-poll over all replicas, their total CPU in cores, account-polls. */
  readonly cpuPerPoll: number;
  readonly cores: number;
  /** The PostgreSQL backends' CPU ms per account-poll (those serving the replicas, alive over the window). */
  readonly serverCpuPerPoll: number;
  readonly polls: number;
  /** Statements per account-poll, by kind; rows written per account-poll, by table. */
  readonly statements: Map<string, number>;
  readonly rowsWritten: Map<string, number>;
  readonly latencies: number[];
  readonly rss: number[];
  readonly held: (number | undefined)[];
  readonly kill?: { orphans: number; firstPollMs: number[]; unpolled: number };
  readonly lost: number;
  readonly duplicated: number;
}

interface Replica {
  readonly bot: BenchBot;
  readonly port: number;
  readonly proxy: CountingProxy;
}

async function held(replica: Replica): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${replica.port}/healthz`);
    const body = (await res.json()) as { accountsHeld?: number };
    return body.accountsHeld;
  } catch {
    return undefined;
  }
}

/** Rows inserted, updated and deleted in the schema's tables, by table (what pg_stat_user_tables has flushed). */
async function rowsWritten(url: string): Promise<Map<string, number>> {
  const schema = new URL(url).searchParams.get('options')?.replace(/^.*search_path=/, '') ?? 'public';
  const client = new pg.Client({ connectionString: url.replace(/\?.*$/, '') });
  await client.connect();
  try {
    const { rows } = await client.query<{ relname: string; n: string }>(
      'SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables WHERE schemaname = $1',
      [schema],
    );
    return new Map(rows.map((r) => [r.relname, Number(r.n)]));
  } finally {
    await client.end();
  }
}

/** The CPU ms of each PostgreSQL backend serving the bench's replicas (application_name `halo-slack bench-N`). */
async function backendCpu(url: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: url.replace(/\?.*$/, '') });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'halo-slack bench-%'",
    );
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        out.set(pid, BenchBot.cpuMs(pid));
      } catch {
        // Gone meanwhile.
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

const delta = (after: Map<string, number>, before: Map<string, number>, per: number): Map<string, number> => {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d / per);
  }
  return out;
};

/** One run: `replicas` replicas over `accounts` accounts on a fresh schema. */
export async function measureReplicas(options: {
  replicas: number;
  accounts: number;
  events: number;
  workspaces: number;
  intervalS: number;
  kill: boolean;
  eventSeconds?: number;
}): Promise<ReplicaRun> {
  const { replicas: count, accounts, intervalS } = options;
  const halo: FakeHalo = await startFakeHalo({ latencyMs: 20, pageCache: true });
  const slack: FakeSlack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  const replicas: Replica[] = [];
  try {
    return await withSchema(async (url) => {
      say(`${count} replica(s), ${accounts} accounts, interval ${intervalS} s: connecting the accounts`);
      const fakes: FakeHaloAccount[] = await connectAccounts({ kind: 'postgres', url }, halo, slack, options);
      const target = new URL(url);
      const started = Date.now();
      await Promise.all(
        Array.from({ length: count }, async (_, k) => {
          const proxy = await startCountingProxy({
            host: target.hostname,
            port: Number(target.port || 5432),
          });
          const viaProxy = new URL(url);
          viaProxy.hostname = '127.0.0.1';
          viaProxy.port = String(proxy.port);
          const { bot, port } = await BenchBot.start(
            () =>
              distributedEnv(halo, slack, viaProxy.toString(), {
                REPLICA_ID: `bench-${k + 1}`,
                HALO_POLL_INTERVAL_SECONDS: String(intervalS),
              }),
            60_000,
          );
          replicas.push({ bot, port, proxy });
        }),
      );
      // Every account's baseline, by any replica.
      const baselined = new Set<string>();
      const deadline = Date.now() + 10 * 60_000;
      while (baselined.size < accounts) {
        if (Date.now() > deadline) throw new Error(`only ${baselined.size} baselines after 10 minutes`);
        for (const { bot } of replicas)
          for (const l of bot.lines)
            if (l.text.includes('poll: baseline recorded')) baselined.add(accountOf(l.text) ?? '');
        await sleep(1000);
      }
      const baselineS = (Date.now() - started) / 1000;
      say(`${count} replica(s): every baseline in ${baselineS.toFixed(0)} s; settling`);
      // Settled: the shares the same over two intervals (3 heartbeats at least).
      let shares = await Promise.all(replicas.map(held));
      for (let i = 0; i < 20; i++) {
        await sleep(Math.max(3000, intervalS * 1000));
        const now = await Promise.all(replicas.map(held));
        const same = now.every((n, k) => n === shares[k]);
        shares = now;
        if (same && i > 0) break;
      }

      // The quiet window: nothing new in Halo.
      const quietMs = 2 * intervalS * 1000;
      const cpuBefore = replicas.map((r) => BenchBot.cpuMs(r.bot.pid));
      const pollsBefore = replicas.map((r) => r.bot.polls().length);
      for (const r of replicas) {
        r.proxy.take();
        r.proxy.takeTexts();
      }
      const rowsBefore = await rowsWritten(url);
      const serverBefore = await backendCpu(url);
      await sleep(quietMs);
      const cpu = replicas.reduce((sum, r, k) => sum + BenchBot.cpuMs(r.bot.pid) - cpuBefore[k]!, 0);
      const serverAfter = await backendCpu(url);
      let serverCpu = 0;
      for (const [pid, ms] of serverAfter) serverCpu += ms - (serverBefore.get(pid) ?? ms);
      const polls = replicas.reduce((sum, r, k) => sum + r.bot.polls().length - pollsBefore[k]!, 0);
      const statements = new Map<string, number>();
      const texts = new Map<string, number>();
      for (const r of replicas) {
        for (const [kind, n] of r.proxy.take()) statements.set(kind, (statements.get(kind) ?? 0) + n);
        for (const [text, n] of r.proxy.takeTexts()) texts.set(text, (texts.get(text) ?? 0) + n);
      }
      for (const [text, n] of [...texts].sort((a, b) => b[1] - a[1]).slice(0, 8))
        say(`  ${(n / polls).toFixed(2)} per account-poll: ${text}`);
      // Each backend reports its table counts when idle, within 10 s (PostgreSQL 15).
      await sleep(11_000);
      const rowsAfter = await rowsWritten(url);
      say(
        `${count} replica(s): quiet window ${polls} account-polls, ${(cpu / polls).toFixed(2)} ms CPU each`,
      );

      // The event window: one new event a second.
      const added: { i: number; id: string; at: number }[] = [];
      const addFor = async (seconds: number, from: number): Promise<void> => {
        for (let s = 0; s < seconds; s++) {
          const i = ((from + s) * 7919) % accounts;
          const event = fakes[i]!.addEvent({ key: 'port-open' });
          added.push({ i, id: event.event_id, at: Date.now() });
          await sleep(1000);
        }
      };
      const eventSeconds = options.eventSeconds ?? Math.max(30, 2 * intervalS);
      await addFor(eventSeconds, 0);
      const rss = replicas.map((r) => BenchBot.memoryMb(r.bot.pid).rss);
      const heldNow = await Promise.all(replicas.map(held));

      let kill: ReplicaRun['kill'];
      if (options.kill && count > 1) {
        // The victim's accounts: those it polled in the last interval.
        // The victim: the replica that polled the most in the last interval (the leader, before per-account leases).
        const since = Date.now() - intervalS * 1000 - 1000;
        const recent = (r: Replica): number =>
          r.bot.lines.filter((l) => l.at >= since && POLL_LINE.test(l.text)).length;
        const victim = replicas.reduce((a, b) => (recent(b) > recent(a) ? b : a));
        const orphans = new Set(
          victim.bot.lines
            .filter((l) => l.at >= since && POLL_LINE.test(l.text))
            .map((l) => accountOf(l.text)),
        );
        orphans.delete(undefined);
        const killedAt = Date.now();
        process.kill(victim.bot.pid, 'SIGKILL');
        say(`${count} replicas: kill -9 of one, which polled ${orphans.size} accounts`);
        await addFor(Math.max(20, intervalS + 15), eventSeconds);
        const others = replicas.filter((r) => r !== victim);
        const firstPollMs: number[] = [];
        let unpolled = 0;
        for (const name of orphans) {
          const firsts = others.flatMap(({ bot }) => {
            const line = bot.lines.find(
              (l) => l.at >= killedAt && POLL_LINE.test(l.text) && accountOf(l.text) === name,
            );
            return line === undefined ? [] : [line.at - killedAt];
          });
          if (firsts.length === 0) unpolled++;
          else firstPollMs.push(Math.min(...firsts));
        }
        kill = { orphans: orphans.size, firstPollMs, unpolled };
      }

      // Every event added over the run: posted once, in its account's channel.
      const posted = (i: number, id: string): number => {
        const pattern = new RegExp(`${id}(?!\\d)`);
        return slack.postsTo(accountChannel(i)).filter((p) => pattern.test(JSON.stringify(p.blocks))).length;
      };
      await slack
        .waitFor(() => added.every(({ i, id }) => posted(i, id) > 0) || undefined, 60_000)
        .catch(() => undefined);
      await sleep(3000);
      const latencies: number[] = [];
      let lost = 0;
      let duplicated = 0;
      added.forEach(({ i, id, at }, index) => {
        const n = posted(i, id);
        if (n === 0) lost++;
        if (n > 1) duplicated += n - 1;
        const pattern = new RegExp(`${id}(?!\\d)`);
        const first = slack.postsTo(accountChannel(i)).find((p) => pattern.test(JSON.stringify(p.blocks)));
        // The latency is the event window's, before any kill.
        if (first !== undefined && index < eventSeconds) latencies.push(first.at - at);
      });
      return {
        replicas: count,
        intervalS,
        accounts,
        baselineS,
        cpuPerPoll: cpu / polls,
        cores: cpu / quietMs,
        serverCpuPerPoll: serverCpu / polls,
        polls,
        statements: delta(statements, new Map(), polls),
        rowsWritten: delta(rowsAfter, rowsBefore, polls),
        latencies,
        rss,
        held: heldNow,
        ...(kill === undefined ? {} : { kill }),
        lost,
        duplicated,
      };
    });
  } finally {
    await Promise.all(replicas.map((r) => r.bot.stop()));
    await Promise.all(replicas.map((r) => r.proxy.close()));
    await Promise.all([halo.close(), slack.close()]);
  }
}

/** One replica, one account, at a 1 s interval: the single-account figure, CPU ms per poll. */
export async function singleAccountCpu(events: number, seconds = 20): Promise<number> {
  const halo = await startFakeHalo({ latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  try {
    return await withSchema(async (url) => {
      const prepare = async (): Promise<void> => {
        await connectAccounts({ kind: 'postgres', url }, halo, slack, { accounts: 1, events, workspaces: 1 });
      };
      const { bot } = await BenchBot.start(() => distributedEnv(halo, slack, url), 30_000, [], prepare);
      try {
        await bot.nextPoll(0, 60_000);
        await bot.nextPoll(bot.lines.length, 60_000);
        const cpu = BenchBot.cpuMs(bot.pid);
        const polls = bot.polls().length;
        await sleep(seconds * 1000);
        return (BenchBot.cpuMs(bot.pid) - cpu) / (bot.polls().length - polls);
      } finally {
        await bot.stop();
      }
    });
  } finally {
    await Promise.all([halo.close(), slack.close()]);
  }
}

const fmtMap = (m: Map<string, number>): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ') || 'none';
const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

export interface ReplicaRow {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: not measurable on this code (no per-account leases yet). */
  readonly ok: boolean | undefined;
}

export function replicaRows(run: ReplicaRun, single: number): ReplicaRow[] {
  const where = `${run.replicas} replica${run.replicas > 1 ? 's' : ''}, ${run.accounts} accounts, interval ${run.intervalS} s`;
  const p50 = percentile(run.latencies, 50);
  const p99 = percentile(run.latencies, 99);
  const ratio = run.cpuPerPoll / single;
  const known = run.held.filter((h): h is number => h !== undefined);
  const rows: ReplicaRow[] = [
    {
      figure: `${where}: new event → post`,
      measured: `p50 ${p50} ms, p99 ${p99} ms (${run.latencies.length} events)`,
      target: `p99 ≤ ${run.intervalS * 1000 + 2000} ms`,
      ok: p99 <= run.intervalS * 1000 + 2000,
    },
    {
      figure: `${where}: CPU per account-poll (all replicas)`,
      measured:
        `${run.cpuPerPoll.toFixed(2)} ms (${run.polls} account-polls) vs ${single.toFixed(2)} ms for one account ` +
        `alone at 1 s: ×${ratio.toFixed(2)}; replicas' total ${run.cores.toFixed(3)} cores; PostgreSQL ` +
        `backends ${run.serverCpuPerPoll.toFixed(2)} ms per account-poll`,
      target: '≤ ×1.1',
      ok: ratio <= 1.1,
    },
    {
      figure: `${where}: RSS per replica`,
      measured: run.rss.map((r) => `${r.toFixed(0)} MB`).join(', '),
      target: '≤ 250 MB',
      ok: run.rss.every((r) => r <= 250),
    },
    {
      figure: `${where}: PostgreSQL work per steady account-poll (nothing new)`,
      measured:
        `${sum(run.statements).toFixed(2)} statements (${fmtMap(run.statements)}); ` +
        `${sum(run.rowsWritten).toFixed(3)} rows written (${fmtMap(run.rowsWritten)})`,
      // The replicas' own heartbeat rows (halo_replicas: one a replica a heartbeat) are not the polls'.
      target: '0 rows written (halo_replicas aside)',
      ok: sum(new Map([...run.rowsWritten].filter(([table]) => table !== 'halo_replicas'))) === 0,
    },
    {
      figure: `${where}: baselines of every account`,
      measured: `${run.baselineS.toFixed(0)} s`,
      target: '(information)',
      ok: true,
    },
  ];
  if (run.replicas > 1)
    rows.push({
      figure: `${where}: balance after settling (most / fewest accounts held)`,
      measured:
        known.length === run.held.length
          ? `${known.join(', ')}: ×${(Math.max(...known) / Math.max(1, Math.min(...known))).toFixed(2)}`
          : 'n/a: /healthz has no accountsHeld (per-account leases not merged)',
      target: '≤ ×1.25',
      ok:
        known.length === run.held.length
          ? Math.max(...known) / Math.max(1, Math.min(...known)) <= 1.25
          : undefined,
    });
  if (run.kill !== undefined) {
    const max = run.kill.firstPollMs.length === 0 ? NaN : Math.max(...run.kill.firstPollMs);
    rows.push({
      figure: `${where}: kill -9 of one: first poll of each orphaned account`,
      measured:
        `${run.kill.orphans} orphans: p50 ${percentile(run.kill.firstPollMs, 50)} ms, max ${max} ms` +
        (run.kill.unpolled > 0 ? `, ${run.kill.unpolled} never polled again` : ''),
      target: '≤ 15 s',
      ok: run.kill.unpolled === 0 && max <= 15_000,
    });
  }
  rows.push({
    figure: `${where}: events added over the run, posted`,
    measured: `${run.lost} lost, ${run.duplicated} duplicated`,
    target: '0 lost, 0 duplicated',
    ok: run.lost === 0 && run.duplicated === 0,
  });
  return rows;
}

export interface ReplicaBenchOptions {
  readonly replicas: readonly number[];
  readonly accounts: number;
  readonly events: number;
  readonly workspaces: number;
  readonly intervalS: number;
  /** The kill -9 run's interval (0: no kill run). */
  readonly killIntervalS: number;
}

export const REPLICA_DEFAULTS: ReplicaBenchOptions = {
  replicas: [1, 2, 3],
  accounts: 1000,
  events: 1000,
  workspaces: 200,
  intervalS: 20,
  killIntervalS: 10,
};

/** The last figures measured, with when, on which commit and at which load (bench/replicas-last.json). */
export interface ReplicaFigures {
  readonly at: string;
  readonly commit: string;
  readonly load: string;
  readonly options: ReplicaBenchOptions;
  readonly rows: ReplicaRow[];
}

export const REPLICAS_FILE = join(ROOT, 'bench', 'replicas-last.json');

export function lastReplicaFigures(): ReplicaFigures | undefined {
  try {
    return JSON.parse(readFileSync(REPLICAS_FILE, 'utf8')) as ReplicaFigures;
  } catch {
    return undefined;
  }
}

/** Every run of the options, then the kill run; the rows are saved for `npm run bench` to show. */
export async function runReplicaBench(options: ReplicaBenchOptions): Promise<ReplicaFigures> {
  const loadBefore = loadavg();
  const common = { accounts: options.accounts, events: options.events, workspaces: options.workspaces };
  const single = await singleAccountCpu(common.events);
  say(`one account alone: ${single.toFixed(2)} ms CPU per poll`);
  const rows: ReplicaRow[] = [];
  for (const replicas of options.replicas) {
    const run = await measureReplicas({ ...common, replicas, intervalS: options.intervalS, kill: false });
    rows.push(...replicaRows(run, single));
    say(rows.slice(-1)[0]!.measured);
  }
  if (options.killIntervalS > 0) {
    const run = await measureReplicas({
      ...common,
      replicas: 3,
      intervalS: options.killIntervalS,
      kill: true,
    });
    rows.push(...replicaRows(run, single));
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout.
  }
  const fmt = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  const figures: ReplicaFigures = {
    at: new Date().toISOString(),
    commit,
    load: `${fmt(loadBefore)} → ${fmt(loadavg())}`,
    options,
    rows,
  };
  writeFileSync(REPLICAS_FILE, `${JSON.stringify(figures, null, 2)}\n`);
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: REPLICA_DEFAULTS.replicas.join(',') },
      accounts: { type: 'string', default: String(REPLICA_DEFAULTS.accounts) },
      events: { type: 'string', default: String(REPLICA_DEFAULTS.events) },
      workspaces: { type: 'string', default: String(REPLICA_DEFAULTS.workspaces) },
      interval: { type: 'string', default: String(REPLICA_DEFAULTS.intervalS) },
      'kill-interval': { type: 'string', default: String(REPLICA_DEFAULTS.killIntervalS) },
    },
  });
  try {
    const figures = await runReplicaBench({
      replicas: values.replicas.split(',').filter(Boolean).map(Number),
      accounts: Number(values.accounts),
      events: Number(values.events),
      workspaces: Number(values.workspaces),
      intervalS: Number(values.interval),
      killIntervalS: Number(values['kill-interval']),
    });
    process.stdout.write(`\n${figures.at}, commit ${figures.commit}, load ${figures.load}\n`);
    for (const { figure, measured, target, ok } of figures.rows)
      process.stdout.write(
        `| ${figure} | ${measured} | ${target} | ${ok === undefined ? 'n/a' : ok ? 'ok' : 'MISSED'} |\n`,
      );
  } finally {
    await BenchBot.stopAll();
  }
}
