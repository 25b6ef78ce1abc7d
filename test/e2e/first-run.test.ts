/**
 * A first run in a real workspace: `/halo test` posts a sample alert in the channel it is typed in (or says how
 * to invite the bot), driven as Slack drives it, and read from the Slack stand-in as the channel shows it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeEvents } from '../../fakes/halo.ts';
import { BOT_USER_ID } from '../../fakes/slack.ts';
import { openSqliteStore } from '../stores.ts';
import { postToBot, signRequest, slashCommandBody } from '../../fakes/sign.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  visibleText,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

let fakes: Fakes | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  await fakes?.close();
  bot = undefined;
  fakes = undefined;
});

async function start(): Promise<{ fakes: Fakes; bot: InProcessBot }> {
  fakes = await startFakes();
  bot = await inProcessBot(botEnv(fakes));
  return { fakes, bot };
}

/** Resolves after `bot` logs its next completed poll (the baseline counts). */
async function nextPoll(running: InProcessBot): Promise<void> {
  const polls = (): number => running.logs.filter((l) => / poll: (done|baseline recorded) /.test(l)).length;
  const seen = polls();
  await fakes!.slack.waitFor(() => polls() > seen);
}

let commands = 0;

/** `/halo TEXT` typed by U123 in `channel`; resolves with the text of the private answer. */
async function slash(text: string, channel: string): Promise<string> {
  const id = `test-${++commands}`;
  const body = slashCommandBody({ text, channel_id: channel, response_url: fakes!.slack.responseUrl(id) });
  const ack = await postToBot(bot!.url, body, { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  const answer = await fakes!.slack.waitFor(() => fakes!.slack.responses.find((r) => r.id === id));
  return visibleText(answer.body);
}

describe('/halo test', () => {
  it('posts a sample alert marked as a test in the channel it was typed in, and says so', async () => {
    const { fakes } = await start();
    const answer = await slash('test', 'CTEAM');
    expect(answer).toContain('Posted a test alert in this channel: new Halo events will look like it.');

    const posts = fakes.slack.postsTo('CTEAM');
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    expect(post.text).toMatch(/^\[Test\] /);
    const shown = visibleText({ text: post.text, blocks: post.blocks });
    expect(shown).toContain(':test_tube: *Test alert* sent by <@U123> with `/halo test`');
    expect(shown).toContain('New Open Port');
    expect(shown).toContain('www.example.com');
    // The alert's own layout (header and fields) with no Delete button: there is nothing to delete.
    expect((post.blocks as { type: string }[]).map((b) => b.type)).toEqual(['context', 'header', 'section']);
  });

  it('in a channel the bot is not in: nothing posted, the answer says how to invite it', async () => {
    const { fakes } = await start();
    fakes.slack.channelErrors.set('CPRIVATE', 'channel_not_found');
    fakes.slack.channelErrors.set('CPUBLIC', 'not_in_channel');
    for (const channel of ['CPRIVATE', 'CPUBLIC']) {
      const answer = await slash('test', channel);
      expect(answer).toContain(
        `I could not post here: I am not a member of this channel. Invite me with \`/invite <@${BOT_USER_ID}>\``,
      );
    }
    expect(fakes.slack.posts).toEqual([]);
  });

  it('takes no arguments', async () => {
    await start();
    expect(await slash('test now', 'CTEAM')).toContain('Unexpected extra argument “now”: test takes none.');
    expect(fakes!.slack.posts).toEqual([]);
  });
});

describe('the connected message', () => {
  it('is posted once to HALO_ALERT_CHANNEL on the very first start, with the baseline and the filter', async () => {
    fakes = await startFakes();
    for (let i = 0; i < 3; i++) fakes.halo.addEvent({ key: 'target-port-open' });
    fakes.halo.addEvent({ key: 'scan-started' });
    const env = botEnv(fakes, { HALO_ALERT_KEYS: 'target-port-open' });
    bot = await inProcessBot(env);
    const message = await fakes.slack.waitFor(() => fakes!.slack.connected[0]);
    expect(message.channel).toBe('CALERTS');
    expect(message.text).toBe(
      'Connected to Halo Security: 3 existing Halo events recorded as the starting point',
    );
    expect(visibleText({ blocks: message.blocks }).trim()).toBe(
      ':white_check_mark: *Connected to Halo Security.* I recorded 3 existing Halo events as the starting point ' +
        'and will not post them. From now on I post each new event here: key `target-port-open`.\n' +
        'Try `/halo test` to see what an alert looks like, or `/halo events` to list recent events.',
    );

    // A restart on the same store has a baseline already: it says nothing, and alerts flow as before.
    await nextPoll(bot);
    await bot.stop();
    bot = await inProcessBot(env);
    await nextPoll(bot);
    const event = fakes.halo.addEvent({ key: 'target-port-open' });
    await fakes.slack.waitFor(() => fakes!.slack.posts.length === 1);
    await nextPoll(bot);
    expect(JSON.stringify(fakes.slack.posts[0]!.blocks)).toContain(event.event_id);
    expect(fakes.slack.connected).toHaveLength(1);
    expect(fakes.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(2);
  });

  it('counts each existing event once, however many of the first poll’s scans list it', async () => {
    fakes = await startFakes();
    fakes.halo.addEvent({ key: 'target-port-open', target_id: 42 }); // listed by both scans below
    fakes.halo.addEvent({ key: 'target-port-open', target_id: 7 });
    fakes.halo.addEvent({ key: 'scan-started', target_id: 42 });
    fakes.halo.addEvent({ key: 'scan-started', target_id: 7 }); // listed by neither
    // Enough others that one full scan (3 pages) would cost more than the two scans by key and target (1 each).
    fakes.halo.events.push(...makeEvents(2500, { keys: ['domain-add'], targets: 5 }));
    const env = botEnv(fakes, { HALO_ALERT_KEYS: 'target-port-open' });
    // A subscription already in the store (made before a restore, say): its scan overlaps the alert channel's.
    const store = openSqliteStore(env.DATABASE_URL!.slice('sqlite:'.length));
    await store.addSubscription({
      channel: 'CTEAM',
      keys: [],
      targetIds: [42],
      createdBy: 'U1',
      createdAt: 0,
    });
    await store.close();
    bot = await inProcessBot(env);
    const message = await fakes.slack.waitFor(() => fakes!.slack.connected[0]);
    expect(message.text).toBe(
      'Connected to Halo Security: 3 existing Halo events recorded as the starting point',
    );
  });

  it('comes before the HALO_BACKFILL events, which it announces', async () => {
    fakes = await startFakes();
    fakes.halo.addEvent({ date_created: '2026-01-01 10:00' });
    fakes.halo.addEvent({ date_created: '2026-03-01 10:00' });
    bot = await inProcessBot(botEnv(fakes, { HALO_BACKFILL: '1' }));
    await fakes.slack.waitFor(() => fakes!.slack.posts.length === 1);
    const [connected] = fakes.slack.connected;
    expect(visibleText({ blocks: connected!.blocks })).toContain(
      'I recorded 2 existing Halo events as the starting point and post only the newest, below.',
    );
    expect(connected!.at).toBeLessThanOrEqual(fakes.slack.posts[0]!.at);
    expect(Number(connected!.ts)).toBeLessThan(Number(fakes.slack.posts[0]!.ts));
  });

  it('is not posted when HALO_ALERT_CHANNEL is not set', async () => {
    fakes = await startFakes();
    fakes.halo.addEvent();
    const env = botEnv(fakes);
    delete env.HALO_ALERT_CHANNEL;
    bot = await inProcessBot(env);
    await nextPoll(bot);
    await nextPoll(bot);
    expect(fakes.slack.calls.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });
});

describe('a signing secret that does not match', () => {
  it('is logged once a minute at most, naming SLACK_SIGNING_SECRET; requests signed right still work', async () => {
    const { bot } = await start();
    for (let i = 0; i < 5; i++) {
      const body = slashCommandBody({ text: 'help', response_url: fakes!.slack.responseUrl(`wrong-${i}`) });
      const now = Math.floor(Date.now() / 1000);
      const wrong = signRequest('an-old-signing-secret', body, now)['x-slack-signature'];
      const answer = await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET, signature: wrong });
      expect(answer.status).toBe(401);
    }
    const warnings = bot.logs.filter((line) => line.includes('signature does not match'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'check SLACK_SIGNING_SECRET (your Slack app → Basic Information → Signing Secret)',
    );
    expect(await slash('help', 'CTEAM')).toContain('/halo test');
    expect(fakes!.slack.responses.map((r) => r.id)).toEqual([`test-${commands}`]);
  });
});
