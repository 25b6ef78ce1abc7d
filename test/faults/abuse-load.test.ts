// Issue 23, items 7 and 8: one user's work must not become everyone's wait. An outside probe sent 300
// `/halo events` from one non-admin (3,133 Halo requests; a new alert delayed to 15.9 s), and made 60
// subscriptions over 20 keys (1,201 Halo requests a poll for 32 events).
import { describe, expect, it } from 'vitest';
import { makeEvents, type HaloRequest } from '../../fakes/halo.ts';
import { postToBot, slashCommandBody } from '../../fakes/sign.ts';
import { SIGNING_SECRET, waitFor } from '../harness.ts';
import {
  ADMIN,
  ALERTS,
  countAlerts,
  countsRow,
  expectCounts,
  logMatch,
  logText,
  record,
  ROOMY,
  scenarioPerTest,
  to,
  type Scenario,
} from './scenario.ts';
import type { InProcessBot } from '../harness.ts';

const scenario = scenarioPerTest();

const FLOOD = 300;
const USER = 'UFLOOD';

/** Sends `count` signed commands from USER at once; once all are acknowledged, gives their answers to come. */
async function flood(
  s: Scenario,
  bot: InProcessBot,
  text: (i: number) => string,
  count = FLOOD,
): Promise<{ answers: Promise<string[]> }> {
  const { slack } = s.fakes;
  const ids = Array.from({ length: count }, (_, i) => `flood-${i}`);
  // 50 connections at a time: the bot's server takes 256 at once, and the flood is about Halo, not sockets.
  for (let at = 0; at < count; at += 50) {
    await Promise.all(
      ids.slice(at, at + 50).map((id, j) =>
        postToBot(
          bot.url,
          slashCommandBody({
            text: text(at + j),
            user_id: USER,
            channel_id: 'CFLOOD',
            response_url: slack.responseUrl(id),
          }),
          { signingSecret: SIGNING_SECRET },
        ),
      ),
    );
  }
  const answers = slack
    .waitFor(() => {
      const found = ids.map((id) => slack.responses.find((r) => r.id === id));
      return found.every((r) => r !== undefined) ? found : undefined;
    }, 60_000)
    .then((found) => found.map((r) => JSON.stringify(r.body)));
  return { answers };
}

