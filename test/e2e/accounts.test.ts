/**
 * Issue 19, "Connecting Halo accounts from Slack", in the single-workspace shape with HALO_ENCRYPTION_KEYS, over
 * HTTP with signed requests: `/halo connect` opens a modal (views.open) and its submission (view_submission)
 * checks the key with one `types.json` call before saving it (a wrong key: an inline error, nothing saved; a URL
 * not allowed: an inline error, Halo not asked); `/halo accounts` shows the key's last 4 characters and never the
 * key; `account:NAME` sends `/halo types|events|event` to that account's Halo with its key; Delete deletes in the
 * account the answer came from; `/halo disconnect NAME` asks, and the confirmation removes it. The second account
 * is a second Halo stand-in with its own key, at an address HALO_ALLOWED_API_URLS allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import { blockActionBody, postToBot, slashCommandBody, viewSubmissionPayload } from '../../fakes/sign.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';
import { DELETE_ACTION_ID, MUTE_MENU_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { DISCONNECT_ACTION_ID } from '../../src/slack/blocks/accounts-message.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser, text, type Body, type SlackUser } from './user.ts';

const MAIN_KEY = 'main-halo-key-0123456789abcdef-M41N';
const SECOND_KEY = 'second-halo-key-9876543210fedcba-S3C0';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

let fakes: Fakes;
let second: FakeHalo;
let bot: InProcessBot;
let admin: SlackUser;
let member: SlackUser;

beforeAll(async () => {
  fakes = await startFakes({ halo: { apiKey: MAIN_KEY } });
  fakes.halo.addEvent({ event_id: 'ev-main', key: 'domain-add', subject: 'Domain Added' });
  second = await startFakeHalo({
    apiKey: SECOND_KEY,
    types: [{ subject: 'Only In Second', key: 'second-only' }],
  });
  second.addEvent({ event_id: 'ev-second', key: 'second-only', subject: 'Only In Second' });
  bot = await inProcessBot(
    botEnv(fakes, {
      HALO_ADMIN_USERS: 'UADMIN',
      HALO_ACCOUNT_NAME: 'Main',
      HALO_ENCRYPTION_KEYS: ENCRYPTION_KEY,
      HALO_ALLOWED_API_URLS: second.url,
    }),
  );
  admin = slackUser(fakes, bot, 'UADMIN');
  member = slackUser(fakes, bot, 'UMEMBER');
});

afterAll(async () => {
  await bot.stop();
  await second.close();
  await fakes.close();
});

const typesCalls = (halo: FakeHalo, key: string) =>
  halo.requests.filter((r) => r.path.endsWith('/event/types.json') && r.apiKey === key).length;

/** `/halo connect`, then the modal's submission with these fields; the submission's answer (the ack's body). */
async function connect(fields: {
  name: string;
  key: string;
  url?: string;
}): Promise<Record<string, unknown>> {
  const before = fakes.slack.modals.length;
  expect(text(await admin.slash('connect'))).toContain('The connect dialog is open');
  const opened = await fakes.slack.waitFor(() =>
    fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
  );
  const view = opened.args.view as Record<string, unknown>;
  expect(view.callback_id).toBe(CONNECT_IDS.callback);
  const input = (value: string | undefined) => ({ type: 'plain_text_input', value: value ?? null });
  const id = [...fakes.slack.openModals.keys()].at(-1)!;
  const payload = viewSubmissionPayload({
    userId: 'UADMIN',
    modal: {
      id,
      hash: fakes.slack.openModals.get(id)!.hash,
      view,
      values: {
        [CONNECT_IDS.name]: { [CONNECT_IDS.name]: input(fields.name) },
        [CONNECT_IDS.key]: { [CONNECT_IDS.key]: input(fields.key) },
        [CONNECT_IDS.url]: { [CONNECT_IDS.url]: input(fields.url) },
      },
    },
  });
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  return ack.json as Record<string, unknown>;
}

