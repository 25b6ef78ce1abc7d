// Issue 23, items 9–12: Slack's limits and the edges around it. `/halo mutes` answered in one section of 43,056
// characters (Slack takes 3,000) and the App Home left a long channel out; the demo's simulated Slack took a
// cross-origin text/plain POST at sequential response_url IDs; a 20 MB Socket Mode envelope was parsed whole;
// a Delete sent as an App Home click deleted, then failed with "respond is not a function".
import { describe, expect, it } from 'vitest';
import { Feed } from '../../demo/feed.ts';
import { startFakeSlack } from '../../fakes/slack.ts';
import { appHomeOpenedBody, blockActionBody, buttonClickPayload, postToBot } from '../../fakes/sign.ts';
import { slashCommandFields, startFakeSocketMode } from '../../fakes/socket-mode.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';
import { DELETE_ACTION_ID, encodeDeleteValue } from '../../src/slack/blocks/index.ts';
import { HOME_UNMUTE_ACTION_ID } from '../../src/slack/blocks/home-view.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import { SIGNING_SECRET, TEST_SOCKET_TIMINGS, waitFor } from '../harness.ts';
import { ADMIN, ALERTS, logMatch, record, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();

describe('Slack’s limits and edges (issue 23, items 9–12)', ROOMY, () => {
  it('item 9: 120 mutes with long keys: /halo mutes and the App Home', async (context) => {
    const s = scenario.current;
    await s.start();
    const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN }));
    await logMatch(bot, /poll: baseline recorded/);
    for (let i = 0; i < 120; i++) {
      const key = `${String(i).padStart(3, '0')}-${'k'.repeat(196)}`;
      await s.command(bot, `mute key:${key} for:1h`, { user: ADMIN, channel: ALERTS });
    }
    const listed = (await s.command(bot, 'mutes', { user: ADMIN, channel: ALERTS }))
      .body as unknown as SlackMessage;
    const text = JSON.stringify(listed);
    const mutesShown = (text.match(/\*#\d+\*/g) ?? []).length;

    const { slack } = s.fakes;
    const before = slack.views.length;
    await postToBot(bot.url, appHomeOpenedBody(ADMIN), {
      signingSecret: SIGNING_SECRET,
      contentType: 'application/json',
    });
    const view = (await slack.waitFor(() => slack.views.slice(before).find((v) => v.args.user_id === ADMIN)))
      .args.view as { blocks: SlackMessage['blocks'] };
    const home = JSON.stringify(view.blocks);
    const unmuteButtons = (home.match(new RegExp(HOME_UNMUTE_ACTION_ID, 'g')) ?? []).length;
    // A Home view takes 100 blocks, a message 50: the view's count is checked on its own.
    const problems = [
      ...checkLimits(listed),
      ...checkLimits({ text: 'home', blocks: view.blocks }).filter((p) => !p.startsWith('blocks: ')),
      ...(view.blocks.length > 100 ? [`home blocks: ${view.blocks.length} > 100`] : []),
    ];
    record(context, {
      area: 'Slack',
      fault: '120 mutes with 200-character keys in one channel',
      behaviour: `/halo mutes: ${listed.blocks.length} sections, ${mutesShown} of 120 mutes listed; App Home: ${unmuteButtons} Unmute buttons on page 1, the rest on the next (Next button); ${problems.length} Block Kit problems`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(problems).toEqual([]);
    expect(mutesShown).toBe(120);
    expect(unmuteButtons).toBeGreaterThan(0);
    // The rest are a page away: the App Home pages past 100 blocks.
    expect(home).toMatch(/Channels, page 1 of \d+/);
    expect(home).toContain('"text":"Next"');
  });

  it('item 10: the demo’s simulated Slack and a cross-origin text/plain POST to a response_url', async (context) => {
    const slack = await startFakeSlack();
    try {
      const feed = new Feed(slack, { botName: 'Halo', userName: 'you', channel: 'CDEMO' });
      const [first, second] = [feed.responseUrl(null), feed.responseUrl(null)];
      const inject = JSON.stringify({
        text: '<https://evil.example|Your Halo session expired: sign in again>',
      });
      const attempts = {
        'another site’s form (text/plain)': { 'content-type': 'text/plain' },
        'another site’s fetch (JSON, with its Origin)': {
          'content-type': 'application/json',
          origin: 'https://evil.example',
        },
      };
      const statuses: string[] = [];
      for (const [what, headers] of Object.entries(attempts)) {
        const res = await fetch(first, { method: 'POST', headers, body: inject });
        await res.body?.cancel();
        statuses.push(`${what}: ${res.status}`);
      }
      // The bot's own answer: JSON, no Origin.
      const ok = await fetch(second, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'done' }),
      });
      await ok.body?.cancel();
      const injected = feed.items().some((item) => JSON.stringify(item).includes('evil.example'));
      const guessable = /\/response\/r\d+$/.test(first) || /\/response\/r\d+$/.test(second);
      record(context, {
        area: 'Input',
        fault: 'the demo: cross-origin POSTs to its response_url paths',
        behaviour: `${statuses.join('; ')}; the bot's JSON: ${ok.status}; IDs ${guessable ? 'SEQUENTIAL' : 'random (128 bits)'}`,
        expected: null,
        delivered: null,
        duplicated: null,
      });
      expect(statuses).toEqual([
        'another site’s form (text/plain): 403',
        'another site’s fetch (JSON, with its Origin): 403',
      ]);
      expect(ok.status).toBe(200);
      expect(injected).toBe(false);
      expect(guessable).toBe(false);
    } finally {
      await slack.close();
    }
  });

  it('item 11: a 20 MB Socket Mode envelope', async (context) => {
    const s = scenario.current;
    const fakes = await s.start();
    const socket = await startFakeSocketMode(fakes.slack);
    try {
      const bot = await s.bot(s.env({ SLACK_APP_TOKEN: socket.appToken, SLACK_SIGNING_SECRET: '' }), {
        socketTimings: TEST_SOCKET_TIMINGS,
      });
      await socket.waitForConnection();
      const huge = slashCommandFields({
        text: `events ${'x'.repeat(20 * 1024 * 1024)}`,
        response_url: fakes.slack.responseUrl('huge'),
      });
      const hugeAck = await socket.slashCommand(huge, 3000).then(
        () => 'acked',
        () => 'not acked',
      );
      const next = await socket.slashCommand(
        slashCommandFields({ text: 'help', response_url: fakes.slack.responseUrl('next') }),
      );
      const refused = bot.logs.some((line) =>
        line.includes('an envelope larger than Slack sends was refused unread'),
      );
      record(context, {
        area: 'Input',
        fault: 'a 20 MB Socket Mode envelope',
        behaviour: `${refused ? 'refused unread' : 'PARSED'} (${hugeAck}); the next envelope acked in ${next.ms.toFixed(0)} ms`,
        expected: null,
        delivered: null,
        duplicated: null,
      });
      expect(refused).toBe(true);
      expect(hugeAck).toBe('not acked');
      expect(fakes.slack.responses.some((r) => r.id === 'huge')).toBe(false);
    } finally {
      await socket.close();
    }
  });

  it('item 12: an admin’s Delete sent as an App Home click', async (context) => {
    const s = scenario.current;
    const { halo, slack } = await s.start();
    const bot = await s.bot(s.env({ HALO_ADMIN_USERS: ADMIN }));
    await logMatch(bot, /poll: baseline recorded/);
    const event = halo.addEvent();
    const payload = buttonClickPayload({
      actionId: DELETE_ACTION_ID,
      value: encodeDeleteValue(event.event_id)!,
      userId: ADMIN,
      channelId: 'DHOME',
      responseUrl: '',
    });
    delete payload.channel;
    delete payload.message;
    delete payload.response_url;
    payload.container = { type: 'view', view_id: 'V1' };
    payload.view = { id: 'V1', type: 'home', blocks: [] };
    const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
    const told = await waitFor('a message to the user', () =>
      slack.posts.find((p) => p.channel === ADMIN && p.text.includes('Nothing was deleted')),
    );
    const deletes = halo.requests.filter((r) => r.path.endsWith('delete.json')).length;
    const crashed = bot.logs.some((line) => line.includes('respond is not a function'));
    record(context, {
      area: 'Input',
      fault: 'an admin’s Delete sent as an App Home click',
      behaviour: `ack ${ack.status}; ${deletes} deletes; told in their messages with the bot: "${told.text.slice(0, 40)}…"`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
    expect(ack.status).toBe(200);
    expect(deletes).toBe(0);
    expect(crashed).toBe(false);
    expect(halo.events.some((e) => e.event_id === event.event_id)).toBe(true);
  });
});
