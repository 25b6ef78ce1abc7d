// A replica's database sessions killed (`pg_terminate_backend`, picked by the application_name that names the
// replica) while it is posting an alert: it stops posting, the other replica takes over, and the alert in
// flight is neither lost nor repeated (issue 20, "The database's own faults", 2).
//
// Each replica talks to Slack through a proxy of its own, so the test sees who posted what. Killing the
// sessions once would free the lead for both replicas alike, so the killed replica's sessions are killed again
// and again (every KILL_EVERY_MS) until the other replica has visibly taken over: the killed one is the replica
// that cannot keep a session, whatever the lease design does with a lost one.
import { expect, it } from 'vitest';
import { type FakeHaloEvent } from '../../fakes/halo.ts';
import { delay, waitFor } from '../harness.ts';
import { describePgServer, pgServerForFile } from '../pg-server.ts';
import {
  expectAlive,
  expectHelpAnswered,
  REPLICA_IDS,
  seconds,
  settle,
  startReplicas,
  waitPosted,
} from './pg-replicas.ts';
import {
  alertEventId,
  ALERTS,
  countAlerts,
  countsRow,
  expectCounts,
  record,
  ROOMY,
  scenarioPerTest,
  to,
} from './scenario.ts';
import type { SlackProxy } from './slack-proxy.ts';

const server = pgServerForFile();
const scenario = scenarioPerTest();

const KILL_EVERY_MS = 50;
/** How long Slack's answer to the alert in flight is held: the replica hears back after its sessions died. */
const HOLD_MS = 2000;

describePgServer('a replica’s database sessions killed', ROOMY, () => {
  it('pg_terminate_backend mid-post: the replica stops posting, the other takes over, 0 lost, 0 duplicated', async (context) => {
    const s = scenario.current;
    const pg = server.current;
    const { slack } = await s.start();
    const proxies = new Map<string, SlackProxy>();
    for (const id of REPLICA_IDS) proxies.set(id, await s.proxy());
    const replicas = await startReplicas(s, pg.url, (id) => ({ SLACK_API_URL: proxies.get(id)!.apiUrl }));
    const { bots, add } = replicas;

    /** The alert events a replica posted, through its proxy, after `since`. */
    const postedBy = (id: string, since = 0): string[] =>
      proxies
        .get(id)!
        .answered.filter((c) => c.method === 'chat.postMessage' && c.channel === ALERTS && c.at >= since)
        .map((c) => slack.posts.find((p) => p.ts === c.ts))
        .flatMap((post) => (post === undefined ? [] : [alertEventId(post) ?? '(not an alert)']));

    // Whoever posts the first alerts is the replica whose sessions get killed.
    const warm = [add(), add()];
    await waitPosted(s, warm);
    const victim = REPLICA_IDS.find((id) => postedBy(id).length > 0)!;
    const other = REPLICA_IDS.find((id) => id !== victim)!;
    const victimBot = bots[REPLICA_IDS.indexOf(victim)]!;

    // The next alert reaches Slack, but the victim hears so only after its sessions are gone.
    let held = false;
    proxies.get(victim)!.hold = ({ method, channel }) => {
      if (method !== 'chat.postMessage' || channel !== ALERTS || held) return undefined;
      held = true;
      return HOLD_MS;
    };
    const inFlight = add();
    await waitFor('the victim’s post in flight, answer held', () => proxies.get(victim)!.holding() === 1);

    const cutAt = Date.now();
    let kills = 0;
    let killed = 0;
    const killing = { on: true };
    const killer = (async () => {
      while (killing.on) {
        killed += (await pg.terminateBackends((b) => b.applicationName === `halo-slack ${victim}`)).length;
        kills++;
        await delay(KILL_EVERY_MS);
      }
    })();

    // Events while the victim is cut off: the other replica must post them, the victim must not.
    const during: FakeHaloEvent[] = [add()];
    await waitFor('the other replica to post', () => postedBy(other, cutAt).length > 0, 60_000);
    const tookOverAt = Date.now();
    during.push(add(), add());
    await waitPosted(s, [inFlight, ...during]);
    // The victim has no database, but still answers what needs none.
    await expectHelpAnswered(s, victimBot);
    // Cut off still when Slack's answer reaches it: it can record nothing of the post it made.
    await delay(cutAt + HOLD_MS + 500 - Date.now());
    expect(proxies.get(victim)!.holding(), 'the held answer was given').toBe(0);
    const victimAfterTakeover = postedBy(victim, tookOverAt);
    killing.on = false;
    await killer;

    // Back to normal: both replicas up, new alerts still posted once.
    const after = [add(), add()];
    await waitPosted(s, after);
    await settle(s, bots);
    expectAlive(bots);

    const counts = countAlerts(slack.posts, to(ALERTS, ...replicas.created));
    const takeover = tookOverAt - cutAt;
    process.stdout.write(
      `pg-terminate: ${killed} sessions of ${victim} killed in ${kills} rounds; ${other} posted ` +
        `${seconds(takeover)} after the first kill; ${victim} posted ${victimAfterTakeover.length} alerts after that\n`,
    );
    record(context, {
      area: 'Database',
      fault: 'a replica’s sessions killed (pg_terminate_backend) mid-post',
      behaviour:
        `the other replica posted ${seconds(takeover)} after the first kill and found the post in flight ` +
        `in the channel; the cut-off replica posted nothing more and kept answering /halo help`,
      ...countsRow(counts),
    });
    expect(killed, 'sessions of the victim killed').toBeGreaterThan(0);
    expect(victimAfterTakeover, 'alerts the cut-off replica posted after the other took over').toEqual([]);
    expectCounts(counts);
  });
});
