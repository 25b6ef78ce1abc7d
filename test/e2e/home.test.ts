/**
 * The App Home tab as Slack drives it over HTTP: the Events API's url_verification and a signed
 * `app_home_opened` callback, answered with `views.publish`; an admin's Unmute and Unsubscribe buttons
 * (block_actions from a view), and a non-admin's read-only page. What each user sees is the published view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOME_UNMUTE_ACTION_ID, HOME_UNSUBSCRIBE_ACTION_ID } from '../../src/slack/blocks/home-view.ts';
import { appHomeOpenedBody, blockActionBody, buttonClickPayload, postToBot } from '../../fakes/sign.ts';
import type { SlackCall } from '../../fakes/slack.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let admin: SlackUser;

beforeAll(async () => {
  fakes = await startFakes();
  bot = await inProcessBot(botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' }));
  admin = slackUser(fakes, bot, 'UADMIN');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const json = { signingSecret: SIGNING_SECRET, contentType: 'application/json' };

/** Opens the Home tab as `userId` and returns the view Slack then shows them. */
async function openHome(userId: string): Promise<SlackCall> {
  const before = fakes.slack.views.length;
  const ack = await postToBot(bot.url, appHomeOpenedBody(userId), json);
  expect(ack.status).toBe(200);
  return fakes.slack.waitFor(() => fakes.slack.views.slice(before).find((v) => v.args.user_id === userId));
}

const viewOf = (call: SlackCall) => call.args.view as { type: string; blocks: unknown[] };
const seen = (call: SlackCall): string => visibleText({ blocks: viewOf(call).blocks });

function buttonsOf(call: SlackCall): { action_id: string; value: string }[] {
  return (viewOf(call).blocks as { accessory?: { action_id: string; value: string } }[]).flatMap((b) =>
    b.accessory === undefined ? [] : [b.accessory],
  );
}

/** Clicks a button of the Home tab: a block_actions payload from a view, with no channel and no response_url. */
async function clickHome(
  userId: string,
  call: SlackCall,
  actionId: string,
  value: string,
): Promise<SlackCall> {
  const payload = buttonClickPayload({
    actionId,
    value,
    userId,
    channelId: 'DHOME',
    responseUrl: '',
    messageBlocks: viewOf(call).blocks,
  });
  delete payload.channel;
  delete payload.message;
  delete payload.response_url;
  payload.container = { type: 'view', view_id: 'V1' };
  payload.view = { id: 'V1', type: 'home', blocks: viewOf(call).blocks };
  const before = fakes.slack.views.length;
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  return fakes.slack.waitFor(() => fakes.slack.views.slice(before).find((v) => v.args.user_id === userId));
}

describe('the Events API over HTTP', () => {
  it('answers a signed url_verification with its challenge', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'challenge-3eZbrw1aBm', type: 'url_verification' });
    const ack = await postToBot(bot.url, body, json);
    expect(ack.status).toBe(200);
    expect(ack.json).toEqual({ challenge: 'challenge-3eZbrw1aBm' });
  });

  it('refuses an unsigned or wrongly signed url_verification and event callback', async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'c', type: 'url_verification' });
    expect((await postToBot(bot.url, body, { ...json, omitSignature: true })).status).toBe(401);
    expect((await postToBot(bot.url, body, { ...json, signature: 'v0=00' })).status).toBe(401);
    const before = fakes.slack.views.length;
    const event = await postToBot(bot.url, appHomeOpenedBody('UADMIN'), { ...json, signature: 'v0=00' });
    expect(event.status).toBe(401);
    const stale = await postToBot(bot.url, appHomeOpenedBody('UADMIN'), {
      ...json,
      timestampSec: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    expect(fakes.slack.views.length).toBe(before);
  });

  it('publishes nothing for the Messages tab', async () => {
    const before = fakes.slack.calls.length;
    const ack = await postToBot(bot.url, appHomeOpenedBody('UADMIN', 'messages'), json);
    expect(ack.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(fakes.slack.calls.slice(before).filter((c) => c.method === 'views.publish')).toEqual([]);
  });
});

