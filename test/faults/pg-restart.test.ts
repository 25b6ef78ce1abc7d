// PostgreSQL restarted (`pg_ctl restart`) under two replicas that poll and post, on a server of this file's own:
// commands that need no database keep answering, polling and posting resume once the server is back, and every
// alert made around the restarts is posted exactly once (issue 20, "The database's own faults", 1).
import { expect, it } from 'vitest';
import { waitFor } from '../harness.ts';
import { describePgServer, pgServerForFile } from '../pg-server.ts';
import {
  expectAlive,
  expectHelpAnswered,
  postedAt,
  seconds,
  settle,
  startReplicas,
  waitPosted,
} from './pg-replicas.ts';
import {
  ALERTS,
  countAlerts,
  countsRow,
  expectCounts,
  record,
  ROOMY,
  scenarioPerTest,
  to,
} from './scenario.ts';

const server = pgServerForFile();
const scenario = scenarioPerTest();

/** Restarts in one test: each lands at another moment of the replicas' polls and posts. */
const RESTARTS = 3;
/** How long Slack's answer to each alert post takes to reach the bot. */
const SLACK_ANSWERS_MS = 400;
/** The target for resuming; printed, not asserted (timings belong to bench/). */
const TARGET_MS = 15_000;

describePgServer('PostgreSQL restarted under two replicas', ROOMY, () => {
  it('pg_ctl restart: help still answered, polling and posting resume, 0 lost, 0 duplicated', async (context) => {
    const s = scenario.current;
    const pg = server.current;
    // Slow answers from both, so that the restarts land inside polls and posts: Halo's in every request,
    // Slack's (after it posted) in every alert post.
    await s.start({ halo: { latencyMs: 100 } });
    const proxy = await s.proxy();
    proxy.hold = ({ method, channel }) =>
      method === 'chat.postMessage' && channel === ALERTS ? SLACK_ANSWERS_MS : undefined;
    const replicas = await startReplicas(s, pg.url, () => ({ SLACK_API_URL: proxy.apiUrl }));
    const { bots, add } = replicas;
    await waitPosted(s, [add(), add()]);

    const resumes: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      // The server goes while an alert's post is in flight (Slack posted it; the bot has not heard yet) and the
      // next poll may be under way; one more event is made while it restarts.
      add();
      await waitFor('an alert post in flight', () => proxy.holding() > 0, 30_000);
      const restarting = pg.restart();
      add();
      // Answered while the restart runs and right after it, when every pooled connection is a dead one.
      await Promise.all(bots.map((bot) => expectHelpAnswered(s, bot)));
      await restarting;
      const back = Date.now();
      const after = add();
      await Promise.all(bots.map((bot) => expectHelpAnswered(s, bot)));
      // A generous bound, for a busy machine: the figure itself goes in the report.
      await waitPosted(s, [after], 60_000);
      resumes.push(postedAt(s, after)! - back);
    }
    const last = [add(), add()];
    await waitPosted(s, last);
    await settle(s, bots);
    expectAlive(bots);

    const counts = countAlerts(s.fakes.slack.posts, to(ALERTS, ...replicas.created));
    const worst = Math.max(...resumes);
    process.stdout.write(
      `pg-restart: an event made once the server was back was posted after ${resumes.map(seconds).join(', ')} ` +
        `(issue's target ${seconds(TARGET_MS)}; worst ${seconds(worst)})\n`,
    );
    record(context, {
      area: 'Database',
      fault: `PostgreSQL restarted ${RESTARTS}× (pg_ctl restart) under 2 replicas polling and posting`,
      behaviour:
        `each restart hit a post in flight, not repeated; /halo help answered throughout; a new event posted ` +
        `${seconds(worst)} at worst after the server was back (target ${seconds(TARGET_MS)}); both replicas alive`,
      ...countsRow(counts),
    });
    expectCounts(counts);
    expect(counts.expected).toBe(RESTARTS * 3 + 4);
  });
});
