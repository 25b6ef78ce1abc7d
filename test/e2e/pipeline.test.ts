import { afterEach, describe, expect, it } from 'vitest';
import { checkLimits } from '../../src/slack/blocks/index.ts';
import {
  botEnv,
  delay,
  getJson,
  inProcessBot,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

let fakes: Fakes | undefined;
let bots: InProcessBot[] = [];

afterEach(async () => {
  await Promise.all(bots.map((b) => b.stop()));
  bots = [];
  await fakes?.close();
  fakes = undefined;
});

async function setup(options: { env?: Record<string, string>; existing?: number } = {}) {
  fakes = await startFakes();
  for (let i = 0; i < (options.existing ?? 3); i++) fakes.halo.addEvent();
  const env = botEnv(fakes, options.env);
  const bot = await inProcessBot(env);
  bots.push(bot);
  return { fakes, bot, env };
}

/** Waits until the bot has finished a poll that started after this call. */
async function nextPoll(bot: InProcessBot): Promise<void> {
  const before = bot.logs.filter((l) => l.includes('poll: ')).length;
  await waitFor('a completed poll', () => bot.logs.filter((l) => l.includes('poll: ')).length > before);
}

describe('alert pipeline', () => {
  it('records existing events as a baseline, then posts each new event once with the alert blocks', async () => {
    const { fakes, bot } = await setup({ existing: 5 });
    await nextPoll(bot);
    await nextPoll(bot);
    expect(fakes.slack.posts).toHaveLength(0);

    const event = fakes.halo.addEvent({ subject: 'Scan Started', key: 'target-scan-start', target_id: 42 });
    const post = await fakes.slack.waitFor(() => fakes.slack.postsTo('CALERTS')[0]);
    await nextPoll(bot);
    await nextPoll(bot);
    expect(fakes.slack.posts).toHaveLength(1);

    expect(post.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':information_source: Info · Scan Started', emoji: true },
    });
    const json = JSON.stringify(post.blocks);
    expect(json).toContain('target-scan-start');
    expect(json).toContain(event.event_id);
    expect(json).toContain(event.target.target);
    expect(json).toContain('View in Halo');
    const actions = post.blocks.find((b) => (b as { type: string }).type === 'actions') as {
      elements: { action_id: string; value: string; style: string; confirm: unknown }[];
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual([
      'halo_ack',
      'halo_delete_event',
      'halo_mute_menu',
    ]);
    expect(actions.elements[1]).toMatchObject({
      action_id: 'halo_delete_event',
      value: event.event_id,
      style: 'danger',
    });
    expect(actions.elements[1]?.confirm).toBeDefined();
    expect(post.text).toContain('Scan Started');
  });

  it('escapes Halo text so that a subject cannot ping anyone', async () => {
    const { fakes, bot } = await setup();
    await nextPoll(bot);
    fakes.halo.addEvent({
      subject: 'Hi <!channel> & <@U123ABC> <https://evil.example|click>',
      target: { target_name: '<!here>', target_id: 9, target: 'a<b>.example' },
    });
    const post = await fakes.slack.waitFor(() => fakes.slack.posts[0]);
    expect(post.text).not.toMatch(/<!channel>|<@U123ABC>|<!here>/);
    expect(post.text).toContain('&lt;!channel&gt;');
    const mrkdwnTexts = JSON.stringify(post.blocks).match(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*"/g) ?? [];
    expect(mrkdwnTexts.length).toBeGreaterThan(3);
    expect(mrkdwnTexts.join('\n')).not.toMatch(/<!channel>|<@U123ABC>|<!here>|<https:\/\/evil/);
    // plain_text is shown literally by Slack: the header keeps the subject as written.
    expect(post.blocks[0]).toMatchObject({
      text: {
        type: 'plain_text',
        text: ':information_source: Info · Hi <!channel> & <@U123ABC> <https://evil.example|click>',
      },
    });
    expect(checkLimits({ text: post.text, blocks: post.blocks as never })).toEqual([]);
  });

  it('applies HALO_ALERT_KEYS and HALO_ALERT_TARGET_IDS to the alert channel', async () => {
    const { fakes, bot } = await setup({
      env: { HALO_ALERT_KEYS: 'port-open,issue-new', HALO_ALERT_TARGET_IDS: '7' },
    });
    await nextPoll(bot);
    const wanted = fakes.halo.addEvent({ key: 'port-open', target_id: 7 });
    fakes.halo.addEvent({ key: 'port-open', target_id: 8 });
    fakes.halo.addEvent({ key: 'domain-add', target_id: 7 });
    const wanted2 = fakes.halo.addEvent({ key: 'issue-new', target_id: 7 });
    await fakes.slack.waitFor(() => fakes.slack.posts.length >= 2);
    await nextPoll(bot);
    await nextPoll(bot);
    const ids = fakes.slack.posts.map((p) => JSON.stringify(p.blocks));
    expect(ids).toHaveLength(2);
    expect(ids[0]).toContain(wanted.event_id);
    expect(ids[1]).toContain(wanted2.event_id);
    // One target is cheaper to scan than two keys: the poll asks Halo for target 7 only.
    const scopes = new Set(
      fakes.halo.listRequests().map((r) => `${r.query.get('key')}/${r.query.get('target_id')}`),
    );
    expect(scopes).toEqual(new Set(['null/7']));
  });

  it('restarts on the same store without repeats and posts what arrived while it was down', async () => {
    const { fakes, bot, env } = await setup();
    await nextPoll(bot);
    const first = fakes.halo.addEvent();
    await fakes.slack.waitFor(() => fakes.slack.posts.length === 1);
    await bot.stop();
    bots = [];

    const whileDown = fakes.halo.addEvent();
    const again = await inProcessBot(env);
    bots.push(again);
    await fakes.slack.waitFor(() => fakes.slack.posts.length >= 2);
    await nextPoll(again);
    await nextPoll(again);
    expect(fakes.slack.posts).toHaveLength(2);
    expect(JSON.stringify(fakes.slack.posts[0]?.blocks)).toContain(first.event_id);
    expect(JSON.stringify(fakes.slack.posts[1]?.blocks)).toContain(whileDown.event_id);
  });

  it('posts HALO_BACKFILL of the newest existing events on the very first start only', async () => {
    fakes = await startFakes();
    const old = fakes.halo.addEvent({ date_created: '2026-01-01 10:00' });
    const newest = fakes.halo.addEvent({ date_created: '2026-03-01 10:00' });
    const middle = fakes.halo.addEvent({ date_created: '2026-02-01 10:00' });
    const env = botEnv(fakes, { HALO_BACKFILL: '2' });
    const bot = await inProcessBot(env);
    await fakes.slack.waitFor(() => fakes?.slack.posts.length === 2);
    const posted = fakes.slack.posts.map((p) => JSON.stringify(p.blocks));
    expect(posted.some((p) => p.includes(newest.event_id))).toBe(true);
    expect(posted.some((p) => p.includes(middle.event_id))).toBe(true);
    expect(posted.some((p) => p.includes(old.event_id))).toBe(false);
    await bot.stop();
    const again = await inProcessBot(env);
    bots.push(again);
    await nextPoll(again);
    expect(fakes.slack.posts).toHaveLength(2);
  });

  it('turns a burst above HALO_DIGEST_THRESHOLD into one digest, recording every event as delivered', async () => {
    const { fakes, bot } = await setup({ env: { HALO_DIGEST_THRESHOLD: '5' } });
    await nextPoll(bot);
    for (let i = 0; i < 12; i++) fakes.halo.addEvent({ key: i < 8 ? 'port-open' : 'issue-new' });
    const digest = await fakes.slack.waitFor(() => fakes.slack.posts[0]);
    await nextPoll(bot);
    await nextPoll(bot);
    expect(fakes.slack.posts).toHaveLength(1);
    expect(digest.text).toContain('12');
    const json = JSON.stringify(digest.blocks);
    expect(json).toContain('port-open');
    expect(json).toContain('/halo events key:port-open');
    const health = await getJson(`${bot.url}/healthz`);
    expect(health.body.alertsPending).toBe(0);
  });

  it('survives Halo failing, reports it in /healthz, and posts the waiting events once Halo is back', async () => {
    const { fakes, bot } = await setup();
    await nextPoll(bot);
    fakes.halo.fault = () => ({ kind: 'status', status: 503, body: '<html>Service Unavailable</html>' });
    const waiting = fakes.halo.addEvent();
    await waitFor('a failed poll', () => bot.logs.some((l) => l.includes('poll failed')));
    const degraded = await getJson(`${bot.url}/healthz`);
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(degraded.body).not.toHaveProperty('lastError');
    expect(typeof degraded.body.lastPollAt).toBe('string');
    fakes.halo.fault = undefined;
    const post = await fakes.slack.waitFor(() => fakes.slack.posts[0], 15_000);
    expect(JSON.stringify(post.blocks)).toContain(waiting.event_id);
    const healthy = await getJson(`${bot.url}/healthz`);
    expect(healthy.body.status).toBe('ok');
    await delay(10);
  });
});