describe('one user’s work (issue 23, items 7 and 8)', ROOMY, () => {
  it('item 7: 300 identical /halo events from one non-admin', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start({ halo: { events: makeEvents(2500), latencyMs: 10 } });
    // The default share: 20 commands a minute.
    const bot = await s.bot(s.env({ HALO_COMMANDS_PER_MINUTE: '20' }));
    await logMatch(bot, /poll: baseline recorded/);
    const before = halo.requests.length;
    const sent = flood(s, bot, () => 'events key:port-open');
    const fresh = halo.addEvent();
    const listed = await (await sent).answers;
    await slack.waitFor(() => countAlerts(slack.posts, to(ALERTS, fresh)).delivered === 1, 20_000);
    const listingRequests = halo.requests
      .slice(before)
      .filter((r) => r.query.get('key') === 'port-open').length;
    const refused = listed.filter((a) => /You asked 20 times in a minute.*try again in \d+ s/.test(a)).length;
    const counts = countAlerts(slack.posts, to(ALERTS, fresh));
    record(context, {
      area: 'Input',
      fault: `${FLOOD} identical /halo events from one non-admin at once`,
      behaviour: `${FLOOD - refused} answered from ${listingRequests} Halo requests (1 listing), ${refused} told "you asked 20 times in a minute; try again in N s"; the new alert posted`,
      ...countsRow(counts),
    });
    expect(listingRequests).toBeLessThanOrEqual(10);
    expect(refused).toBe(FLOOD - 20);
    expectCounts(counts);
  });

  it('item 7: a poll is not queued behind 300 distinct listings (limit lifted)', async (context) => {
    const s = scenario.current;
    // Halo at 100 ms a request and 4 in flight: the flood queues about 7.5 s of requests.
    const { halo, slack } = await s.start({ halo: { events: makeEvents(20), latencyMs: 100 } });
    const bot = await s.bot(s.env({ HALO_COMMANDS_PER_MINUTE: '1000' }));
    await logMatch(bot, /poll: baseline recorded/);
    const before = halo.requests.length;
    const fresh = halo.addEvent();
    const { answers } = await flood(s, bot, (i) => `events key:port-open target:${i + 1}`);
    await answers;
    await slack.waitFor(() => countAlerts(slack.posts, to(ALERTS, fresh)).delivered === 1, 20_000);
    const requests = halo.requests.slice(before);
    const isCommand = (r: HaloRequest): boolean => r.query.get('key') === 'port-open';
    // The most command requests Halo served between two poll requests while the flood lasted. First in, first
    // out, a poll started during the flood waited behind every command request queued before it (about 250).
    let gap = 0;
    let widest = 0;
    let polls = 0;
    for (const request of requests) {
      if (!request.path.endsWith('list.json')) continue;
      if (isCommand(request)) widest = Math.max(widest, ++gap);
      else if (request.at <= lastCommandAt(requests, isCommand)) [gap, polls] = [0, polls + 1];
    }
    const counts = countAlerts(slack.posts, to(ALERTS, fresh));
    record(context, {
      area: 'Input',
      fault: `${FLOOD} distinct /halo events at once, a new event meanwhile`,
      behaviour: `${polls} polls during the flood, at most ${widest} command requests between two (first in, first out: ~250); the alert posted`,
      ...countsRow(counts),
    });
    expect(polls).toBeGreaterThanOrEqual(2);
    // A poll waits for at most the requests in flight when it asked, and those of commands between its own pages.
    expect(widest).toBeLessThan(FLOOD / 4);
    expectCounts(counts);
  });

  it('item 8: 60 subscriptions over 20 keys, 32 events; the caps answer clearly', async (context) => {
    const s = scenario.current;
    const keys = Array.from({ length: 20 }, (_, i) => `probe-key-${String(i + 1).padStart(2, '0')}`);
    const { halo } = await s.start({ halo: { events: makeEvents(32, { keys }) } });
    const bot = await s.bot(
      // No alert channel: only the subscriptions ask for events, and none asks for all of them.
      s.env({
        HALO_ALERT_CHANNEL: '',
        HALO_ADMIN_USERS: ADMIN,
        HALO_MAX_SUBSCRIPTIONS: '60',
        HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL: '10',
      }),
    );
    await logMatch(bot, /poll: baseline recorded/);
    const answers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const command = `subscribe key:${keys[i % 20]} target:${i + 1}`;
      answers.push(
        JSON.stringify(
          (await s.command(bot, command, { user: ADMIN, channel: `CSUB${Math.floor(i / 10)}` })).body,
        ),
      );
    }
    expect(answers.filter((a) => a.includes('Subscribed')).length).toBe(60);
    const channelFull = JSON.stringify(
      (await s.command(bot, 'subscribe key:x target:99', { user: ADMIN, channel: 'CSUB0' })).body,
    );
    const workspaceFull = JSON.stringify(
      (await s.command(bot, 'subscribe key:x target:99', { user: ADMIN, channel: 'CSUB9' })).body,
    );

    // Polls after every subscription has started: the requests each one made.
    const perPoll = async (): Promise<number[]> => {
      const seen = logText(bot).split('\n').length;
      await waitFor('three more polls', () => pollLines(bot, seen).length >= 3, 20_000);
      return pollLines(bot, seen).slice(0, 3);
    };
    await perPoll();
    const requests = await perPoll();
    record(context, {
      area: 'Input',
      fault: '60 subscriptions over 20 keys, 32 events',
      behaviour: `${Math.max(...requests)} Halo request(s) a poll (one full scan, by measured cost); the 11th in a channel and the 61st refused with the setting to change`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(Math.max(...requests)).toBeLessThanOrEqual(2);
    expect(halo.events).toHaveLength(32);
    expect(channelFull).toContain('the most HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL allows (10)');
    expect(workspaceFull).toContain('the most HALO_MAX_SUBSCRIPTIONS allows (60)');
  });
});

function lastCommandAt(requests: readonly HaloRequest[], isCommand: (r: HaloRequest) => boolean): number {
  return requests.filter(isCommand).at(-1)?.at ?? 0;
}

/** The `requests=N` of each poll logged after line `from`. */
function pollLines(bot: InProcessBot, from: number): number[] {
  return logText(bot)
    .split('\n')
    .slice(from)
    .flatMap((line) => {
      const match = /poll: done .*\brequests=(\d+)/.exec(line);
      return match === null ? [] : [Number(match[1])];
    });
}
