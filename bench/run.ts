/**
 * `npm run bench`: the bot as a separate process (`node <flags> dist/main.js`, with the flags of package.json's
 * "start" script) against the local Halo and Slack stand-ins on 127.0.0.1, measured from outside. Prints one
 * table, each figure beside its target (issues 5 and 13). `--quick` leaves out the 1,000,000-event runs; `--soak`
 * adds the soak (about ten minutes; without it, its row shows the last `--soak` figures, saying when).
 * Exits non-zero only when something could not be measured; a missed target is printed as MISSED.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVENT_TYPES, makeEvents, startFakeHalo, type FakeHalo } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack, type SlackPost } from '../fakes/slack.ts';
import { DELETE_ACTION_ID } from '../src/slack/blocks/alert.ts';
import { BenchBot, benchEnv, startArgs, type PollLine } from './bot.ts';
import { SlashClient, type SlashTiming } from './slash.ts';
import { describeSocketAcks, measureSocketAcks, measureSocketAcksDuringScans } from './socket.ts';
import { lastSoak, measureSoak, saveSoak, soakRow } from './soak.ts';
import { withSchema } from './postgres.ts';
import { describeFailover, measureFailover } from './failover.ts';
import { millionRows, networkFloorMs } from './million.ts';
import { inside, scanWindows } from './windows.ts';
import { measureStartup, startupRows } from './startup.ts';
import { dialogRows, measureDialog } from './dialog.ts';
import { measureFleet, type FleetOptions } from './fleet.ts';
import { lastReplicaFigures, REPLICA_DEFAULTS, runReplicaBench, type ReplicaFigures } from './replicas.ts';

const LATENCY_MS = 20;
const PAGE = 1000;
/** The bot's default HALO_SCAN_CONCURRENCY, which the bench keeps. */
const CONCURRENCY = 4;
const floorMs = (events: number): number => networkFloorMs(events, PAGE, LATENCY_MS, CONCURRENCY);
/** The whole bench is stopped after this, whatever it is doing. */
const WATCHDOG_MS =
  ((process.argv.includes('--soak') ? 30 : 10) + 3 + (process.argv.includes('--replicas') ? 40 : 0)) * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (text: string): void => void process.stderr.write(`[bench] ${text}\n`);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: readonly number[]): number => percentile(values, 50);
const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const fmtMs = (ms: number): string => `${ms.toFixed(1)} ms`;
const fmtMb = (mb: number): string => `${mb.toFixed(0)} MB`;
const fmtN = (n: number): string => n.toLocaleString('en-US');

