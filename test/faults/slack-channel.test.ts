// One channel that Slack will not post to (removed bot, deleted or archived channel, a hanging request),
// while another channel, subscribed with /halo subscribe by an allowed user, keeps receiving.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../harness.ts';
import {
  ADMIN,
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  logMatch,
  logText,
  OTHER,
  record,
  ROOMY,
  scenarioPerTest,
  to,
  type Scenario,
} from './scenario.ts';

const scenario = scenarioPerTest();

/** A bot posting every event to ALERTS (its setting) and to OTHER (a subscription made in Slack). */
async function twoChannels(s: Scenario) {
  const fakes = await s.start();
  fakes.halo.addEvent();
  const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN }));
  await logMatch(bot, /poll: baseline recorded/);
  const subscribed = await s.command(bot, 'subscribe severity:info', { user: ADMIN, channel: OTHER });
  expect(JSON.stringify(subscribed.body)).toContain('Subscribed');
  return { ...fakes, bot };
}

const callsTo = (s: Scenario, channel: string) =>
  s.fakes.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel);

describe(
  'a channel Slack refuses for good: its alerts are recorded as failed, the other channel goes on',
  ROOMY,
  () => {
    // Each error's own fix in the log: an invitation is not_in_channel's, not a missing or archived channel's.
    const fixes: Record<string, string> = {
      channel_not_found: 'check the channel ID',
      not_in_channel: 'invite the bot',
      is_archived: 'unarchive the channel',
    };
    for (const error of ['channel_not_found', 'not_in_channel', 'is_archived']) {
      it(error, async (context) => {
        const s = scenario.current;
        const { halo, slack, bot } = await twoChannels(s);
        slack.channelErrors.set(ALERTS, error);
        const events = [1, 2, 3].map((m) => halo.addEvent({ date_created: `2026-01-01 10:0${m}` }));
        await slack.waitFor(() => slack.postsTo(OTHER).length >= 3, 20_000);
        await logMatch(
          bot,
          new RegExp(`Slack will not accept posts to channel ${ALERTS} \\(${error}\\): ${fixes[error]!}`),
        );
        await completedPolls(bot, 2);

        const health = await s.health(bot);
        // Polls go fine, but alerts go nowhere: a monitor must hear of it, with the channel and the code.
        expect(health.body).toMatchObject({
          status: 'degraded',
          alertsFailed: 3,
          alertsPending: 0,
          channelsRefusing: [{ channel: ALERTS, error }],
        });
        const status = JSON.stringify((await s.command(bot, 'status')).body);
        expect(status).toContain('Alerts that could not be posted: 3');
        expect(status).toContain(error);
        const attempts = callsTo(s, ALERTS).length;
        expect(attempts, 'the broken channel is not hammered').toBeLessThanOrEqual(3);
        expect(slack.postsTo(ALERTS)).toHaveLength(0);

        const counts = countAlerts(slack.posts, to(OTHER, ...events));
        record(context, {
          area: 'Slack',
          fault: `${error} for one of two channels`,
          behaviour: `failed that channel's 3 alerts after ${attempts} attempt(s), shown in /halo status; other channel got all`,
          ...countsRow(counts),
          failed: Number(health.body.alertsFailed),
        });
        expectCounts(counts);
      });
    }
  },
);

describe('a hanging chat.postMessage', ROOMY, () => {
  it('holds only its own channel, and the alert is posted once after the timeout', async (context) => {
    const s = scenario.current;
    const { halo, slack, bot } = await twoChannels(s);
    let hung = 0;
    slack.fault = ({ method, args }) =>
      method === 'chat.postMessage' && args.channel === ALERTS && hung++ === 0 ? { kind: 'hang' } : undefined;
    const event = halo.addEvent();
    const other = await slack.waitFor(() => slack.postsTo(OTHER)[0], 20_000);
    const gaveUp = await logMatch(
      bot,
      new RegExp(`^(\\S+) .*Posting to ${ALERTS} failed for now`, 'm'),
      30_000,
    );
    expect(other.at, 'the other channel was served while this one hung').toBeLessThan(Date.parse(gaveUp[1]!));
    const late = await slack.waitFor(() => slack.postsTo(ALERTS)[0], 30_000);
    await completedPolls(bot, 2);
    const hangAt = callsTo(s, ALERTS)[0]!.at;
    const counts = countAlerts(slack.posts, [...to(ALERTS, event), ...to(OTHER, event)]);
    record(context, {
      area: 'Slack',
      fault: 'chat.postMessage hangs (one channel)',
      behaviour: `other channel served meanwhile; the hung post timed out and was retried (+${((late.at - hangAt) / 1000).toFixed(0)} s)`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });

  it('Slack posted the message but its answer never came: the retry must not post it again', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    halo.addEvent();
    const proxy = await s.proxy();
    const bot = await s.bot(s.env({ SLACK_API_URL: proxy.apiUrl }));
    await logMatch(bot, /poll: baseline recorded/);
    let held = 0;
    proxy.hold = ({ method }) => (method === 'chat.postMessage' && held++ === 0 ? 'forever' : undefined);
    const event = halo.addEvent();
    await logMatch(bot, new RegExp(`Posting to ${ALERTS} failed for now`), 30_000);
    // Either a second post, or the bot finding the first one in the channel and making none.
    const found = /delivery: an earlier attempt had posted it/;
    await waitFor('the retry', () => callsTo(s, ALERTS).length >= 2 || found.test(logText(bot)), 30_000);
    await completedPolls(bot, 2);
    const counts = countAlerts(slack.posts, to(ALERTS, event));
    const looked = slack.calls.filter((c) => c.method === 'conversations.history').length;
    record(context, {
      area: 'Slack',
      fault: 'answer to a post that Slack made never comes',
      behaviour:
        counts.duplicated > 0
          ? 'timed out, retried blindly: POSTED TWICE'
          : `timed out; before retrying, read the channel (${looked} × conversations.history), found it posted, did not repost`,
      ...countsRow(counts),
    });
    expectCounts(counts);
  });
});
