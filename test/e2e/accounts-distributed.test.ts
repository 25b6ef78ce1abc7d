/**
 * Issue 19's commands in the distributed shape, over HTTP: two workspaces install the app (OAuth), each connects
 * an account named `prod` through `/halo connect`'s modal, each with its own Halo and key. A request of one
 * workspace sees and acts on its own account only, whatever it names: `/halo accounts` lists its own, a Delete
 * button or a disconnect confirmation carrying the other workspace's account ID does nothing, and the other
 * workspace's Halo is never called with anything of this one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHalo, type FakeHalo } from '../../fakes/halo.ts';
import {
  blockActionBody,
  buttonClickPayload,
  postToBot,
  slashCommandBody,
  viewSubmissionPayload,
} from '../../fakes/sign.ts';
import type { FakeWorkspace } from '../../fakes/slack-oauth.ts';
import { DISCONNECT_ACTION_ID } from '../../src/slack/blocks/accounts-message.ts';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';
import { INSTALL_PATH, REDIRECT_PATH } from '../../src/slack/oauth.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  visibleText,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

const ACME: FakeWorkspace = { teamId: 'TACME', teamName: 'Acme' };
const BETA: FakeWorkspace = { teamId: 'TBETA', teamName: 'Beta' };
const KEY_A = 'acme-halo-key-000000000000000-AAAA';
const KEY_B = 'beta-halo-key-111111111111111-BBBB';

let fakes: Fakes;
let beta: FakeHalo;
let bot: InProcessBot;
let sent = 0;

beforeAll(async () => {
  fakes = await startFakes({ halo: { apiKey: KEY_A } });
  fakes.halo.addEvent({ event_id: 'ev-a', key: 'domain-add' });
  beta = await startFakeHalo({ apiKey: KEY_B });
  beta.addEvent({ event_id: 'ev-b', key: 'domain-add' });
  const single = ['SLACK_BOT_TOKEN', 'HALO_API_KEY', 'HALO_ALERT_CHANNEL'];
  const env = Object.fromEntries(
    Object.entries(botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' })).filter(([name]) => !single.includes(name)),
  );
  bot = await inProcessBot({
    ...env,
    SLACK_CLIENT_ID: fakes.slack.oauth.clientId,
    SLACK_CLIENT_SECRET: fakes.slack.oauth.clientSecret,
    SLACK_STATE_SECRET: 'state-secret-for-the-tests-only',
    HALO_ENCRYPTION_KEYS: Buffer.alloc(32, 9).toString('base64'),
    HALO_ALLOWED_API_URLS: beta.url,
  });
  for (const workspace of [ACME, BETA]) await install(workspace);
  expect(await connect('TACME', KEY_A, null)).toMatchObject({ response_action: 'update' });
  expect(await connect('TBETA', KEY_B, beta.url)).toMatchObject({ response_action: 'update' });
});

afterAll(async () => {
  await bot.stop();
  await beta.close();
  await fakes.close();
});

/** "Add to Slack": the install page's state and cookie, Slack's code, the redirect. */
async function install(workspace: FakeWorkspace): Promise<void> {
  const page = await fetch(`${bot.url}${INSTALL_PATH}`);
  await page.text();
  const state = /slack-app-oauth-state=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
  const code = fakes.slack.oauth.grant(workspace);
  const done = await fetch(`${bot.url}${REDIRECT_PATH}?code=${code}&state=${encodeURIComponent(state)}`, {
    headers: { cookie: `slack-app-oauth-state=${state}` },
    redirect: 'manual',
  });
  await done.text();
  expect(done.status).toBe(200);
}

/** A request from `team`, as its payload says (Bolt's authorize resolves the installation by it). */
function from(team: string, payload: Record<string, unknown>): Record<string, unknown> {
  payload.team = { id: team, domain: team.toLowerCase() };
  (payload.user as { team_id: string }).team_id = team;
  return payload;
}

async function answerOf(id: string): Promise<string> {
  return visibleText((await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id))).body);
}

/** `/halo TEXT` from `team`: the private answer's visible text. */
async function slash(team: string, text: string): Promise<{ text: string; body: Record<string, unknown> }> {
  const id = `cmd-${++sent}`;
  const body = slashCommandBody({
    text,
    user_id: 'UADMIN',
    channel_id: 'CSEC',
    team_id: team,
    response_url: fakes.slack.responseUrl(id),
    trigger_id: `trigger-${id}`,
  });
  expect((await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
  const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id));
  return { text: visibleText(answer.body), body: answer.body };
}

