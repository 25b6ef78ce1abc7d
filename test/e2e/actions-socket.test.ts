/**
 * Issue 10's actions over Socket Mode: the same clicks, commands and Home tab as the HTTP tests, delivered as
 * `interactive`, `slash_commands` and `events_api` envelopes through the local stand-in and acked over the
 * WebSocket. Acknowledge, the Mute menu, /halo mute with its expiry line (the bot's clock moved forward), and the
 * Home tab for an admin and a non-admin, and an alert kept true once its event is deleted behind the bot's back;
 * what each user sees, then the audit rows in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_ACTION_ID, MUTE_MENU_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { openSqliteStore } from '../stores.ts';
import { buttonClickPayload } from '../../fakes/sign.ts';
import { slashCommandFields, startFakeSocketMode, type FakeSocketMode } from '../../fakes/socket-mode.ts';
import type { SlackPost } from '../../fakes/slack.ts';
import {
  botEnv,
  inProcessBot,
  startFakes,
  testClock,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
  TEST_SOCKET_TIMINGS,
} from '../harness.ts';

let fakes: Fakes;
let socket: FakeSocketMode;
let bot: InProcessBot;
let env: Record<string, string>;
let sequence = 0;
const clock = testClock();

beforeAll(async () => {
  fakes = await startFakes();
  socket = await startFakeSocketMode(fakes.slack);
  env = botEnv(fakes, {
    SLACK_APP_TOKEN: socket.appToken,
    SLACK_SIGNING_SECRET: '',
    HALO_ADMIN_USERS: 'UADMIN',
  });
  bot = await inProcessBot(env, { socketTimings: TEST_SOCKET_TIMINGS, clock });
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
});

afterAll(async () => {
  await bot.stop();
  await socket.close();
  await fakes.close();
});

async function answer(id: string): Promise<Record<string, unknown>> {
  return (await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id))).body;
}

async function command(text: string, user = 'UADMIN'): Promise<string> {
  const id = `sa-${++sequence}`;
  const ack = await socket.slashCommand(
    slashCommandFields({
      text,
      user_id: user,
      channel_id: 'CALERTS',
      response_url: fakes.slack.responseUrl(id),
    }),
  );
  expect(ack.envelopeId).toMatch(/^env-/);
  return visibleText(await answer(id));
}

async function act(
  user: string,
  post: SlackPost,
  actionId: string,
  value: string,
  selected?: string,
): Promise<Record<string, unknown>> {
  const id = `sa-${++sequence}`;
  const payload = buttonClickPayload({
    actionId,
    value,
    userId: user,
    channelId: 'CALERTS',
    responseUrl: fakes.slack.responseUrl(id),
    messageTs: post.ts,
    messageBlocks: post.blocks,
  });
  if (selected !== undefined) {
    const [action] = payload.actions as Record<string, unknown>[];
    delete action!.value;
    action!.type = 'static_select';
    action!.selected_option = { text: { type: 'plain_text', text: 'for 1 h' }, value: selected };
  }
  await socket.interactive(payload);
  return answer(id);
}

async function alertFor(targetId: number): Promise<{ eventId: string; post: SlackPost }> {
  const event = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: targetId });
  const post = await fakes.slack.waitFor(() =>
    fakes.slack.posts.find((p) => JSON.stringify(p.blocks).includes(`"value":"${event.event_id}"`)),
  );
  return { eventId: event.event_id, post };
}

async function home(user: string): Promise<string> {
  const before = fakes.slack.views.length;
  await socket.event({ type: 'app_home_opened', user, channel: 'DHOME', tab: 'home' });
  const view = await fakes.slack.waitFor(() =>
    fakes.slack.views.slice(before).find((v) => v.args.user_id === user),
  );
  return visibleText({ blocks: (view.args.view as { blocks: unknown[] }).blocks });
}

describe('alert actions over Socket Mode', () => {
  it('acknowledges in place for anyone, and a second person adds their name', async () => {
    const { eventId, post } = await alertFor(50);
    const first = await act('UALICE', post, ACK_ACTION_ID, eventId);
    expect(first.replace_original).toBe(true);
    expect(visibleText(first)).toMatch(/Acknowledged by <@UALICE> <!date[^>]+>$/m);
    expect(JSON.stringify(first.blocks)).not.toContain(`"action_id":"${ACK_ACTION_ID}"`);
    const second = await act('UBOB', post, ACK_ACTION_ID, eventId);
    expect(visibleText(second)).toMatch(/Acknowledged by <@UALICE> <!date[^>]+>, <@UBOB> <!date[^>]+>$/m);
  });

  it('updates an alert whose event was deleted behind its back, keeping who acknowledged it', async () => {
    const { eventId, post } = await alertFor(53);
    await act('UALICE', post, ACK_ACTION_ID, eventId);
    fakes.halo.events.splice(
      fakes.halo.events.findIndex((e) => e.event_id === eventId),
      1,
    );
    const updated = await fakes.slack.waitFor(() => post.updated);
    const shown = visibleText({ text: updated.text, blocks: updated.blocks });
    expect(shown).toMatch(/:eyes: Acknowledged by <@UALICE> <!date[^>]+>$/m);
    expect(shown).toMatch(/:ghost: This event no longer exists in Halo \(noticed <!date[^>]+>\)$/m);
    expect(updated.blocks.some((block) => (block as { type: string }).type === 'actions')).toBe(false);
  });

  it('mutes from the menu (admins only) and by command, and announces the end once', async () => {
    const { post } = await alertFor(51);
    const refused = await act('UALICE', post, MUTE_MENU_ACTION_ID, '', 't|1h|51|host51.example.com');
    expect(visibleText(refused)).toContain('You are not allowed to do that');
    const muted = await act('UADMIN', post, MUTE_MENU_ACTION_ID, '', 't|1h|51|host51.example.com');
    expect(visibleText(muted)).toMatch(/Muted host51\.example\.com \(target 51\) in <#CALERTS> for 1h/);
    expect(await command('mute key:domain-add for:30m')).toMatch(/Muted `domain-add` in <#CALERTS> for 30m/);
    expect(await command('mute key:domain-add for:99y')).toContain(
      'Usage: `/halo mute key:K [target:ID] for:DURATION`',
    );

    const held = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 51 });
    const other = fakes.halo.addEvent({ key: 'port-open', subject: 'New Open Port', target_id: 52 });
    await fakes.slack.waitFor(() =>
      fakes.slack.posts.find((p) => JSON.stringify(p.blocks).includes(other.event_id)),
    );
    const polls = bot.logs.filter((l) => l.includes('poll: done')).length;
    await waitFor(
      'two more polls',
      () => bot.logs.filter((l) => l.includes('poll: done')).length >= polls + 2,
    );
    expect(fakes.slack.posts.some((p) => JSON.stringify(p.blocks).includes(held.event_id))).toBe(false);
    expect(await command('status', 'UALICE')).toContain('Events muted (counted, not posted): 1');

    clock.advance(61 * 60_000);
    const line = await fakes.slack.waitFor(() =>
      fakes.slack.postsTo('CALERTS').find((p) => p.text.startsWith('The mute of host51')),
    );
    expect(visibleText(line as unknown as Record<string, unknown>)).toContain(
      'The mute of host51.example.com (target 51) in this channel has ended. It held back 1 event: `/halo events target:51` lists them.',
    );
  });

  it('shows the Home tab to an admin with buttons and to a member read-only', async () => {
    expect(await command('mute key:issue-new for:24h')).toContain('(mute #3)');
    const admin = await home('UADMIN');
    expect(admin).toContain('Connection to Slack: Socket Mode');
    expect(admin).toContain('Unmute');
    expect(admin).toMatch(/<@UALICE> acknowledged `event [^`]+` in <#CALERTS>/);
    const member = await home('UALICE');
    expect(member).toContain('Read-only');
    expect(member).not.toContain('\nUnmute\n');
  });

  it('wrote the audit rows', async () => {
    await bot.stop();
    const store = openSqliteStore(env.DATABASE_URL!.slice('sqlite:'.length));
    try {
      const rows = (await store.recentAudit(20)).reverse().map((e) => `${e.userId} ${e.action}`);
      expect(rows).toEqual([
        'UALICE acknowledge',
        'UBOB acknowledge',
        'UALICE acknowledge',
        'UADMIN mute',
        'UADMIN mute',
        'halo-slack mute_expired',
        'halo-slack mute_expired',
        'UADMIN mute',
      ]);
    } finally {
      await store.close();
    }
  });
});
