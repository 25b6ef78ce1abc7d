/**
 * The alert's Acknowledge button and Mute menu, clicked as Slack sends the clicks (signed block_actions carrying
 * the alert as it sits in the channel). What each user sees is the response_url post: the alert replaced in
 * place, or a private answer; the audit rows are read from the store once the bot has stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_ACTION_ID, DELETE_ACTION_ID, MUTE_MENU_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { openSqliteStore } from '../stores.ts';
import type { FakeHaloEvent } from '../../fakes/halo.ts';
import { visible, type SlackPost } from '../../fakes/slack.ts';
import { botEnv, inProcessBot, startFakes, waitFor, type Fakes, type InProcessBot } from '../harness.ts';
import { slackUser, text, type Body, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let env: Record<string, string>;
let admin: SlackUser;
let alice: SlackUser;
let bob: SlackUser;

beforeAll(async () => {
  fakes = await startFakes();
  env = botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' });
  bot = await inProcessBot(env);
  admin = slackUser(fakes, bot, 'UADMIN');
  alice = slackUser(fakes, bot, 'UALICE');
  bob = slackUser(fakes, bot, 'UBOB');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const postedFor = (eventId: string): SlackPost | undefined =>
  fakes.slack.posts.find((post) => JSON.stringify(post.blocks).includes(`"value":"${eventId}"`));

async function alertFor(partial: Partial<FakeHaloEvent> & { target_id?: number }) {
  const event = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', ...partial });
  const alert = await fakes.slack.waitFor(() => postedFor(event.event_id));
  return { event, alert };
}

const actionIds = (body: Body): string[] =>
  (visible(body).blocks as { type: string; elements?: { action_id: string }[] }[]).flatMap((block) =>
    block.type === 'actions' ? (block.elements ?? []).map((e) => e.action_id) : [],
  );

describe('Acknowledge', () => {
  it('is on every alert, beside Delete and the Mute menu', async () => {
    const { alert } = await alertFor({ target_id: 42 });
    expect(actionIds(alert as unknown as Body)).toEqual([
      ACK_ACTION_ID,
      DELETE_ACTION_ID,
      MUTE_MENU_ACTION_ID,
    ]);
  });

  it('updates the alert in place for anyone: who and when, and its button goes; a second person adds their name', async () => {
    const { event, alert } = await alertFor({ target_id: 42 });
    const press = (user: SlackUser, blocks: unknown[]) =>
      user.act({ actionId: ACK_ACTION_ID, value: event.event_id, blocks, messageTs: alert.ts });

    const first = await press(alice, alert.blocks);
    expect(first.replace_original).toBe(true);
    expect(text(first)).toMatch(
      /:eyes: Acknowledged by <@UALICE> <!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>$/m,
    );
    expect(first.text).toBe(`Halo event ${event.event_id} acknowledged by <@UALICE>`);
    expect(actionIds(first)).toEqual([DELETE_ACTION_ID, MUTE_MENU_ACTION_ID]);
    // The rest of the alert stays as it was.
    expect(visible(first).blocks[0]).toEqual(alert.blocks[0]);
    // It keeps its severity colour: Slack handed it back in an attachment, colour without its '#'.
    expect(alert.color).toMatch(/^#[0-9A-F]{6}$/i);
    expect(visible(first).color).toBe(alert.color);

    // Bob's Slack had not refreshed yet: his click carries the alert with the button still on it.
    const second = await press(bob, alert.blocks);
    expect(text(second)).toMatch(/Acknowledged by <@UALICE> <!date[^>]+>, <@UBOB> <!date[^>]+>$/m);
    expect(actionIds(second)).toEqual([DELETE_ACTION_ID, MUTE_MENU_ACTION_ID]);
    // A repeat changes nothing.
    const again = await press(alice, visible(first).blocks);
    expect(text(again)).toMatch(/Acknowledged by <@UALICE> <!date[^>]+>, <@UBOB> <!date[^>]+>$/m);
    expect(
      (visible(again).blocks as { block_id?: string }[]).filter((b) => b.block_id === 'halo_acked'),
    ).toHaveLength(1);
  });
});

describe('the Mute menu', () => {
  it('is refused to someone who may not change subscriptions, privately', async () => {
    const { alert } = await alertFor({ target_id: 43 });
    const answer = await alice.act({
      actionId: MUTE_MENU_ACTION_ID,
      value: '',
      blocks: alert.blocks,
      selected: { text: 'for 1 h', value: 't|1h|43|host43.example.com' },
    });
    expect(answer.response_type).toBe('ephemeral');
    expect(text(answer)).toContain('You are not allowed to do that');
    expect(text(await admin.slash('mutes'))).toContain('<#CALERTS> has no mutes.');
  });

  it("mutes the alert's target in this channel: its events are held back, others are posted", async () => {
    const { alert } = await alertFor({ target_id: 43 });
    const answer = await admin.act({
      actionId: MUTE_MENU_ACTION_ID,
      value: '',
      blocks: alert.blocks,
      selected: { text: 'for 24 h', value: 't|24h|43|host43.example.com' },
    });
    expect(answer.response_type).toBe('ephemeral');
    expect(text(answer)).toMatch(
      /:mute: Muted host43\.example\.com \(target 43\) in <#CALERTS> for 24h, until <!date[^>]+> \(mute #1\)/,
    );
    expect(text(answer)).toContain('Critical events still come through');

    const held = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 43 });
    const other = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 44 });
    await fakes.slack.waitFor(() => postedFor(other.event_id));
    const polls = bot.logs.filter((l) => l.includes('poll: done')).length;
    await waitFor('another poll', () => bot.logs.filter((l) => l.includes('poll: done')).length > polls + 1);
    expect(postedFor(held.event_id)).toBeUndefined();
    expect(text(await alice.slash('mutes'))).toMatch(
      /\*#1\*: host43\.example\.com \(target 43\) until <!date[^>]+>, by <@UADMIN>, held back 1 event/,
    );
  });

  it("mutes the alert's event type from the menu too", async () => {
    const { alert } = await alertFor({ target_id: 45, key: 'domain-add', subject: 'Domain Added' });
    const answer = await admin.act({
      actionId: MUTE_MENU_ACTION_ID,
      value: '',
      blocks: alert.blocks,
      selected: { text: 'for 1 h', value: 'k|1h|domain-add' },
    });
    expect(text(answer)).toMatch(
      /:mute: Muted `domain-add` in <#CALERTS> for 1h, until <!date[^>]+> \(mute #2\)/,
    );
  });

  it('answers a forged option privately and changes nothing', async () => {
    const answer = await admin.act({
      actionId: MUTE_MENU_ACTION_ID,
      value: '',
      blocks: [],
      selected: { text: 'for 99 y', value: 'k|99y|domain-add' },
    });
    expect(text(answer)).toContain('This menu is out of date; use /halo mute instead.');
    expect(text(await admin.slash('mutes'))).not.toContain('#3');
  });
});

describe('the audit log', () => {
  it('has one row per acknowledgement and mute', async () => {
    await bot.stop();
    const store = openSqliteStore(env.DATABASE_URL!.slice('sqlite:'.length));
    try {
      const rows = (await store.recentAudit(20)).reverse().map((e) => [e.userId, e.action, e.channel]);
      expect(rows).toEqual([
        ['UALICE', 'acknowledge', 'CALERTS'],
        ['UBOB', 'acknowledge', 'CALERTS'],
        ['UADMIN', 'mute', 'CALERTS'],
        ['UADMIN', 'mute', 'CALERTS'],
      ]);
    } finally {
      await store.close();
    }
  });
});
