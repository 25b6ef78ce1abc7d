/**
 * Failover and hand-over times of two replicas on PostgreSQL, at the production delays and a 1 s poll interval:
 * kill -9 of the leader → the next alert posted by the other replica, and SIGTERM → the same. Each run adds one
 * new event right after the signal and times until Slack (the local stand-in) has it. Needs PostgreSQL at
 * TEST_DATABASE_URL. Run alone with `npx tsx bench/failover.ts [runs]`; `npm run bench` runs it too.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { botEnv, getJson, spawnBot, startFakes, type ChildBot, type Fakes } from '../test/harness.ts';

const DATABASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function role(bot: ChildBot): Promise<unknown> {
  try {
    return (await getJson(`${bot.url}/healthz`)).body.role;
  } catch {
    return undefined;
  }
}

async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function measureFailover(runs: number): Promise<{ killMs: number[]; termMs: number[] }> {
  const schema = `halo_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(DATABASE);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const fakes: Fakes = await startFakes();
  const bots: ChildBot[] = [];
  const spawn = async (id: string): Promise<ChildBot> => {
    const bot = await spawnBot(
      botEnv(fakes, { DATABASE_URL: url.toString(), REPLICA_ID: id, TEST_DELAYS: '', LOG_LEVEL: 'info' }),
    );
    bots.push(bot);
    return bot;
  };
  const killMs: number[] = [];
  const termMs: number[] = [];
  try {
    fakes.halo.addEvent();
    let leader = await spawn('a');
    await until(async () => (await role(leader)) === 'leader');
    let standby = await spawn('b');
    // Wait for the baseline, so that the events below are news.
    const first = fakes.halo.addEvent();
    await until(() => JSON.stringify(fakes.slack.posts).includes(first.event_id));
    const timed = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<number> => {
      const started = Date.now();
      leader.child.kill(signal);
      const event = fakes.halo.addEvent();
      await until(() => JSON.stringify(fakes.slack.posts).includes(event.event_id));
      const ms = Date.now() - started;
      await leader.exited;
      const next = standby;
      standby = await spawn(leader === bots[0] ? 'a' : `r${bots.length}`);
      leader = next;
      return ms;
    };
    for (let i = 0; i < runs; i++) {
      killMs.push(await timed('SIGKILL'));
      termMs.push(await timed('SIGTERM'));
    }
  } finally {
    for (const bot of bots) bot.child.kill('SIGKILL');
    await fakes.close();
    await admin(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
  }
  return { killMs, termMs };
}

export function describeFailover(result: { killMs: number[]; termMs: number[] }): string {
  const line = (name: string, values: number[], target: string): string => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${name.padEnd(34)} median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms over ${values.length} runs (target ${target}) [${values.join(', ')}]`;
  };
  return [
    line('failover: kill -9 → next post', result.killMs, '≤ 15 s'),
    line('hand-over: SIGTERM → next post', result.termMs, '≤ 2 s, two 1 s poll intervals'),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv[2] ?? 3);
  measureFailover(runs).then(
    (result) => {
      process.stdout.write(`${describeFailover(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
