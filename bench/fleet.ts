/**
 * Many Halo accounts on one process (issue 19):
 * `npx tsx bench/fleet.ts [accounts] [events] [workspaces] [seconds] [--db=sqlite|postgres|both]` (default 100
 * accounts of 1,000 events in 20 workspaces, 20 s measured, SQLite). Connects the accounts in the bot's database
 * before it starts (each subscribed in a channel of its own), starts the bot as `npm start` does, waits for every
 * baseline, then for `seconds` adds one event a second to a random account and measures: the bot's CPU per
 * account-poll beside a bot polling one account of as many events on the same database, its resident memory, each
 * new event's time to its post (p50, p99), and how many TCP connections to the Halo stand-in carried the steady
 * polls (one keep-alive agent per host, not per account). PostgreSQL: a fresh schema at TEST_DATABASE_URL.
 * Targets: CPU per account-poll ≤ 1.2 × the single account's, RSS ≤ 200 MB, p99 ≤ interval + 1 s.
 * `npm run bench` prints its rows (SQLite and PostgreSQL) in its table.
 */
import { fileURLToPath } from 'node:url';
import { startFakeHalo, type FakeHalo } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import {
  accountChannel,
  connectAccounts,
  distributedEnv,
  percentile,
  type BenchDatabase,
} from './accounts.ts';
import { BenchBot } from './bot.ts';
import { withSchema } from './postgres.ts';

const INTERVAL_MS = 1000;

export interface FleetOptions {
  readonly db: 'sqlite' | 'postgres';
  readonly accounts: number;
  readonly events: number;
  readonly workspaces: number;
  /** How long the steady polls are measured. */
  readonly seconds: number;
  /** Node flags for the fleet's bot (`--heapsnapshot-signal=…`). */
  readonly heap?: readonly string[];
}