/** An answer's blocks: a coloured one (an alert) holds them in its attachment. */
function blocksOf(body: Body): unknown[] {
  const attachments = (body.attachments ?? []) as { blocks?: unknown[] }[];
  return [...((body.blocks ?? []) as unknown[]), ...attachments.flatMap((a) => a.blocks ?? [])];
}

/** The buttons of an answer: action ID and value. */
function buttons(body: Body): { action_id: string; value: string }[] {
  return (blocksOf(body) as { type: string; elements?: { action_id: string; value: string }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

describe('connecting Halo accounts from Slack (single workspace, HALO_ENCRYPTION_KEYS set)', () => {
  it('lists the env account by HALO_ACCOUNT_NAME, with its key’s last 4 characters only', async () => {
    const answer = text(await member.slash('accounts'));
    expect(answer).toContain('Main');
    expect(answer).toContain('key …M41N');
    expect(answer).not.toContain(MAIN_KEY);
  });

  it('serves a command from another workspace nothing of this one', async () => {
    const body = slashCommandBody({
      text: 'accounts',
      user_id: 'UADMIN',
      channel_id: 'CALERTS',
      team_id: 'T2',
      response_url: fakes.slack.responseUrl('other-team'),
    });
    expect((await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
    const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === 'other-team'));
    expect(text(answer.body)).toContain('This workspace is not served by this Halo Security bot.');
  });

  it('opens nothing for a user who is not an admin', async () => {
    const before = fakes.slack.modals.length;
    expect(text(await member.slash('connect'))).toContain('You are not allowed');
    expect(fakes.slack.modals.slice(before).filter((c) => c.method === 'views.open')).toEqual([]);
  });

  it('refuses a wrong key inline, after one types.json call with it, and saves nothing', async () => {
    const wrong = 'wrong-halo-key-000000000000-W0NG';
    const answer = await connect({ name: 'Second', key: wrong, url: second.url });
    expect(answer).toEqual({
      response_action: 'errors',
      errors: {
        [CONNECT_IDS.key]: 'Halo refused this key: check it (Halo: Account → API) and paste it again.',
      },
    });
    expect(typesCalls(second, wrong)).toBe(1);
    expect(text(await admin.slash('accounts'))).not.toContain('Second');
  });

  it('refuses an API URL that HALO_ALLOWED_API_URLS does not list, asking no one', async () => {
    // The env account's polls go on meanwhile: the key it was given is what must not have travelled.
    const sent = () =>
      second.requests.length + fakes.halo.requests.filter((r) => r.apiKey === SECOND_KEY).length;
    const requests = sent();
    const answer = await connect({ name: 'Inside', key: SECOND_KEY, url: 'http://127.0.0.1:9/api/v1' });
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors as object)).toEqual([CONNECT_IDS.url]);
    expect(sent()).toBe(requests);
    expect(text(await admin.slash('accounts'))).not.toContain('Inside');
  });

  it('saves a good key, and shows it nowhere but by its last 4 characters', async () => {
    const answer = await connect({ name: 'Second', key: SECOND_KEY, url: second.url });
    expect(answer.response_action).toBe('update');
    const shown = JSON.stringify(answer);
    expect(shown).toContain('Second');
    expect(shown).toContain('…S3C0');
    expect(shown).not.toContain(SECOND_KEY);
    expect(typesCalls(second, SECOND_KEY)).toBe(1);
    const accounts = text(await admin.slash('accounts'));
    expect(accounts).toContain('Main');
    expect(accounts).toContain('Second');
    expect(accounts).toContain('key …S3C0');
    expect(accounts).not.toContain(SECOND_KEY);
    expect(bot.logs.join('\n')).not.toContain(SECOND_KEY);
    expect(fakes.slack.calls.some((c) => JSON.stringify(c.args).includes(SECOND_KEY))).toBe(false);
  });

  it('with two accounts, asks which; account:NAME routes to that account’s Halo and key alone', async () => {
    expect(text(await admin.slash('types'))).toContain(
      'This workspace has 2 Halo accounts: say which with account:NAME (account:Main, account:Second).',
    );
    expect(text(await admin.slash('types account:Nope'))).toContain('no Halo account named “Nope”');
    // The sample alert needs no account.
    expect(text(await admin.slash('test'))).toContain('Posted a test alert in this channel');
    const secondTypes = text(await admin.slash('types account:Second'));
    expect(secondTypes).toContain('Only In Second');
    expect(text(await admin.slash('types account:main'))).not.toContain('Only In Second');
    expect(text(await admin.slash('events account:Second'))).toContain('ev-second');
    expect(text(await admin.slash('events account:Main'))).toContain('ev-main');
    expect(text(await admin.slash('event ev-second account:Main'))).not.toContain('Only In Second');
    // Each Halo saw its own key only.
    expect(fakes.halo.requests.some((r) => r.apiKey === SECOND_KEY)).toBe(false);
    expect(second.requests.every((r) => r.apiKey !== MAIN_KEY)).toBe(true);
  });

  it('the Mute menu and the subscribe dialog act in the account they name, and nothing for an unknown one', async () => {
    const answer = await admin.slash('event ev-second account:Second');
    const del = buttons(answer).find((b) => b.action_id === DELETE_ACTION_ID)!;
    const secondId = (JSON.parse(del.value) as { a: string }).a;
    const pick = (value: string) =>
      admin.act({
        actionId: MUTE_MENU_ACTION_ID,
        value: '',
        blocks: [],
        selected: { text: 'for 1 h', value },
      });
    expect(text(await pick('@not-an-account|k|1h|second-only'))).toContain('not connected to this workspace');
    expect(text(await pick(`@${secondId}|k|1h|second-only`))).toContain('Muted');
    expect(text(await admin.slash('mutes account:Second'))).toContain('second-only');
    expect(text(await admin.slash('mutes account:Main'))).not.toContain('second-only');
    // The dialog opens on the named account's catalogue, and its metadata names that account.
    const before = fakes.slack.modals.length;
    expect(text(await admin.slash('subscribe account:Second'))).toContain('The subscribe dialog is open');
    const opened = await fakes.slack.waitFor(() =>
      fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
    );
    const view = opened.args.view as { private_metadata: string };
    expect(JSON.parse(view.private_metadata)).toEqual({ a: secondId, e: null });
    expect(JSON.stringify(view)).toContain('Only In Second');
  });

  it('lists a channel’s subscriptions and mutes of every account, and removes one by ID whichever holds it', async () => {
    const idOf = (answer: string): number => Number(/#(\d+)/.exec(answer)![1]);
    const second = idOf(text(await admin.slash('subscribe key:second-only account:Second')));
    const main = idOf(text(await admin.slash('subscribe key:domain-add account:Main')));
    const listed = text(await admin.slash('subscriptions'));
    expect(listed).toContain(`#${second}`);
    expect(listed).toContain(`#${main}`);
    expect(text(await member.slash(`unsubscribe ${second}`))).toContain('You are not allowed');
    expect(text(await admin.slash(`unsubscribe ${second}`))).toContain(`Removed subscription #${second}.`);
    expect(text(await admin.slash('subscriptions account:Second'))).not.toContain(`#${second}`);
    expect(text(await admin.slash('subscriptions account:Main'))).toContain(`#${main}`);
    const mutes = text(await admin.slash('mutes'));
    expect(mutes).toContain('second-only');
    const mute = idOf(mutes);
    expect(text(await admin.slash(`unmute ${mute}`))).toContain('Unmuted');
    expect(text(await admin.slash('mutes account:Second'))).not.toContain('second-only');
  });

  it('posts a connected account’s alert with buttons that act in that account', async () => {
    expect(text(await admin.slash('subscribe key:second-only account:Second', 'CSECOND'))).toContain(
      'Subscribed',
    );
    second.addEvent({ event_id: 'ev-second-new', key: 'second-only', subject: 'Only In Second' });
    const post = await fakes.slack.waitFor(
      () =>
        fakes.slack.posts.find(
          (p) => p.channel === 'CSECOND' && JSON.stringify(p.blocks).includes('ev-second-new'),
        ),
      20_000,
    );
    const del = buttons({ blocks: post.blocks }).find((b) => b.action_id === DELETE_ACTION_ID)!;
    expect(JSON.parse(del.value)).toEqual({ a: expect.any(String) as unknown, e: 'ev-second-new' });
    const done = await admin.act({
      actionId: DELETE_ACTION_ID,
      value: del.value,
      blocks: post.blocks,
      channel: 'CSECOND',
      messageTs: post.ts,
    });
    expect(text(done)).toContain('Deleted by');
    expect(second.events.some((e) => e.event_id === 'ev-second-new')).toBe(false);
  });

  it('Delete deletes in the account the answer came from, and a forged account does nothing', async () => {
    const answer = await admin.slash('event ev-second account:Second');
    const del = buttons(answer).find((b) => b.action_id === DELETE_ACTION_ID)!;
    expect(JSON.parse(del.value)).toEqual({ a: expect.any(String) as unknown, e: 'ev-second' });
    const forged = JSON.stringify({ a: 'not-an-account', e: 'ev-second' });
    expect(
      text(await admin.act({ actionId: DELETE_ACTION_ID, value: forged, blocks: blocksOf(answer) })),
    ).toContain('not connected to this workspace');
    expect(second.events.some((e) => e.event_id === 'ev-second')).toBe(true);
    const done = await admin.act({ actionId: DELETE_ACTION_ID, value: del.value, blocks: blocksOf(answer) });
    expect(text(done)).toContain('Deleted by');
    expect(second.events.some((e) => e.event_id === 'ev-second')).toBe(false);
    expect(fakes.halo.requests.some((r) => r.path.endsWith('/delete.json'))).toBe(false);
  });

  it('disconnects after a confirmation, saying what it removed; the env account stays', async () => {
    expect(text(await admin.slash('disconnect Main'))).toContain('set by HALO_API_KEY');
    expect(text(await member.slash('disconnect Second'))).toContain('You are not allowed');
    const ask = await admin.slash('disconnect Second');
    expect(text(ask)).toContain('Disconnect the Halo account *Second* (key …S3C0)?');
    const confirm = buttons(ask).find((b) => b.action_id === DISCONNECT_ACTION_ID)!;
    expect(
      text(await member.act({ actionId: DISCONNECT_ACTION_ID, value: confirm.value, blocks: blocksOf(ask) })),
    ).toContain('You are not allowed');
    const done = text(
      await admin.act({ actionId: DISCONNECT_ACTION_ID, value: confirm.value, blocks: blocksOf(ask) }),
    );
    expect(done).toContain('Disconnected Second: its key (…S3C0) is deleted and its polling stops. Removed');
    const accounts = text(await admin.slash('accounts'));
    expect(accounts).toContain('Main');
    expect(accounts).not.toContain('Second');
    // One account again: no account:NAME needed.
    expect(text(await admin.slash('types'))).toContain('Domain Added');
    expect(
      text(await admin.act({ actionId: DISCONNECT_ACTION_ID, value: confirm.value, blocks: blocksOf(ask) })),
    ).toContain('not connected to this workspace');
  });
});

describe('connecting without HALO_ENCRYPTION_KEYS', () => {
  it('answers what to set, and opens nothing', async () => {
    const plain = await startFakes();
    const running = await inProcessBot(botEnv(plain, { HALO_ADMIN_USERS: 'UADMIN' }));
    try {
      const answer = text(await slackUser(plain, running, 'UADMIN').slash('connect'));
      expect(answer).toContain('set HALO_ENCRYPTION_KEYS');
      expect(plain.slack.modals.filter((c) => c.method === 'views.open')).toEqual([]);
    } finally {
      await running.stop();
      await plain.close();
    }
  });
});
