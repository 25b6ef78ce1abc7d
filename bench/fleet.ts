/**
 * Many Halo accounts on one process (issue 19):
 * `npx tsx bench/fleet.ts [accounts] [events] [workspaces] [seconds]` (default 100 accounts of 1,000 events in 20
 * workspaces, 20 s measured). Connects the accounts in the bot's database before it starts (each subscribed in a
 * channel of its own), starts the bot as `npm start` does, waits for every baseline, then for `seconds` adds one
 * event a second to a random account and measures: the bot's CPU per account-poll beside a bot polling one
 * account of as many events, its resident memory, each new event's time to its post (p50, p99), and how many
 * TCP connections to the Halo stand-in carried the steady polls (one keep-alive agent per host, not per account).
 * Targets: CPU per account-poll ≤ 1.2 × the single account's, RSS ≤ 200 MB, p99 ≤ interval + 1 s.
 */
import { makeEvents, startFakeHalo, type FakeHaloAccount } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { openSqliteTenants } from '../src/store/sqlite.ts';
import { BenchBot, benchEnv } from './bot.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const accounts = Number(args[0] ?? 100);
const events = Number(args[1] ?? 1000);
const workspaces = Number(args[2] ?? 20);
const seconds = Number(args[3] ?? 20);
const INTERVAL_MS = 1000;
const ENCRYPTION_KEY = Buffer.alloc(32, 7);

const halo = await startFakeHalo({ events: makeEvents(events), latencyMs: 20 });
const slack = await startFakeSlack({ rateLimitPerChannelMs: 0 });
const env = (extra: Record<string, string>) => (db: string) =>
  benchEnv(halo, slack, db, {
    HALO_ENCRYPTION_KEYS: ENCRYPTION_KEY.toString('base64'),
    ...extra,
  });

/** The steady CPU per poll of a bot, over `seconds`; polls counted from its `poll: done` lines. */
async function steadyCpu(bot: BenchBot, during: (elapsed: number) => void = () => undefined) {
  const cpuBefore = BenchBot.cpuMs(bot.pid);
  const pollsBefore = bot.polls().length;
  const started = Date.now();
  for (let s = 0; s < seconds; s++) {
    during(s);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const polls = bot.polls().length - pollsBefore;
  return { cpuPerPoll: (BenchBot.cpuMs(bot.pid) - cpuBefore) / polls, polls, ms: Date.now() - started };
}

async function single(): Promise<{ cpuPerPoll: number; rss: number }> {
  const { bot } = await BenchBot.start(env({}), 30_000);
  try {
    await bot.nextPoll(0, 60_000);
    await bot.nextPoll(bot.lines.length, 60_000);
    const { cpuPerPoll } = await steadyCpu(bot);
    return { cpuPerPoll, rss: BenchBot.memoryMb(bot.pid).rss };
  } finally {
    await bot.stop();
  }
}

async function fleet(): Promise<void> {
  const fakes: FakeHaloAccount[] = [];
  const prepare = async (path: string): Promise<void> => {
    const tenants = openSqliteTenants(path, [ENCRYPTION_KEY]);
    for (let i = 0; i < accounts; i++) {
      const key = `bench-account-key-${String(i).padStart(4, '0')}`;
      fakes.push(halo.addAccount(key, makeEvents(events)));
      const { account } = await tenants.connectAccount({
        workspace: `T${String(i % workspaces).padStart(2, '0')}`,
        name: `Account ${i}`,
        apiUrl: halo.url,
        apiKey: key,
        createdBy: 'UBENCH',
        createdAt: Date.now(),
      });
      await tenants.scoped({ workspace: account.workspace, account: account.id }).addSubscription({
        channel: `C${i}`,
        keys: [],
        targetIds: [],
        createdBy: 'UBENCH',
        createdAt: Date.now(),
      });
    }
    await tenants.close();
  };
  const heap = process.argv.includes('--heap')
    ? ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir=/tmp/fleet-heap']
    : [];
  const { bot } = await BenchBot.start(env({}), 60_000, heap, prepare);
  try {
    const baselines = (): number =>
      bot.lines.filter((l) => l.text.includes('poll: baseline recorded')).length;
    const deadline = Date.now() + 180_000;
    while (baselines() < accounts + 1) {
      if (Date.now() > deadline) throw new Error(`only ${baselines()} baselines:\n${bot.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const requestsBefore = halo.requests.length;
    const added: { channel: string; id: string; at: number }[] = [];
    const steady = await steadyCpu(bot, (s) => {
      const i = (s * 37) % accounts;
      const event = fakes[i]!.addEvent({ key: 'port-open' });
      added.push({ channel: `C${i}`, id: event.event_id, at: Date.now() });
    });
    // Every added event's post, or the bench fails.
    const latencies = await Promise.all(
      added.map(async ({ channel, id, at }) => {
        const post = await slack.waitFor(
          () => slack.postsTo(channel).find((p) => JSON.stringify(p.blocks).includes(id)),
          30_000,
        );
        return post.at - at;
      }),
    );
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number =>
      latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
    const { rss, hwm } = BenchBot.memoryMb(bot.pid);
    if (heap.length > 0) {
      process.kill(bot.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 15_000));
    }
    const connections = new Set(halo.requests.slice(requestsBefore).map((r) => r.connection)).size;
    const one = await single();
    const ratio = steady.cpuPerPoll / one.cpuPerPoll;
    const rows: [string, string, string, boolean][] = [
      [
        'CPU per account-poll',
        `${steady.cpuPerPoll.toFixed(2)} ms (${steady.polls} polls) vs ${one.cpuPerPoll.toFixed(2)} ms alone: ×${ratio.toFixed(2)}`,
        '≤ ×1.2',
        ratio <= 1.2,
      ],
      [
        'RSS',
        `${rss.toFixed(0)} MB (peak ${hwm.toFixed(0)} MB; one account alone: ${one.rss.toFixed(0)} MB)`,
        '≤ 200 MB',
        rss <= 200,
      ],
      [
        'new event → post',
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms (${latencies.length} events)`,
        `p99 ≤ ${INTERVAL_MS + 1000} ms`,
        pct(99) <= INTERVAL_MS + 1000,
      ],
      [
        'TCP connections to Halo (steady)',
        `${connections} for ${accounts + 1} accounts`,
        // The process's bound on Halo requests in flight: HALO_SCAN_CONCURRENCY (4) × 4 (src/app-accounts.ts).
        '≤ 16 (the process’s Halo bound), whatever the number of accounts',
        connections <= 16,
      ],
    ];
    process.stdout.write(
      `\n${accounts} accounts × ${events} events in ${workspaces} workspaces, ${seconds} s steady\n`,
    );
    for (const [figure, measured, target, ok] of rows)
      process.stdout.write(`| ${figure} | ${measured} | ${target} | ${ok ? 'pass' : 'FAIL'} |\n`);
  } finally {
    await bot.stop();
  }
}

try {
  await fleet();
} finally {
  await BenchBot.stopAll();
  await Promise.all([halo.close(), slack.close()]);
}