/** One row of the bench's table. */
export interface FleetRow {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  readonly ok: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The steady CPU per poll of a bot, over `seconds`; polls counted from its `poll: done` lines. */
async function steadyCpu(
  bot: BenchBot,
  seconds: number,
  during: (elapsed: number) => void = () => undefined,
) {
  const cpuBefore = BenchBot.cpuMs(bot.pid);
  const pollsBefore = bot.polls().length;
  for (let s = 0; s < seconds; s++) {
    during(s);
    await sleep(1000);
  }
  const polls = bot.polls().length - pollsBefore;
  return { cpuPerPoll: (BenchBot.cpuMs(bot.pid) - cpuBefore) / polls, polls };
}

/** A bot's environment on the database `url` (PostgreSQL), or on its own temporary SQLite file. */
const envFor =
  (halo: FakeHalo, slack: FakeSlack, url: string | undefined) =>
  (sqlite: string): Record<string, string> =>
    distributedEnv(halo, slack, url ?? sqlite);

/** One account alone, connected in one workspace, on a database of its own. */
async function single(
  halo: FakeHalo,
  slack: FakeSlack,
  options: FleetOptions,
): Promise<{ cpuPerPoll: number; rss: number }> {
  const run = async (url: string | undefined) => {
    const prepare = async (path: string): Promise<void> => {
      const db: BenchDatabase = url === undefined ? { kind: 'sqlite', path } : { kind: 'postgres', url };
      await connectAccounts(db, halo, slack, { accounts: 1, events: options.events, workspaces: 1 });
    };
    const { bot } = await BenchBot.start(envFor(halo, slack, url), 30_000, [], prepare);
    try {
      await bot.nextPoll(0, 60_000);
      await bot.nextPoll(bot.lines.length, 60_000);
      const { cpuPerPoll } = await steadyCpu(bot, options.seconds);
      return { cpuPerPoll, rss: BenchBot.memoryMb(bot.pid).rss };
    } finally {
      await bot.stop();
    }
  };
  return options.db === 'postgres' ? withSchema((url) => run(url)) : run(undefined);
}

async function many(halo: FakeHalo, slack: FakeSlack, options: FleetOptions, url: string | undefined) {
  const { accounts, events, workspaces } = options;
  let fakes: Awaited<ReturnType<typeof connectAccounts>> = [];
  const prepare = async (path: string): Promise<void> => {
    const db: BenchDatabase = url === undefined ? { kind: 'sqlite', path } : { kind: 'postgres', url };
    fakes = await connectAccounts(db, halo, slack, { accounts, events, workspaces });
  };
  const { bot } = await BenchBot.start(envFor(halo, slack, url), 60_000, options.heap ?? [], prepare);
  try {
    const baselines = (): number =>
      bot.lines.filter((l) => l.text.includes('poll: baseline recorded')).length;
    const deadline = Date.now() + 180_000;
    while (baselines() < accounts) {
      if (Date.now() > deadline) throw new Error(`only ${baselines()} baselines:\n${bot.output()}`);
      await sleep(200);
    }
    const requestsBefore = halo.requests.length;
    const added: { channel: string; id: string; at: number }[] = [];
    const steady = await steadyCpu(bot, options.seconds, (s) => {
      const i = (s * 37) % accounts;
      const event = fakes[i]!.addEvent({ key: 'port-open' });
      added.push({ channel: accountChannel(i), id: event.event_id, at: Date.now() });
    });
    // Every added event's post, or the bench fails.
    const latencies = await Promise.all(
      added.map(async ({ channel, id, at }) => {
        const post = await slack
          .waitFor(() => slack.postsTo(channel).find((p) => JSON.stringify(p.blocks).includes(id)), 30_000)
          .catch((error: unknown) => {
            throw new Error(`${String(error)}\nthe bot's last lines:\n${bot.output(100000)}`);
          });
        return post.at - at;
      }),
    );
    const memory = BenchBot.memoryMb(bot.pid);
    if ((options.heap ?? []).length > 0) {
      process.kill(bot.pid, 'SIGUSR2');
      await sleep(15_000);
    }
    const connections = new Set(halo.requests.slice(requestsBefore).map((r) => r.connection)).size;
    return { steady, latencies, memory, connections };
  } finally {
    await bot.stop();
  }
}

/** The fleet's rows on one database: the many accounts, then one account alone on the same kind of database. */
export async function measureFleet(options: FleetOptions): Promise<FleetRow[]> {
  const { accounts, events, workspaces } = options;
  const halo = await startFakeHalo({ latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 0 });
  try {
    const fleet =
      options.db === 'postgres'
        ? await withSchema((url) => many(halo, slack, options, url))
        : await many(halo, slack, options, undefined);
    const one = await single(halo, slack, options);
    const { steady, latencies, memory, connections } = fleet;
    const ratio = steady.cpuPerPoll / one.cpuPerPoll;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const where = `${accounts} accounts × ${events} events in ${workspaces} workspaces, ${options.db === 'postgres' ? 'PostgreSQL' : 'SQLite'}`;
    return [
      {
        figure: `${where}: bot CPU per account-poll`,
        measured: `${steady.cpuPerPoll.toFixed(2)} ms (${steady.polls} polls in ${options.seconds} s) vs ${one.cpuPerPoll.toFixed(2)} ms for one account alone: ×${ratio.toFixed(2)}`,
        target: '≤ ×1.2',
        ok: ratio <= 1.2,
      },
      {
        figure: `${where}: RSS`,
        measured: `${memory.rss.toFixed(0)} MB (peak ${memory.hwm.toFixed(0)} MB; one account alone: ${one.rss.toFixed(0)} MB)`,
        target: '≤ 200 MB',
        ok: memory.rss <= 200,
      },
      {
        figure: `${where}: new event → post, interval 1 s`,
        measured: `p50 ${p50} ms, p99 ${p99} ms (${latencies.length} events)`,
        target: `p99 ≤ ${INTERVAL_MS + 1000} ms`,
        ok: p99 <= INTERVAL_MS + 1000,
      },
      {
        figure: `${where}: TCP connections to Halo (steady)`,
        measured: `${connections} for ${accounts} accounts`,
        // The process's bound on Halo requests in flight: HALO_SCAN_CONCURRENCY (4) × 4 (src/app-accounts.ts).
        target: '≤ 16 (the process’s Halo bound)',
        ok: connections <= 16,
      },
    ];
  } finally {
    await Promise.all([halo.close(), slack.close()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const dbArg = process.argv.find((a) => a.startsWith('--db='))?.slice(5) ?? 'sqlite';
  const dbs = dbArg === 'both' ? (['sqlite', 'postgres'] as const) : [dbArg];
  const heap = process.argv.includes('--heap')
    ? ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir=/tmp/fleet-heap']
    : [];
  try {
    for (const db of dbs) {
      if (db !== 'sqlite' && db !== 'postgres')
        throw new Error(`--db must be sqlite, postgres or both, got ${db}`);
      const rows = await measureFleet({
        db,
        accounts: Number(args[0] ?? 100),
        events: Number(args[1] ?? 1000),
        workspaces: Number(args[2] ?? 20),
        seconds: Number(args[3] ?? 20),
        heap,
      });
      process.stdout.write('\n');
      for (const { figure, measured, target, ok } of rows)
        process.stdout.write(`| ${figure} | ${measured} | ${target} | ${ok ? 'ok' : 'MISSED'} |\n`);
    }
  } finally {
    await BenchBot.stopAll();
  }
}