/** A Halo stand-in with `n` events and Halo's latency, and a Slack stand-in at 1 message/s/channel. */
async function startFakes(n: number): Promise<{ halo: FakeHalo; slack: FakeSlack; close(): Promise<void> }> {
  const halo = await startFakeHalo({ events: makeEvents(n), latencyMs: LATENCY_MS, pageCache: true });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 1000 });
  return {
    halo,
    slack,
    close: async () => {
      await Promise.all([halo.close(), slack.close()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Scan: steady-state polls, list requests per poll, memory.

interface ScanResult {
  readonly events: number;
  readonly baselineMs: number;
  readonly pollMs: number[];
  /** CPU time the bot process spent per steady-state poll (user + system, all threads). */
  readonly cpuMsPerPoll: number;
  readonly reportedRequests: number[];
  /** List requests the fake Halo received per steady-state poll, counted between first pages. */
  readonly countedRequests: number[];
  readonly rssMb: number;
  readonly hwmMb: number;
  /** The bot's own breakdown after a large poll (`poll: memory`), when it logged one. */
  readonly memory: string | undefined;
}

/** Polls after the baseline until `steady` complete ones are seen; the bot is left running. */
async function measureScan(
  bot: BenchBot,
  halo: FakeHalo,
  events: number,
  steady: number,
): Promise<ScanResult> {
  const baseline = await bot.nextPoll(0, 30_000 + events / 5); // 500k: 130 s
  if (!baseline.baseline) throw new Error('the first poll was not a baseline');
  const pid = bot.pid;
  const cpuBefore = BenchBot.cpuMs(pid);
  const polls: PollLine[] = [];
  let from = baseline.index + 1;
  for (let i = 0; i < steady; i++) {
    const poll = await bot.nextPoll(from, 20_000 + events / 10);
    polls.push(poll);
    from = poll.index + 1;
  }
  const cpuAfter = BenchBot.cpuMs(pid);
  const memory = BenchBot.memoryMb(pid);
  // Each poll's first request is the one with start=0 (one unfiltered scope): what lies between two is one poll.
  // Segment 0 is the baseline; the last steady poll has been reported, so its segment ends at the next first
  // page or at the end of the list.
  const list = halo.listRequests();
  const firsts = list.flatMap((r, i) => (r.query.get('start') === '0' ? [i] : []));
  const counted: number[] = [];
  for (let k = 1; k <= steady && k < firsts.length; k++) {
    counted.push((firsts[k + 1] ?? list.length) - firsts[k]!);
  }
  return {
    events,
    baselineMs: baseline.ms,
    pollMs: polls.map((p) => p.ms),
    cpuMsPerPoll: (cpuAfter - cpuBefore) / steady,
    reportedRequests: polls.map((p) => p.requests),
    countedRequests: counted,
    rssMb: memory.rss,
    hwmMb: memory.hwm,
    memory: bot.lines
      .findLast((l) => / poll: memory /.test(l.text))
      ?.text.match(/\b\w+Mb=[\d.]+/g)
      ?.join(' '),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// New event → Slack post.

async function measureAlertLatency(halo: FakeHalo, slack: FakeSlack, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  let lastPostAt = 0;
  for (let i = 0; i < samples; i++) {
    // The channel's 1 post/s pace must not count as detection time: start well after the previous post.
    await sleep(Math.max(0, lastPostAt + 1100 - Date.now()));
    // Phases spread over a poll interval, so that the samples cover the worst case too.
    await sleep(Math.floor(((i + Math.random()) / samples) * 1000));
    const event = halo.addEvent({ key: 'target-scan-start', target_id: 1 });
    const addedAt = Date.now();
    const post = await slack.waitFor(
      () => slack.posts.find((p) => p.channel === 'CALERTS' && eventIdOf(p) === event.event_id),
      15_000,
    );
    lastPostAt = post.at;
    latencies.push(post.at - addedAt);
  }
  return latencies;
}

function eventIdOf(post: SlackPost): string | undefined {
  for (const block of post.blocks) {
    const { type, elements } = block as { type?: unknown; elements?: unknown };
    if (type !== 'actions' || !Array.isArray(elements)) continue;
    for (const element of elements as { action_id?: unknown; value?: unknown }[]) {
      if (element.action_id === DELETE_ACTION_ID && typeof element.value === 'string') return element.value;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Slash-command acknowledgement while scans run.

interface AckResult {
  readonly inScan: number[];
  readonly all: number[];
  readonly failures: number;
}

async function measureAcks(
  bot: BenchBot,
  port: number,
  halo: FakeHalo,
  slack: FakeSlack,
  durationMs: number,
): Promise<AckResult> {
  const client = new SlashClient(port, () => slack.responseUrl());
  const timings: SlashTiming[] = [];
  let failures = 0;
  const firstLine = bot.lines.length;
  const listBefore = halo.listRequests().length;
  const until = Date.now() + durationMs;
  try {
    for (let i = 0; i < 2000 && Date.now() < until; i++) {
      try {
        const timing = await client.send('types');
        if (timing.status === 200) timings.push(timing);
        else failures++;
      } catch {
        failures++;
      }
      await sleep(15);
    }
  } finally {
    client.close();
  }
  // Let the poll in progress finish so that its window has an end.
  await bot.nextPoll(bot.lines.length, 30_000).catch(() => undefined);
  const windows = scanWindows(halo, bot, listBefore, firstLine);
  const inScan = timings.filter((t) => inside(windows, t.sentAt, t.ms)).map((t) => t.ms);
  return { inScan, all: timings.map((t) => t.ms), failures };
}

// ---------------------------------------------------------------------------------------------------------------
// 300 alerts over 10 channels.

interface BurstResult {
  readonly ms: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Posts in the burst's channels that are not one of the expected alerts in its own channel. */
  readonly stray: number;
  readonly rateLimited: number;
  readonly firstPostMs: number;
}

async function measureBurst(): Promise<BurstResult> {
  const CHANNELS = 10;
  const PER_KEY = 30;
  const fakes = await startFakes(1000);
  let bot: BenchBot | undefined;
  try {
    const started = await BenchBot.start((db) =>
      benchEnv(fakes.halo, fakes.slack, db, {
        HALO_ALERT_CHANNEL: undefined,
        HALO_ADMIN_USERS: 'UBENCH',
        HALO_DIGEST_THRESHOLD: '1000',
      }),
    );
    bot = started.bot;
    const keys = DEFAULT_EVENT_TYPES.slice(0, CHANNELS).map((t) => t.key);
    const channels = keys.map((_, i) => `CBURST${i}`);
    const client = new SlashClient(started.port, () => fakes.slack.responseUrl());
    try {
      for (let i = 0; i < CHANNELS; i++) {
        const ack = await client.send(`subscribe key:${keys[i]!}`, { channelId: channels[i]! });
        if (ack.status !== 200) throw new Error(`/halo subscribe was answered ${ack.status}`);
      }
    } finally {
      client.close();
    }
    let from = 0;
    for (let i = 0; i < CHANNELS; i++)
      from = (await bot.waitForLine(/subscription added/, from, 10_000)).index + 1;
    // The poll running meanwhile may predate the last subscription: after three more, every scope has a history.
    for (let i = 0; i < 3; i++) from = (await bot.nextPoll(from, 15_000)).index + 1;

    const expected = new Map<string, string>();
    const addedAt = Date.now();
    for (let round = 0; round < PER_KEY; round++) {
      for (let i = 0; i < CHANNELS; i++) {
        const event = fakes.halo.addEvent({ key: keys[i]!, target_id: 1 + (round % 10) });
        expected.set(event.event_id, channels[i]!);
      }
    }
    const total = expected.size;
    const delivered = (): Set<string> => {
      const ids = new Set<string>();
      for (const post of fakes.slack.posts) {
        const id = eventIdOf(post);
        if (id !== undefined && expected.get(id) === post.channel) ids.add(id);
      }
      return ids;
    };
    await fakes.slack.waitFor(() => delivered().size >= total, 90_000).catch(() => undefined);
    // Late duplicates would show within a few more polls.
    await sleep(3000);

    const firstPosts = new Map<string, SlackPost>();
    let duplicated = 0;
    let stray = 0;
    for (const post of fakes.slack.posts) {
      const id = eventIdOf(post);
      const channel = id === undefined ? undefined : expected.get(id);
      if (id === undefined || channel === undefined) {
        if (post.channel.startsWith('CBURST')) stray++;
        continue;
      }
      if (channel !== post.channel) stray++;
      else if (firstPosts.has(id)) duplicated++;
      else firstPosts.set(id, post);
    }
    const ats = [...firstPosts.values()].map((p) => p.at);
    const rateLimited = fakes.slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && c.error === 'ratelimited',
    ).length;
    return {
      ms: ats.length === 0 ? NaN : Math.max(...ats) - addedAt,
      firstPostMs: ats.length === 0 ? NaN : Math.min(...ats) - addedAt,
      delivered: firstPosts.size,
      lost: total - firstPosts.size,
      duplicated,
      stray,
      rateLimited,
    };
  } finally {
    await bot?.stop();
    await fakes.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestration.

interface SizeRun {
  readonly scan: ScanResult;
  readonly latency?: number[];
  readonly acks?: AckResult;
  /** p99 of the bench process's own event-loop delay while it served the fakes, in ms. */
  readonly benchLoopP99Ms: number;
  /** Lines the bot wrote that are Node runtime warnings (`(node:PID) …Warning: …`), not log lines. */
  readonly warnings: string[];
}

export async function runSize(
  events: number,
  options: { steady: number; latencySamples?: number; ackMs?: number; databaseUrl?: string },
): Promise<SizeRun> {
  say(`${fmtN(events)} events${options.databaseUrl ? ' (PostgreSQL)' : ''}: generating and starting the bot`);
  const fakes = await startFakes(events);
  let bot: BenchBot | undefined;
  // The fakes run in this process: if its own loop stalled, the bot's figures would carry the stall.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    const started = await BenchBot.start((db) =>
      benchEnv(fakes.halo, fakes.slack, options.databaseUrl ?? db),
    );
    bot = started.bot;
    loop.enable();
    const scan = await measureScan(bot, fakes.halo, events, options.steady);
    say(
      `${fmtN(events)} events: polls ${scan.pollMs.join(', ')} ms, ` +
        `${scan.cpuMsPerPoll.toFixed(0)} ms CPU/poll, ${fmtMb(scan.rssMb)}`,
    );
    let acks: AckResult | undefined;
    if (options.ackMs !== undefined) {
      acks = await measureAcks(bot, started.port, fakes.halo, fakes.slack, options.ackMs);
      say(`${fmtN(events)} events: ${acks.inScan.length} acknowledgements during scans`);
    }
    let latency: number[] | undefined;
    if (options.latencySamples !== undefined) {
      latency = await measureAlertLatency(fakes.halo, fakes.slack, options.latencySamples);
      say(`${fmtN(events)} events: new event → post ${latency.join(', ')} ms`);
    }
    loop.disable();
    const warnings = bot.lines.filter((l) => /Warning:/.test(l.text)).map((l) => l.text);
    return {
      scan,
      benchLoopP99Ms: loop.percentile(99) / 1e6,
      warnings,
      ...(latency ? { latency } : {}),
      ...(acks ? { acks } : {}),
    };
  } finally {
    loop.disable();
    await bot?.stop();
    await fakes.close();
  }
}

/** Runs one measurement; a failure is kept (the table shows n/a) and makes the exit code 1. */
const errors: string[] = [];
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    errors.push(`${what}: ${message}`);
    say(`could not measure ${what}: ${message}`);
    return undefined;
  }
}

function machine(): string {
  let model = 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // Not Linux: the model stays unknown.
  }
  const memGb = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus().length} cores, ${memGb} GB RAM, Node ${process.version}, ${process.platform}`;
}

interface Row {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: could not be measured. */
  readonly ok: boolean | undefined;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function growthTable(sizes: readonly ScanResult[]): string {
  const base = sizes[0]!;
  return table(
    [
      'events',
      'requests/poll',
      'baseline poll',
      'steady poll',
      'network floor',
      'per 1k events',
      'bot CPU/poll',
      'RSS',
      'RSS above smallest',
      'per 1k events',
    ],
    sizes.map((s) => {
      const ms = median(s.pollMs);
      const perK = s.events / 1000;
      return [
        fmtN(s.events),
        s.reportedRequests.join(', '),
        fmtS(s.baselineMs),
        fmtS(ms),
        `${fmtS(floorMs(s.events))} (×${(ms / floorMs(s.events)).toFixed(2)})`,
        fmtMs(ms / perK),
        fmtS(s.cpuMsPerPoll),
        fmtMb(s.rssMb),
        `+${fmtMb(Math.max(0, s.rssMb - base.rssMb))}`,
        `${((Math.max(0, s.rssMb - base.rssMb) * 1024) / perK).toFixed(0)} kB`,
      ];
    }),
  );
}

async function main(): Promise<void> {
  const began = Date.now();
  const loadBefore = loadavg();
  say(`machine: ${machine()}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  // First, while the machine is as quiet as the bench will leave it: five starts of each kind, a few seconds each.
  const startup = await attempt('the start-up (dist vs tsx)', () => measureStartup(5, say));
  const socketAcks = await attempt('the Socket Mode acknowledgements', () => {
    say('Socket Mode: 50 /halo types envelopes');
    return measureSocketAcks(50);
  });
  const big = await attempt('the 100,000-event run', () =>
    runSize(100_000, { steady: 3, ackMs: 8000, latencySamples: 8 }),
  );
  // The same 100k run on the shared store (issue 11's replicas), so that its cost is known.
  const bigPg = await attempt('the 100,000-event run on PostgreSQL', () =>
    withSchema((databaseUrl) => runSize(100_000, { steady: 3, databaseUrl })),
  );
  const burst = await attempt('the 300-alert burst', () => {
    say('300 alerts over 10 channels');
    return measureBurst();
  });
  const small = await attempt('the 1,000-event run', () =>
    runSize(1000, { steady: 3, ackMs: 3000, latencySamples: 8 }),
  );
  const medium = await attempt('the 10,000-event run', () => runSize(10_000, { steady: 3 }));
  const huge = await attempt('the 500,000-event run', () => runSize(500_000, { steady: 2 }));
  // `--quick` leaves out the slowest run (a minute or more), for a check rather than a record.
  const million = process.argv.includes('--quick')
    ? undefined
    : await attempt('the 1,000,000-event run', () => runSize(1_000_000, { steady: 2, ackMs: 8000 }));
  const socketMillion = process.argv.includes('--quick')
    ? undefined
    : await attempt('the Socket Mode acknowledgements during 1,000,000-event scans', () =>
        measureSocketAcksDuringScans(1_000_000, 8000, say),
      );
  // About ten minutes: only with --soak; otherwise the row shows the last --soak run's figures, saying so.
  const soakFresh = process.argv.includes('--soak')
    ? await attempt('the soak', () => measureSoak(1000, say))
    : undefined;
  if (soakFresh !== undefined) saveSoak(soakFresh);
  // Many accounts on one process (issue 19), on each store.
  const fleetOptions = { accounts: 100, events: 1000, workspaces: 20, seconds: 20 } as const;
  const fleets = [];
  for (const db of ['sqlite', 'postgres'] as const) {
    const options: FleetOptions = { ...fleetOptions, db };
    say(`${fleetOptions.accounts} accounts × ${fleetOptions.events} events on one process (${db})`);
    fleets.push({ options, rows: await attempt(`the fleet (${db})`, () => measureFleet(options)) });
  }
  // The accounts over 1-3 replicas (issue 20): half an hour on 2 busy cores, so only with --replicas; otherwise
  // the last figures, saying when.
  const replicasFresh = process.argv.includes('--replicas')
    ? await attempt('the replicas', () => {
        say('1,000 accounts over 1, 2 and 3 replicas on PostgreSQL');
        return runReplicaBench(REPLICA_DEFAULTS);
      })
    : undefined;
  const loadAfter = loadavg();

  const rows: Row[] = [];
  const na = (figure: string, target: string): Row => ({ figure, measured: 'n/a', target, ok: undefined });

  const expectedRequests = Math.ceil(100_000 / PAGE);
  const requestsFigure = 'list requests per poll, 100,000 events';
  const pollFigure = `one poll over 100,000 events at ${LATENCY_MS} ms/request (steady state)`;
  const memoryFigure = 'resident memory after polling 100,000 events (bot process VmRSS)';
  if (big !== undefined) {
    const { scan } = big;
    const counted = scan.countedRequests;
    const reported = scan.reportedRequests;
    rows.push({
      figure: requestsFigure,
      measured: `${counted.join(', ')} (counted by fake Halo); ${reported.join(', ')} (bot's log)`,
      target: `= ${expectedRequests}`,
      ok: counted.length > 0 && [...counted, ...reported].every((n) => n === expectedRequests),
    });
    const worst = Math.max(...scan.pollMs);
    rows.push({
      figure: pollFigure,
      measured:
        `${scan.pollMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s: max ${fmtS(worst)} ` +
        `(bot CPU ${fmtS(scan.cpuMsPerPoll)}/poll)`,
      target: '≤ 1.5 s',
      ok: worst <= 1500,
    });
    rows.push({
      figure: memoryFigure,
      measured: `${fmtMb(scan.rssMb)} (peak ${fmtMb(scan.hwmMb)})`,
      target: '≤ 200 MB',
      ok: scan.rssMb <= 200,
    });
  } else {
    rows.push(na(requestsFigure, `= ${expectedRequests}`));
    rows.push(na(pollFigure, '≤ 1.5 s'));
    rows.push(na(memoryFigure, '≤ 200 MB'));
  }

  const pgFigure = 'one poll over 100,000 events at 20 ms/request (steady state), PostgreSQL store';
  if (bigPg !== undefined) {
    const { scan } = bigPg;
    const worst = Math.max(...scan.pollMs);
    rows.push({
      figure: pgFigure,
      measured:
        `${scan.pollMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s: max ${fmtS(worst)} ` +
        `(bot CPU ${fmtS(scan.cpuMsPerPoll)}/poll, server's not counted; baseline ${fmtS(scan.baselineMs)}; ` +
        `RSS ${fmtMb(scan.rssMb)})`,
      target: '≤ 1.5 s',
      ok: worst <= 1500,
    });
  } else {
    rows.push(na(pgFigure, '≤ 1.5 s'));
  }

  const latencyRow = (label: string, run: SizeRun | undefined): Row => {
    const figure = `new event → Slack post, ${label}, poll interval 1 s`;
    const target = '≤ 1.5 s (interval + 0.5 s)';
    if (run?.latency === undefined || run.latency.length === 0) return na(figure, target);
    const max = Math.max(...run.latency);
    return {
      figure,
      measured: `${run.latency.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s: max ${fmtS(max)}`,
      target,
      ok: max <= 1500,
    };
  };
  rows.push(latencyRow('1,000 events', small));
  rows.push(latencyRow('100,000 events', big));

  const ackFigure = '`/halo types` acknowledgement during 100,000-event scans, p50 / p99';
  if (big?.acks !== undefined && big.acks.inScan.length > 0) {
    const { inScan, failures } = big.acks;
    const p50 = percentile(inScan, 50);
    const p99 = percentile(inScan, 99);
    rows.push({
      figure: ackFigure,
      measured:
        `${fmtMs(p50)} / ${fmtMs(p99)} (n=${inScan.length}, max ${fmtMs(Math.max(...inScan))}` +
        `${failures > 0 ? `, ${failures} failed` : ''})`,
      target: '≤ 10 ms / ≤ 50 ms',
      ok: p50 <= 10 && p99 <= 50 && failures === 0,
    });
  } else {
    rows.push(na(ackFigure, '≤ 10 ms / ≤ 50 ms'));
  }

  const socketFigure = 'Socket Mode: envelope → ack over the WebSocket, 50 × `/halo types`, p50 / p99 / max';
  if (socketAcks !== undefined && socketAcks.acks.length > 0) {
    const p99 = percentile(socketAcks.acks, 99);
    rows.push({
      figure: socketFigure,
      measured: describeSocketAcks(socketAcks),
      target: 'p99 ≤ 50 ms (Slack allows 3 s)',
      ok: p99 <= 50 && socketAcks.failures === 0 && socketAcks.answered === socketAcks.acks.length,
    });
  } else {
    rows.push(na(socketFigure, 'p99 ≤ 50 ms (Slack allows 3 s)'));
  }

  const burstFigure = '300 alerts over 10 channels at 1 msg/s/channel (adding → last post)';
  const burstTarget = '≤ 33 s; 0 lost, 0 duplicated';
  if (burst !== undefined) {
    rows.push({
      figure: burstFigure,
      measured:
        `${fmtS(burst.ms)}; ${burst.lost} lost, ${burst.duplicated} duplicated` +
        `${burst.stray > 0 ? `, ${burst.stray} stray` : ''} ` +
        `(first post ${fmtS(burst.firstPostMs)}, ${burst.rateLimited} × 429)`,
      target: burstTarget,
      ok: burst.ms <= 33_000 && burst.lost === 0 && burst.duplicated === 0 && burst.stray === 0,
    });
  } else {
    rows.push(na(burstFigure, burstTarget));
  }

  // Linear: 5× the events costs about 5× the time, and 5× the memory above the 1k run's.
  const runs = [small, medium, big, huge, million];
  const sizes = runs.flatMap((run) => (run === undefined ? [] : [run.scan]));
  const growthFigure = 'growth: poll time and memory, 1k / 10k / 100k / 500k (/ 1M) events';
  const growthTarget = 'close to linear: 100k → 500k ≤ 7.5× (bot CPU and RSS)';
  const s1 = small?.scan;
  const s100 = big?.scan;
  const s500 = huge?.scan;
  if (s1 !== undefined && s100 !== undefined && s500 !== undefined) {
    const time = median(s500.pollMs) / median(s100.pollMs);
    const cpu = s500.cpuMsPerPoll / s100.cpuMsPerPoll;
    const mem = (s500.rssMb - s1.rssMb) / Math.max(1, s100.rssMb - s1.rssMb);
    // Judged on the bot's own CPU time: wall time on a shared machine also carries other processes' load.
    rows.push({
      figure: growthFigure,
      measured:
        `100k → 500k (5× events): CPU/poll ×${cpu.toFixed(1)}, RSS above 1k ×${mem.toFixed(1)}, ` +
        `wall-clock poll ×${time.toFixed(1)}`,
      target: growthTarget,
      ok: cpu <= 7.5 && mem <= 7.5,
    });
  } else {
    rows.push(na(growthFigure, growthTarget));
  }
  const figures = (run: SizeRun | undefined) =>
    run === undefined ? undefined : { ...run.scan, ...(run.acks ? { acksInScan: run.acks.inScan } : {}) };
  rows.push(...millionRows(figures(big), figures(million), floorMs));

  const socketScanFigure = 'Socket Mode: envelope → ack during 1,000,000-event scans, p99';
  if (socketMillion !== undefined && socketMillion.inScan.length > 0) {
    const { inScan, failures } = socketMillion;
    const p99 = percentile(inScan, 99);
    rows.push({
      figure: socketScanFigure,
      measured:
        `${fmtMs(p99)} (p50 ${fmtMs(percentile(inScan, 50))}, n=${inScan.length}, max ` +
        `${fmtMs(Math.max(...inScan))}${failures > 0 ? `, ${failures} not acked` : ''})`,
      target: '≤ 20 ms',
      ok: p99 <= 20 && failures === 0,
    });
  } else {
    rows.push(na(socketScanFigure, '≤ 20 ms'));
  }
  rows.push(soakRow(soakFresh ?? lastSoak(), soakFresh !== undefined));
  for (const { options, rows: fleetRows } of fleets) {
    const where = `${options.accounts} accounts × ${options.events} events in ${options.workspaces} workspaces, ${options.db}`;
    rows.push(
      ...(fleetRows ?? [
        na(`${where}: bot CPU per account-poll`, '≤ ×1.2'),
        na(`${where}: RSS`, '≤ 200 MB'),
        na(`${where}: new event → post`, 'p99 ≤ 2000 ms'),
      ]),
    );
  }
  rows.push(...replicaTableRows(replicasFresh));
  rows.push(...startupRows(startup));

  const out: string[] = [''];
  out.push(`halo-slack benchmark, ${new Date().toISOString()}`);
  out.push(`machine: ${machine()}`);
  out.push(
    `load average (1/5/15 min): ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ` +
      `${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`,
  );
  out.push(
    `setup: the bot runs as \`node ${startArgs().join(' ')}\` (npm start) in a child process; ` +
      'fake Halo on 127.0.0.1, ' +
      `${LATENCY_MS} ms a request, pages of ${PAGE}; fake Slack 1 msg/s/channel (429 + Retry-After); ` +
      'HALO_POLL_INTERVAL_SECONDS=1, HALO_SCAN_CONCURRENCY default (4), a fresh temp database per bot',
  );
  out.push('');
  out.push(
    table(
      ['figure', 'measured', 'target', 'result'],
      rows.map((r) => [r.figure, r.measured, r.target, r.ok === undefined ? 'n/a' : r.ok ? 'ok' : 'MISSED']),
    ),
  );
  if (sizes.length > 0) {
    out.push('');
    out.push(
      'growth: steady poll = median of the polls after the baseline; bot CPU = user + system time of the bot ' +
        'process per steady poll; RSS = bot VmRSS after those polls',
    );
    out.push(growthTable(sizes));
  }
  out.push('');
  out.push('notes:');
  if (small?.acks !== undefined && small.acks.all.length > 0) {
    const { all } = small.acks;
    out.push(
      `  - control: \`/halo types\` acknowledgement with 1,000 events (scans of 1 page): ` +
        `p50 ${fmtMs(percentile(all, 50))}, p99 ${fmtMs(percentile(all, 99))} (n=${all.length})`,
    );
  }
  const labelled = [
    ['1k', small],
    ['10k', medium],
    ['100k', big],
    ['500k', huge],
    ['1M', million],
  ] as const;
  const loopP99 = labelled.flatMap(([label, run]) =>
    run === undefined ? [] : [`${fmtMs(run.benchLoopP99Ms)} (${label})`],
  );
  if (loopP99.length > 0) {
    out.push(`  - the bench's own event loop (it serves the fakes) p99 delay: ${loopP99.join(', ')}`);
  }
  for (const [label, run] of labelled) {
    if (run?.scan.memory !== undefined)
      out.push(`  - bot memory after the last poll, ${label}: ${run.scan.memory}`);
  }
  const warnings = new Map<string, number>();
  for (const run of runs) {
    for (const w of run?.warnings ?? []) {
      const kind = /(\w+Warning)/.exec(w)?.[1] ?? w.slice(0, 60);
      warnings.set(kind, (warnings.get(kind) ?? 0) + 1);
    }
  }
  for (const [kind, count] of warnings)
    out.push(`  - the bot printed ${count} × ${kind} on stderr while polling`);
  // The subscribe dialog (issue 21): its preview at 100,000 events, its target options with 10,000 targets.
  try {
    say('subscribe dialog: preview and target options');
    out.push('');
    out.push(...dialogRows(await measureDialog(200)));
  } catch (error) {
    errors.push(`subscribe dialog: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Two replicas on PostgreSQL (issue 11): kill -9 and SIGTERM of the leader, at a 1 s poll interval.
  try {
    say('failover: two replicas on PostgreSQL, 3 × kill -9 and 3 × SIGTERM');
    out.push('');
    out.push(describeFailover(await measureFailover(3)));
  } catch (error) {
    errors.push(`failover: ${error instanceof Error ? error.message : String(error)}`);
  }
  out.push('');
  out.push(`run time: ${fmtS(Date.now() - began)}`);
  if (errors.length > 0) {
    out.push('');
    out.push('could not measure:');
    for (const error of errors) out.push(`  - ${error.split('\n')[0]!}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (errors.length > 0) process.exitCode = 1;
}

/** The replicas' rows: this run's, or the last `--replicas` run's, saying when and on which commit. */
function replicaTableRows(fresh: ReplicaFigures | undefined): Row[] {
  const figures = fresh ?? lastReplicaFigures();
  if (figures === undefined)
    return [
      {
        figure: 'replicas (1,000 accounts, 1-3 replicas)',
        measured: 'never run (`--replicas`)',
        target: '',
        ok: undefined,
      },
    ];
  const when =
    fresh !== undefined
      ? ''
      : ` (not run now (\`--replicas\`); last run ${figures.at.slice(0, 16)}Z at ${figures.commit}, load ${figures.load})`;
  return figures.rows.map((r, i) => ({
    ...r,
    measured: `${r.measured}${i === 0 ? when : ''}`,
    ok: r.ok ?? undefined,
  }));
}

// Run as a script; bench/store.ts imports runSize only.
if (process.argv[1] === fileURLToPath(import.meta.url)) start();

function start(): void {
  const watchdog = setTimeout(() => {
    say(`the bench did not finish within ${WATCHDOG_MS / 60_000} minutes; stopping`);
    BenchBot.killAllNow();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      BenchBot.killAllNow();
      process.exit(130);
    });
  }
  process.once('exit', () => BenchBot.killAllNow());

  main()
    .catch((error: unknown) => {
      say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await BenchBot.stopAll();
      clearTimeout(watchdog);
    });
}