/** A click on a button (`actionId`, `value`) from `team`: the answer's visible text. */
async function click(team: string, actionId: string, value: string): Promise<string> {
  const id = `act-${++sent}`;
  const payload = from(
    team,
    buttonClickPayload({
      actionId,
      value,
      userId: 'UADMIN',
      channelId: 'CSEC',
      responseUrl: fakes.slack.responseUrl(id),
    }),
  );
  expect((await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET })).status).toBe(
    200,
  );
  return answerOf(id);
}

/** `/halo connect` from `team` and the modal's submission: an account named `prod` with `key` at `url`. */
async function connect(team: string, key: string, url: string | null): Promise<unknown> {
  const before = fakes.slack.calls.length;
  expect((await slash(team, 'connect')).text).toContain('The connect dialog is open');
  const opened = await fakes.slack.waitFor(() =>
    fakes.slack.calls.slice(before).find((c) => c.method === 'views.open'),
  );
  const id = [...fakes.slack.openModals.keys()].at(-1)!;
  const input = (value: string | null) => ({ type: 'plain_text_input', value });
  const payload = from(
    team,
    viewSubmissionPayload({
      userId: 'UADMIN',
      modal: {
        id,
        hash: fakes.slack.openModals.get(id)!.hash,
        view: opened.args.view as Record<string, unknown>,
        values: {
          [CONNECT_IDS.name]: { [CONNECT_IDS.name]: input('prod') },
          [CONNECT_IDS.key]: { [CONNECT_IDS.key]: input(key) },
          [CONNECT_IDS.url]: { [CONNECT_IDS.url]: input(url) },
        },
      },
    }),
  );
  (payload.view as { team_id: string }).team_id = team;
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  return ack.json;
}

/** The Delete button's value on an answer (an alert holds its blocks in an attachment). */
function deleteValue(body: Record<string, unknown>): string {
  const blocks = [
    ...((body.blocks ?? []) as unknown[]),
    ...((body.attachments ?? []) as { blocks?: unknown[] }[]).flatMap((a) => a.blocks ?? []),
  ] as { type: string; elements?: { action_id: string; value: string }[] }[];
  return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === DELETE_ACTION_ID)!.value;
}

describe('accounts in the distributed shape: each workspace its own', () => {
  it('lists each workspace’s own account only', async () => {
    const acme = (await slash('TACME', 'accounts')).text;
    const betaAccounts = (await slash('TBETA', 'accounts')).text;
    expect(acme).toContain('key …AAAA');
    expect(acme).not.toContain('…BBBB');
    expect(betaAccounts).toContain('key …BBBB');
    expect(betaAccounts).not.toContain('…AAAA');
  });

  it('asks each workspace’s own Halo, with its own key', async () => {
    expect((await slash('TACME', 'event ev-a')).text).toContain('ev-a');
    // Beta's event, named from Acme: Acme's Halo is asked (and knows none such); Beta's is not.
    const asked = beta.requests.length;
    expect((await slash('TACME', 'event ev-b')).text).not.toContain('Domain Added');
    expect(beta.requests.length).toBe(asked);
    expect(fakes.halo.requests.some((r) => r.apiKey === KEY_B)).toBe(false);
    expect(beta.requests.some((r) => r.apiKey === KEY_A)).toBe(false);
  });

  it('a Delete button or a disconnect of another workspace’s account does nothing', async () => {
    const value = deleteValue((await slash('TBETA', 'event ev-b')).body);
    const betaAccount = (JSON.parse(value) as { a: string }).a;
    expect(await click('TACME', DELETE_ACTION_ID, value)).toContain('not connected to this workspace');
    expect(beta.events.some((e) => e.event_id === 'ev-b')).toBe(true);
    expect(await click('TACME', DISCONNECT_ACTION_ID, betaAccount)).toContain(
      'That account is not connected to this workspace',
    );
    expect((await slash('TBETA', 'accounts')).text).toContain('key …BBBB');
    // From its own workspace, the same button deletes.
    expect(await click('TBETA', DELETE_ACTION_ID, value)).toContain('Deleted by');
    expect(beta.events.some((e) => e.event_id === 'ev-b')).toBe(false);
  });
});
