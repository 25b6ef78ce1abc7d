/**
 * Start-up cost of the compiled start (issue 18): `npm start` now runs `node <flags> dist/main.js`; before, it ran
 * `node <flags> --import tsx src/main.ts`, compiling the TypeScript at every start. For each, the time from
 * spawning node to `/healthz` answering, and the bot's VmRSS once it has started, polled once and sat idle. The two
 * alternate, so that both meet the same load on a shared machine. Run alone with `npx tsx bench/startup.ts [runs]`;
 * `npm run bench` includes it as two rows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeEvents, startFakeHalo, type FakeHalo } from '../fakes/halo.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack.ts';
import { BenchBot, ROOT, benchEnv, startArgs } from './bot.ts';

/**
 * `tsx` keeps what it compiled in a cache under the temporary folder; a new container or host starts without it,
 * so the tsx start is measured both ways: `tsx` (cache warm) and `tsx-cold` (`TSX_DISABLE_CACHE=1`).
 */
export type StartKind = 'dist' | 'tsx' | 'tsx-cold';
const KINDS: readonly StartKind[] = ['dist', 'tsx', 'tsx-cold'];

export interface StartRun {
  /** Spawning node → the first 200 from `/healthz`. */
  readonly healthzMs: number;
  /** VmRSS after the first poll and IDLE_MS without work. */
  readonly idleRssMb: number;
}

export type StartupResult = Record<StartKind, StartRun[]>;

/** Long enough for start-up's garbage to be collected and the heap to settle; the poll interval is 1 s. */
const IDLE_MS = 3000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on now, so that `/healthz` can be asked before the bot could say which it took. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('a listening TCP server had no port')),
      );
    });
  });
}

async function healthStatus(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url);
    if (response.status !== 200) return undefined;
    return ((await response.json()) as { status?: string }).status;
  } catch {
    // Not listening yet.
    return undefined;
  }
}

async function startOnce(kind: StartKind, halo: FakeHalo, slack: FakeSlack): Promise<StartRun> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'halo-slack-startup-'));
  const env = benchEnv(halo, slack, `sqlite:${join(dir, 'bot.db')}`, {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  const args = [...startArgs(kind === 'dist' ? 'dist' : 'tsx'), '--no-env-file'];
  const began = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, ...(kind === 'tsx-cold' ? { TSX_DISABLE_CACHE: '1' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const gone = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  try {
    const url = `http://127.0.0.1:${port}/healthz`;
    let healthzMs: number | undefined;
    const deadline = began + 30_000;
    for (;;) {
      if (exited()) throw new Error(`the bot (${kind}) exited while starting:\n${output}`);
      if (performance.now() > deadline)
        throw new Error(`the bot (${kind}) did not become ok in 30 s:\n${output}`);
      const status = await healthStatus(url);
      if (status !== undefined) healthzMs ??= performance.now() - began;
      if (status === 'ok') break;
      await sleep(healthzMs === undefined ? 5 : 100);
    }
    await sleep(IDLE_MS);
    return { healthzMs: healthzMs!, idleRssMb: BenchBot.memoryMb(child.pid!).rss };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(12_000)]);
    if (!exited()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureStartup(runs: number, say: (text: string) => void): Promise<StartupResult> {
  // A small account: start-up, not scanning, is what is measured.
  const halo = await startFakeHalo({ events: makeEvents(100) });
  const slack = await startFakeSlack({ rateLimitPerChannelMs: 0 });
  const result: StartupResult = { dist: [], tsx: [], 'tsx-cold': [] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const kind of KINDS) {
        const run = await startOnce(kind, halo, slack);
        say(
          `start-up ${i + 1}/${runs}, ${kind}: /healthz after ${run.healthzMs.toFixed(0)} ms, idle ${run.idleRssMb.toFixed(1)} MB`,
        );
        result[kind].push(run);
      }
    }
  } finally {
    await Promise.all([halo.close(), slack.close()]);
  }
  return result;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface StartupRow {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: could not be measured. */
  readonly ok: boolean | undefined;
}

const HEALTHZ_FIGURE =
  'start → /healthz answering: npm start (node dist/main.js) vs before (--import tsx src/main.ts)';
const RSS_FIGURE = `idle RSS after start (VmRSS, first poll done + ${IDLE_MS / 1000} s): dist vs tsx`;
const TARGET = 'dist ≤ tsx (medians)';

/** Two rows: the compiled start against the tsx one, each judged by its median over the runs; n/a without runs. */
export function startupRows(result: StartupResult | undefined): StartupRow[] {
  if (result === undefined) {
    return [HEALTHZ_FIGURE, RSS_FIGURE].map((figure) => ({
      figure,
      measured: 'n/a',
      target: TARGET,
      ok: undefined,
    }));
  }
  const describe = (pick: (run: StartRun) => number, unit: string, digits: number): string => {
    const one = (kind: StartKind): string => {
      const values = result[kind].map(pick);
      const fmt = (n: number): string => `${n.toFixed(digits)} ${unit}`;
      return `${kind} ${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
    };
    return `${one('dist')}; before: ${one('tsx')}, ${one('tsx-cold')}; n=${result.dist.length} each`;
  };
  const better = (pick: (run: StartRun) => number): boolean =>
    median(result.dist.map(pick)) <= median(result.tsx.map(pick));
  return [
    {
      figure: HEALTHZ_FIGURE,
      measured: describe((r) => r.healthzMs, 'ms', 0),
      target: TARGET,
      ok: better((r) => r.healthzMs),
    },
    {
      figure: RSS_FIGURE,
      measured: describe((r) => r.idleRssMb, 'MB', 1),
      target: TARGET,
      ok: better((r) => r.idleRssMb),
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? 5);
  const before = loadavg();
  const result = await measureStartup(runs, (text) => void process.stderr.write(`[bench] ${text}\n`));
  const after = loadavg();
  for (const row of startupRows(result)) {
    process.stdout.write(
      `${row.figure}\n  ${row.measured}  [${row.target}: ${row.ok === true ? 'ok' : 'MISSED'}]\n`,
    );
  }
  const fmt = (load: number[]): string => load.map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`load average (1/5/15 min): ${fmt(before)} before, ${fmt(after)} after\n`);
}
