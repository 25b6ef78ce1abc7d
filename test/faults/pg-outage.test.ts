// PostgreSQL unreachable for a while (the server stopped), then back, under two replicas (issue 20, "The
// database's own faults", 3): alerts found before the outage are still posted, once; `/healthz` of every replica
// answers throughout and says the database is unreachable; no replica exits.
//
// The outage lasts PG_OUTAGE_SECONDS (default 20, to keep the test near a minute); PG_OUTAGE_SECONDS=120 runs
// the 2 minutes:  PG_OUTAGE_SECONDS=120 npx vitest run test/faults/pg-outage.test.ts
import { expect, it } from 'vitest';
import { delay, waitFor } from '../harness.ts';
import { describePgServer, pgServerForFile } from '../pg-server.ts';
import {
  expectAlive,
  expectHelpAnswered,
  healthOf,
  seconds,
  settle,
  startReplicas,
  waitPosted,
} from './pg-replicas.ts';
import {
  ALERTS,
  alertEventId,
  countAlerts,
  countsRow,
  expectCounts,
  record,
  scenarioPerTest,
  to,
} from './scenario.ts';

const OUTAGE_MS = Number(process.env.PG_OUTAGE_SECONDS ?? '20') * 1000;
if (!(OUTAGE_MS > 0)) throw new Error(`PG_OUTAGE_SECONDS must be a number of seconds > 0`);
/** How often `/healthz` of each replica is read during the outage. */
const SAMPLE_EVERY_MS = 500;

const server = pgServerForFile();
const scenario = scenarioPerTest();

interface Sample {
  readonly at: number;
  readonly replica: number;
  readonly body: Record<string, unknown> | string;
}

describePgServer('PostgreSQL unreachable, then back', { timeout: OUTAGE_MS + 90_000 }, () => {
  it(`stopped for PG_OUTAGE_SECONDS: alerts found before are posted once, /healthz says why, no replica exits`, async (context) => {
    const s = scenario.current;
    const pg = server.current;
    const { slack } = await s.start();
    const proxy = await s.proxy();
    const replicas = await startReplicas(s, pg.url, () => ({ SLACK_API_URL: proxy.apiUrl }));
    const { bots, add } = replicas;
    await waitPosted(s, [add()]);

    // Two alerts found by one poll (made at once). Slack posts the first, but its answer is held until the
    // database is gone, so the bot cannot record it; the second waits in the outbox behind it.
    let held = false;
    proxy.hold = ({ method, channel }) => {
      if (method !== 'chat.postMessage' || channel !== ALERTS || held) return undefined;
      held = true;
      return 'forever';
    };
    const before = [add(), add()];
    await waitFor('the first alert posted, its answer held', () => proxy.holding() === 1);

    await pg.stop();
    const downAt = Date.now();
    proxy.release();
    const samples: Sample[] = [];
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        const bodies = await Promise.all(bots.map(healthOf));
        samples.push(...bodies.map((body, replica) => ({ at: Date.now(), replica, body })));
        await delay(SAMPLE_EVERY_MS);
      }
    })();
    const during = add();
    await delay(OUTAGE_MS / 2);
    await Promise.all(bots.map((bot) => expectHelpAnswered(s, bot)));
    expectAlive(bots);
    await delay(downAt + OUTAGE_MS - Date.now());
    sampling.on = false;
    await sampler;
    // The held one excepted, which Slack had posted before.
    const postedWhileDown = slack.posts.filter((p) => alertEventId(p) !== undefined && p.at > downAt);

    await pg.start();
    const backAt = Date.now();
    const after = add();
    const resumed = (await waitPosted(s, [...before, during, after], 60_000)) - backAt;
    await settle(s, bots);
    expectAlive(bots);
    const healthyAgain = await Promise.all(bots.map(healthOf));

    // What a monitor saw: every read answered; once the replicas noticed, each said the database is unreachable.
    const unanswered = samples.filter((x) => typeof x.body === 'string');
    const saidUnreachable = (replica: number): Sample[] =>
      samples.filter(
        (x) => x.replica === replica && typeof x.body === 'object' && x.body.database === 'unreachable',
      );
    const lastOf = (replica: number): Sample | undefined =>
      samples.filter((x) => x.replica === replica).at(-1);
    const counts = countAlerts(slack.posts, to(ALERTS, ...replicas.created));
    process.stdout.write(
      `pg-outage: ${seconds(OUTAGE_MS)} down; /healthz read ${samples.length} times, ${unanswered.length} unanswered, ` +
        `"database: unreachable" in ${bots.map((_, i) => saidUnreachable(i).length).join(' and ')} reads of ` +
        `${bots.map((_, i) => samples.filter((x) => x.replica === i).length).join(' and ')}; ` +
        `every alert posted ${seconds(resumed)} after the server was back\n`,
    );
    record(context, {
      area: 'Database',
      fault: `PostgreSQL unreachable (stopped) for ${seconds(OUTAGE_MS)}, then back`,
      behaviour:
        `/healthz answered every read with database: unreachable, /halo help answered, no replica exited; ` +
        `the post in flight not repeated; alerts found before and during the outage posted ${seconds(resumed)} after the server was back`,
      ...countsRow(counts),
    });
    expect(unanswered, '/healthz reads that got no answer').toEqual([]);
    for (const [replica] of bots.entries()) {
      expect(
        saidUnreachable(replica).length,
        `replica ${replica + 1} said the database is unreachable`,
      ).toBeGreaterThan(0);
      expect(lastOf(replica)?.body, `replica ${replica + 1}'s last /healthz of the outage`).toMatchObject({
        status: 'degraded',
        database: 'unreachable',
      });
      expect(
        healthyAgain[replica],
        `replica ${replica + 1}'s /healthz once the server was back`,
      ).not.toHaveProperty('database');
    }
    expect(postedWhileDown, 'alerts posted while nothing could record them').toEqual([]);
    expectCounts(counts);
  });
});
