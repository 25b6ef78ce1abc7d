/**
 * Where a fleet's memory goes (issue 19's RSS at 100 accounts):
 * `npx tsx bench/fleet-memory.ts [accounts...] [--db=sqlite|postgres] [--events=1000] [--workspaces=20]
 * [--settle=10] [--heap]` (default 1 and 100 accounts, SQLite). For each account count it starts the bot as
 * `npm start` does (bench/bot.ts) on accounts connected as bench/fleet.ts connects them, waits for every baseline
 * and `settle` seconds of steady polls, then prints the bot's VmRSS, its anonymous and file-backed parts
 * (/proc/<pid>/smaps_rollup), V8's heap and the external memory (`/metrics`' default Node metrics), the open
 * sockets, and the difference per account from the first count. `--heap` also takes a heap snapshot
 * (`--heapsnapshot-signal=SIGUSR2`) and prints the constructors holding most of the heap (self sizes and counts),
 * which is how the per-account and per-workspace objects were found.
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeHalo } from '../fakes/halo.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { connectAccounts, distributedEnv, type BenchDatabase } from './accounts.ts';
import { BenchBot } from './bot.ts';
import { withSchema } from './postgres.ts';

const flag = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const counts = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
const db = flag('db', 'sqlite');
const events = Number(flag('events', '1000'));
const workspaces = Number(flag('workspaces', '20'));
const settleSeconds = Number(flag('settle', '10'));
const heap = process.argv.includes('--heap');
/** For experiments: `--node=<flag>` adds a node flag to the bot's, `--env=NAME=VALUE` a variable to its environment. */
const nodeFlags = process.argv.filter((a) => a.startsWith('--node=')).map((a) => a.slice(7));
const extraEnv = Object.fromEntries(
  process.argv
    .filter((a) => a.startsWith('--env='))
    .map((a) => [a.slice(6, a.indexOf('=', 6)), a.slice(a.indexOf('=', 6) + 1)]),
);
const HEAP_DIR = '/tmp/fleet-memory-heap';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  readonly accounts: number;
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly sockets: number;
  readonly census?: Census;
}

/** A field of /proc/<pid>/smaps_rollup in MB. */
function rollup(pid: number, name: string): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match === null ? NaN : Number(match[1]) / 1024;
}

function sockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = new RegExp(`^halo_slack_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match === null ? NaN : Number(match[1]) / 1024 / 1024;
}

type Census = Map<string, { size: number; count: number }>;

/** A heap snapshot's self sizes and counts by constructor (objects, closures) or by kind (strings, code …). */
function census(path: string): Census {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const typeNames = types[0];
  const by: Census = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = typeNames[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
    const key = type === 'object' || type === 'closure' ? `${type} ${name}` : `(${type})`;
    const entry = by.get(key) ?? { size: 0, count: 0 };
    entry.size += snapshot.nodes[i + sizeAt]!;
    entry.count++;
    by.set(key, entry);
  }
  return by;
}

const totalMb = (c: Census): number => [...c.values()].reduce((a, b) => a + b.size, 0) / 1024 / 1024;

/** What grew from one census to another, per account added: bytes and count, largest first. */
function growth(from: Census, to: Census, accounts: number, top = 30): string {
  const rows = [...to.entries()].map(([key, { size, count }]) => {
    const before = from.get(key) ?? { size: 0, count: 0 };
    return { key, size: (size - before.size) / accounts, count: (count - before.count) / accounts };
  });
  return rows
    .sort((a, b) => b.size - a.size)
    .slice(0, top)
    .map(
      ({ key, size, count }) =>
        `  ${(size / 1024).toFixed(2).padStart(8)} kB ${count.toFixed(1).padStart(7)}  ${key.slice(0, 90)}`,
    )
    .join('\n');
}

const gcLines = (lines: readonly string[], kind: string): number =>
  lines.filter((t) => t.includes(`: ${kind} `)).length;
/** The pause of each `--trace-gc` line (`…, 12.3 / 0.0 ms …`), summed. */
const gcMs = (lines: readonly string[], kind: string): number =>
  Math.round(
    lines
      .filter((t) => t.includes(`: ${kind} `))
      .reduce((sum, t) => sum + Number(/, ([\d.]+) \/ [\d.]+ ms/.exec(t)?.[1] ?? 0), 0),
  );

async function measure(accounts: number, url: string | undefined): Promise<Sample> {
  const halo = await startFakeHalo({ latencyMs: 20, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 0 });
  try {
    const prepare = async (path: string): Promise<void> => {
      const where: BenchDatabase = url === undefined ? { kind: 'sqlite', path } : { kind: 'postgres', url };
      await connectAccounts(where, halo, slack, { accounts, events, workspaces });
    };
    rmSync(HEAP_DIR, { recursive: true, force: true });
    mkdirSync(HEAP_DIR, { recursive: true });
    const flags = [
      ...nodeFlags,
      ...(heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : []),
    ];
    const { bot, port } = await BenchBot.start(
      (sqlite) => distributedEnv(halo, slack, url ?? sqlite, { LOG_LEVEL: 'debug', ...extraEnv }),
      60_000,
      flags,
      prepare,
    );
    try {
      const deadline = Date.now() + 180_000;
      const baselines = (): number =>
        bot.lines.filter((l) => l.text.includes('poll: baseline recorded')).length;
      while (baselines() < accounts) {
        if (Date.now() > deadline) throw new Error(`only ${baselines()} baselines:\n${bot.output()}`);
        await sleep(200);
      }
      const settleFrom = bot.lines.length;
      const cpuFrom = BenchBot.cpuMs(bot.pid);
      await sleep(settleSeconds * 1000);
      const settled = bot.lines.slice(settleFrom).map((l) => l.text);
      const collections = settled.flatMap((t) => {
        const match = / collectedMs=(\d+) collectedCpuMs=(\d+)/.exec(t);
        return match === null ? [] : [{ ms: Number(match[1]), cpu: Number(match[2]) }];
      });
      const pollMs = settled
        .filter((t) => t.includes(' poll: done '))
        .map((t) => Number(/ ms=(\d+)/.exec(t)?.[1]))
        .sort((a, b) => a - b);
      const polls = pollMs.length;
      process.stdout.write(
        `  settle ${settleSeconds} s: ${polls} polls (p50 ${pollMs[Math.floor(polls / 2)]} ms, p99 ${pollMs[Math.floor(polls * 0.99)]} ms), bot CPU ${((BenchBot.cpuMs(bot.pid) - cpuFrom) / polls).toFixed(2)} ms a poll, ` +
          `${collections.length} forced collections of ${collections.reduce((a, b) => a + b.ms, 0)} ms ` +
          `(CPU ${collections.reduce((a, b) => a + b.cpu, 0)} ms) in all` +
          // With --node=--trace-gc: V8's own collections too.
          (nodeFlags.includes('--trace-gc')
            ? `; V8: ${gcLines(settled, 'Mark-Compact')} mark-compacts (${gcMs(settled, 'Mark-Compact')} ms), ${gcLines(settled, 'Scavenge')} scavenges (${gcMs(settled, 'Scavenge')} ms)`
            : '') +
          '\n',
      );
      const sample: Sample = {
        accounts,
        rss: BenchBot.memoryMb(bot.pid).rss,
        anon: rollup(bot.pid, 'Anonymous'),
        file: rollup(bot.pid, 'Rss') - rollup(bot.pid, 'Anonymous'),
        heapUsed: await metric(port, 'nodejs_heap_size_used_bytes'),
        heapTotal: await metric(port, 'nodejs_heap_size_total_bytes'),
        external: await metric(port, 'nodejs_external_memory_bytes'),
        sockets: sockets(bot.pid),
      };
      if (!heap) return sample;
      process.kill(bot.pid, 'SIGUSR2');
      let file: string | undefined;
      for (let i = 0; i < 120 && file === undefined; i++) {
        await sleep(1000);
        const done = readdirSync(HEAP_DIR).find((f) => f.endsWith('.heapsnapshot'));
        // Written when its size stops changing.
        if (done !== undefined) {
          const size = statSync(join(HEAP_DIR, done)).size;
          await sleep(2000);
          if (statSync(join(HEAP_DIR, done)).size === size && size > 0) file = join(HEAP_DIR, done);
        }
      }
      return file === undefined ? sample : { ...sample, census: census(file) };
    } finally {
      await bot.stop();
    }
  } finally {
    await Promise.all([halo.close(), slack.close()]);
  }
}

try {
  const samples: Sample[] = [];
  for (const accounts of counts.length > 0 ? counts : [1, 100]) {
    const sample =
      db === 'postgres'
        ? await withSchema((url) => measure(accounts, url))
        : await measure(accounts, undefined);
    samples.push(sample);
    const f = (n: number): string => n.toFixed(1);
    process.stdout.write(
      `${db} ${accounts} accounts: RSS ${f(sample.rss)} MB (anonymous ${f(sample.anon)}, file ${f(sample.file)}); ` +
        `heap used ${f(sample.heapUsed)} / total ${f(sample.heapTotal)} MB, external ${f(sample.external)} MB; ` +
        `${sample.sockets} sockets\n`,
    );
    if (sample.census !== undefined)
      process.stdout.write(`  heap snapshot (live objects only): ${totalMb(sample.census).toFixed(1)} MB\n`);
  }
  const first = samples[0]!;
  for (const s of samples.slice(1)) {
    const per = (a: number, b: number): string =>
      (((a - b) * 1024) / (s.accounts - first.accounts)).toFixed(0);
    process.stdout.write(
      `per account (${first.accounts} → ${s.accounts}): RSS ${per(s.rss, first.rss)} kB, heap used ${per(s.heapUsed, first.heapUsed)} kB, ` +
        `external ${per(s.external, first.external)} kB\n`,
    );
    if (first.census !== undefined && s.census !== undefined)
      process.stdout.write(
        `live heap per account: ${(((totalMb(s.census) - totalMb(first.census)) * 1024) / (s.accounts - first.accounts)).toFixed(1)} kB, by constructor:\n` +
          `${growth(first.census, s.census, s.accounts - first.accounts)}\n`,
      );
  }
} finally {
  await BenchBot.stopAll();
}
