/**
 * PostgreSQL work of one connected account's steady polls (issue 20: "the steady poll of an unchanged account
 * should write nothing"), without the rest of a replica (heartbeats, delivery, sweeps: bench/replicas.ts has
 * those): `npx tsx bench/pg-steady-poll.ts [--alerted] [--polls=15]`.
 *
 * A fresh schema at TEST_DATABASE_URL, one account of 1,000 events on the Halo stand-in with one subscription,
 * its poller and health recorder as the app wires them, polled every 20 s of an injected clock: after the
 * baseline, `polls` steady polls (15 by default: 5 minutes, so the last success is shared once) through a
 * counting proxy (bench/pg-count.ts: statements by kind), with every row written counted by triggers.
 * `--alerted`: one of its events was alerted first (gone tracking watches it, and every poll lists it).
 */
import PQueue from 'p-queue';
import pg from 'pg';
import { makeEvents, startFakeHalo } from '../fakes/halo.ts';
import { createHaloClient } from '../src/halo/client.ts';
import { createLogger } from '../src/log.ts';
import { AccountHealthRecorder, HealthBook } from '../src/pipeline/fleet-health.ts';
import { Poller } from '../src/pipeline/poller.ts';
import { openPostgresTenants } from '../src/store/postgres.ts';
import { startCountingProxy } from './pg-count.ts';

const BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const alerted = process.argv.includes('--alerted');
const polls = Number(process.argv.find((a) => a.startsWith('--polls='))?.slice(8) ?? 15);
const schema = `halo_bench_steady_${Date.now()}`;

async function admin(text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: BASE });
  await client.connect();
  try {
    return (await client.query<pg.QueryResultRow>(text)).rows;
  } finally {
    await client.end();
  }
}

const quiet = createLogger({ level: 'error', secrets: [], write: () => undefined });
await admin(`CREATE SCHEMA ${schema}`);
const base = new URL(BASE);
const proxy = await startCountingProxy({ host: base.hostname, port: Number(base.port || 5432) });
const url = new URL(BASE);
url.hostname = '127.0.0.1';
url.port = String(proxy.port);
url.searchParams.set('options', `-c search_path=${schema}`);
const halo = await startFakeHalo({ events: makeEvents(1000, { keys: ['domain-add', 'target-scan-start'] }) });
const tenants = await openPostgresTenants(url.toString(), quiet, [
  Buffer.from('halo-slack bench key, 32 bytes!!'),
]);
try {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const { account } = await tenants.connectAccount({
    workspace: 'T1',
    name: 'A',
    apiUrl: halo.url,
    apiKey: halo.apiKey,
    createdBy: 'U1',
    createdAt: now,
  });
  const scope = { workspace: 'T1', account: account.id };
  const store = tenants.scoped(scope);
  await store.addSubscription({
    channel: 'CSUB',
    keys: ['domain-add'],
    targetIds: [],
    minSeverity: null,
    createdBy: 'U1',
    createdAt: now,
  });
  const recorder = new AccountHealthRecorder({
    account: { scope, name: 'A', apiUrl: halo.url, apiKey: halo.apiKey, keyHint: 'abcd', status: 'active' },
    book: new HealthBook(tenants, quiet),
    store,
    defaultRoute: null,
    fix: 'connect',
    clock,
    log: quiet,
    onRouted: () => undefined,
  });
  const poller = new Poller({
    halo: createHaloClient({ apiUrl: halo.url, apiKey: halo.apiKey, timeoutMs: 5000, clock }),
    store,
    clock,
    log: quiet,
    intervalMs: 20_000,
    haloRequests: new PQueue({ concurrency: 4 }),
    pageSize: 1000,
    backfill: 0,
    digestThreshold: 20,
    defaultRoute: null,
    isCritical: () => false,
    onRouted: () => undefined,
  });
  // What the poll loop does: poll, then record the outcome.
  const poll = async (): Promise<void> => {
    await poller.pollOnce();
    await recorder.record(null);
    now += 20_000;
  };
  await poll();
  if (alerted) {
    const event = halo.events.find((e) => e.key === 'domain-add')!;
    const message = { channel: 'CSUB', ts: '1.1', eventId: event.event_id, payload: '{}', key: event.key };
    await store.recordMessage({ ...message, targetId: null }, now);
  }
  await poll();
  await poll();

  // pg_stat_user_tables is flushed late and counts other sessions' work: triggers count this schema's rows.
  await admin(`CREATE TABLE ${schema}.bench_writes (tbl TEXT NOT NULL)`);
  await admin(`CREATE FUNCTION ${schema}.bench_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO ${schema}.bench_writes VALUES (TG_TABLE_NAME); RETURN NULL; END $$`);
  const tables = await admin(
    `SELECT tablename FROM pg_tables WHERE schemaname = '${schema}' AND tablename LIKE 'halo\\_%'`,
  );
  for (const { tablename } of tables as { tablename: string }[])
    await admin(`CREATE TRIGGER bench_${tablename} AFTER INSERT OR UPDATE OR DELETE ON ${schema}.${tablename}
      FOR EACH ROW EXECUTE FUNCTION ${schema}.bench_count()`);
  proxy.take();
  for (let i = 0; i < polls; i++) await poll();
  const kinds = proxy.take();
  const written = (await admin(
    `SELECT tbl, count(*)::int AS n FROM ${schema}.bench_writes GROUP BY tbl ORDER BY tbl`,
  )) as { tbl: string; n: number }[];
  const per = (n: number): number => Number((n / polls).toFixed(3));
  const statements = [...kinds.values()].reduce((a, b) => a + b, 0);
  const rows = written.reduce((a, r) => a + r.n, 0);
  process.stdout.write(
    `${polls} steady polls${alerted ? ' (one event alerted)' : ''}: ${per(statements)} statements a poll ` +
      `(${[...kinds].map(([kind, n]) => `${kind} ${per(n)}`).join(', ')}); ${per(rows)} rows written a poll` +
      (written.length === 0 ? '' : ` (${written.map((r) => `${r.tbl} ${per(r.n)}`).join(', ')})`) +
      '\n',
  );
} finally {
  await tenants.close();
  await halo.close();
  await proxy.close();
  await admin(`DROP SCHEMA ${schema} CASCADE`);
}