describe('the Home tab', () => {
  it('shows health, each channel with its subscriptions and mutes, and the recent actions', async () => {
    await admin.slash('subscribe key:port-open', 'CSECOPS');
    await admin.slash('mute target:42 for:24h');

    const home = await openHome('UADMIN');
    expect(viewOf(home).type).toBe('home');
    const text = seen(home);
    expect(text).toContain('*:white_check_mark: Polling normally*');
    expect(text).toMatch(/Last successful poll: <!date\^\d+\^/);
    expect(text).toContain('Alerts waiting to be posted: 0 · could not be posted: 0');
    expect(text).toContain('Events muted (counted, not posted): 0');
    expect(text).toContain('Connection to Slack: HTTP');
    expect(text).toContain('*<#CALERTS>*');
    expect(text).toContain("From the bot's settings (HALO_ALERT_CHANNEL): every event");
    expect(text).toMatch(
      /:mute: Mute \*#1\*: target 42 until <!date\^\d+\^[^>]+>, by <@UADMIN>, held back no events/,
    );
    expect(text).toContain('*<#CSECOPS>*');
    expect(text).toContain('Subscription *#1*: key `port-open`, by <@UADMIN>');
    expect(text).toMatch(/<@UADMIN> muted `#1 target:42 for 24h` in <#CALERTS>/);
    expect(text).toMatch(/<@UADMIN> subscribed `#1 \/halo subscribe key:port-open` in <#CSECOPS>/);
    expect(text).not.toContain('Read-only');
    expect(buttonsOf(home)).toEqual([
      expect.objectContaining({ action_id: HOME_UNMUTE_ACTION_ID, value: '1' }),
      expect.objectContaining({ action_id: HOME_UNSUBSCRIBE_ACTION_ID, value: 'CSECOPS:1' }),
    ]);
  });

  it('shows a non-admin the same page read-only, and refuses a crafted click', async () => {
    const home = await openHome('UMEMBER');
    const text = seen(home);
    expect(text).toContain('*<#CSECOPS>*');
    expect(text).toContain('Subscription *#1*: key `port-open`');
    expect(text).toContain('Read-only: only the users in HALO_ADMIN_USERS');
    expect(buttonsOf(home)).toEqual([]);

    const after = await clickHome('UMEMBER', home, HOME_UNSUBSCRIBE_ACTION_ID, 'CSECOPS:1');
    expect(seen(after)).toContain('Subscription *#1*: key `port-open`');
    expect(visibleText(await admin.slash('subscriptions', 'CSECOPS'))).toContain('*#1*');

    // The Home tab's Unmute relies on the mute service's own check alone: a crafted click changes nothing.
    const unmuteTried = await clickHome('UMEMBER', home, HOME_UNMUTE_ACTION_ID, '1');
    expect(seen(unmuteTried)).toMatch(/:mute: Mute \*#1\*: target 42/);
    expect(visibleText(await admin.slash('mutes'))).toContain('*#1*');
  });

  it('lets an admin unmute and unsubscribe from it, and lists those actions', async () => {
    const home = await openHome('UADMIN');
    const unmuted = await clickHome('UADMIN', home, HOME_UNMUTE_ACTION_ID, '1');
    expect(seen(unmuted)).not.toContain(':mute: Mute *#1*');
    expect(seen(unmuted)).toMatch(/<@UADMIN> unmuted `#1 target:42` in <#CALERTS>/);

    const unsubscribed = await clickHome('UADMIN', unmuted, HOME_UNSUBSCRIBE_ACTION_ID, 'CSECOPS:1');
    const text = seen(unsubscribed);
    expect(text).not.toContain('*<#CSECOPS>*');
    expect(text).toMatch(/<@UADMIN> unsubscribed `#1 \/halo subscribe key:port-open` in <#CSECOPS>/);
    expect(buttonsOf(unsubscribed)).toEqual([]);
    expect(visibleText(await admin.slash('mutes'))).toContain('<#CALERTS> has no mutes.');
    expect(visibleText(await admin.slash('subscriptions', 'CSECOPS'))).toContain('has no subscriptions');
  });
});
