/**
 * Two replicas on one PostgreSQL database, nothing new in Halo: the polling replica's steady polls write no row
 * of any account's table, and the standby still shows a recent last poll (shared at the first success after the
 * holder took the account, then every LAST_SUCCESS_SHARE_MS), saying how stale it may be.
 */
import { afterEach, expect, it } from 'vitest';
import { LAST_SUCCESS_SHARE_MS } from '../../src/domain/last-success.ts';
import { TENANT_TABLES } from '../../src/store/schema.ts';
import {
  botEnv,
  getJson,
  inProcessBot,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { admin, describePg, freshSchema } from '../postgres.ts';
import { slackUser, text } from './user.ts';

/** Waits until the asynchronous `probe` says yes (the harness's waitFor takes a synchronous one). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let fakes: Fakes | undefined;
const bots: InProcessBot[] = [];

afterEach(async () => {
  for (const bot of bots.splice(0).reverse()) await bot.stop();
  await fakes?.close();
  fakes = undefined;
});

/** Counts every row written to the account tables of `schema` from now on (triggers: a rewrite counts too). */
async function countWrites(schema: string): Promise<() => Promise<Record<string, number>>> {
  await admin(`CREATE TABLE ${schema}.test_writes (tbl TEXT NOT NULL)`);
  await admin(`CREATE FUNCTION ${schema}.test_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO ${schema}.test_writes VALUES (TG_TABLE_NAME); RETURN NULL; END $$`);
  for (const table of [...TENANT_TABLES, 'halo_accounts'])
    await admin(`CREATE TRIGGER count_${table} AFTER INSERT OR UPDATE OR DELETE ON ${schema}.${table}
      FOR EACH ROW EXECUTE FUNCTION ${schema}.test_count()`);
  return async () => {
    const rows = await admin<{ tbl: string; n: number }>(
      `SELECT tbl, count(*)::int AS n FROM ${schema}.test_writes GROUP BY tbl`,
    );
    return Object.fromEntries(rows.map((row) => [row.tbl, row.n]));
  };
}

describePg('steady polls on two replicas', () => {
  it('write no row; the standby shows a last poll within the stated staleness', async () => {
    fakes = await startFakes();
    const f = fakes;
    f.halo.addEvent({ key: 'target-scan-start' });
    const { schema, url } = await freshSchema('steady');
    const env = (id: string): Record<string, string> => botEnv(f, { DATABASE_URL: url, REPLICA_ID: id });
    const leader = await inProcessBot(env('replica-a'));
    bots.push(leader);
    await waitFor('the baseline poll', () => leader.logs.some((l) => /poll: baseline recorded/.test(l)));
    const standby = await inProcessBot(env('replica-b'));
    bots.push(standby);
    const polls = (): number => leader.logs.filter((l) => / poll: done/.test(l)).length;
    await waitFor('a steady poll', () => polls() >= 2);
    // Whatever the baseline queued (the channel's "connected" notice) is posted: a steady state from here.
    const pending = async (): Promise<number> =>
      (
        await admin<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.halo_outbox WHERE state = 'pending'`,
        )
      )[0]!.n;
    await until('nothing left to post', async () => (await pending()) === 0);

    const writes = await countWrites(schema);
    const seen = polls();
    await waitFor('five more polls', () => polls() >= seen + 5, 20_000);
    expect(await writes()).toEqual({});

    const health = (await getJson(`${standby.url}/healthz`)).body;
    expect(health).toMatchObject({ role: 'standby', leader: 'replica-a', status: 'ok' });
    const lastPollAt = Date.parse(String(health.lastPollAt));
    // Shared at the leader's first success, then every LAST_SUCCESS_SHARE_MS: never older than that plus a poll.
    expect(Date.now() - lastPollAt).toBeLessThan(LAST_SUCCESS_SHARE_MS + 3000);
    const status = text(await slackUser(f, standby, 'UADMIN').slash('status', 'CALERTS'));
    expect(status).toContain('Last successful poll:');
    expect(status).toContain('learns the last successful poll from the polling replica every 5 minutes');
  }, 60_000);
});
