/**
 * People of several workspaces driving one bot in the distributed shape, over HTTP: "Add to Slack" (the OAuth
 * flow), `/halo connect` through its modal, `/halo …` commands, and the App Home. Each request is signed and
 * carries its workspace as Slack's do, so that Bolt's `authorize` resolves it to that workspace's installation.
 */
import { expect } from 'vitest';
import {
  blockActionBody,
  eventCallbackBody,
  postToBot,
  slashCommandBody,
  viewSubmissionPayload,
} from '../../fakes/sign.ts';
import type { FakeWorkspace } from '../../fakes/slack-oauth.ts';
import type { SlackCall } from '../../fakes/slack.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';
import { INSTALL_PATH, REDIRECT_PATH } from '../../src/slack/oauth.ts';
import { botEnv, SIGNING_SECRET, visibleText, type Fakes, type InProcessBot } from '../harness.ts';

const STATE_COOKIE = 'slack-app-oauth-state';
const ADMIN = 'UADMIN';
let sent = 0;

/** The distributed shape's settings, pointed at the fakes: no env token, key or channel; OAuth and a key. */
export function distributedEnv(fakes: Fakes, overrides: Record<string, string> = {}): Record<string, string> {
  const single = ['SLACK_BOT_TOKEN', 'HALO_API_KEY', 'HALO_ALERT_CHANNEL'];
  const rest = Object.fromEntries(
    Object.entries(botEnv(fakes, { HALO_ADMIN_USERS: ADMIN })).filter(([name]) => !single.includes(name)),
  );
  return {
    ...rest,
    SLACK_CLIENT_ID: fakes.slack.oauth.clientId,
    SLACK_CLIENT_SECRET: fakes.slack.oauth.clientSecret,
    SLACK_STATE_SECRET: 'state-secret-for-the-tests-only',
    HALO_ENCRYPTION_KEYS: Buffer.alloc(32, 5).toString('base64'),
    ...overrides,
  };
}

export interface Workspaces {
  /** "Add to Slack" from `workspace`: the install page, Slack's consent, the redirect. Resolves with its new token. */
  install(workspace: FakeWorkspace): Promise<string>;
  /** `/halo connect` from `team` and the modal's submission (name, key, no URL): the submission's answer. */
  connect(team: string, name: string, key: string): Promise<unknown>;
  /** `/halo TEXT` from an admin of `team` in `channel`: the private answer's visible text. */
  slash(team: string, text: string, channel: string): Promise<string>;
  /** The App Home tab of `team` as its admin opens it: the published view's blocks. */
  home(team: string): Promise<SlackCall>;
}

export function workspaces(fakes: Fakes, bot: InProcessBot): Workspaces {
  const post = async (body: string, contentType?: string): Promise<{ status: number; json: unknown }> => {
    const answer = await postToBot(bot.url, body, {
      signingSecret: SIGNING_SECRET,
      ...(contentType === undefined ? {} : { contentType }),
    });
    expect(answer.status).toBe(200);
    return answer;
  };
  const slashBody = (team: string, text: string, channel: string, id: string): string =>
    slashCommandBody({
      text,
      user_id: ADMIN,
      channel_id: channel,
      team_id: team,
      response_url: fakes.slack.responseUrl(id),
      trigger_id: `trigger-${id}`,
    });
  return {
    async install(workspace) {
      const page = await fetch(`${bot.url}${INSTALL_PATH}`);
      await page.text();
      const state = new RegExp(`${STATE_COOKIE}=([^;]+)`).exec(page.headers.get('set-cookie') ?? '')![1]!;
      const code = fakes.slack.oauth.grant(workspace);
      const done = await fetch(
        `${bot.url}${REDIRECT_PATH}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
        { headers: { cookie: `${STATE_COOKIE}=${state}` }, redirect: 'manual' },
      );
      await done.text();
      expect(done.status).toBe(200);
      const owner = workspace.isEnterpriseInstall === true ? workspace.enterpriseId : workspace.teamId;
      return [...fakes.slack.oauth.installs.values()]
        .filter((i) => (i.isEnterpriseInstall === true ? i.enterpriseId : i.teamId) === owner)
        .at(-1)!.token;
    },

    async connect(team, name, key) {
      const id = `connect-${++sent}`;
      const before = fakes.slack.calls.length;
      await post(slashBody(team, 'connect', 'CSETUP', id));
      const opened = await fakes.slack.waitFor(() =>
        fakes.slack.calls
          .slice(before)
          .find((c) => c.method === 'views.open' && c.args.trigger_id === `trigger-${id}`),
      );
      const modal = [...fakes.slack.openModals.keys()].at(-1)!;
      const input = (value: string | null) => ({ type: 'plain_text_input', value });
      const payload = viewSubmissionPayload({
        userId: ADMIN,
        modal: {
          id: modal,
          hash: fakes.slack.openModals.get(modal)!.hash,
          view: opened.args.view as Record<string, unknown>,
          values: {
            [CONNECT_IDS.name]: { [CONNECT_IDS.name]: input(name) },
            [CONNECT_IDS.key]: { [CONNECT_IDS.key]: input(key) },
            [CONNECT_IDS.url]: { [CONNECT_IDS.url]: input(null) },
          },
        },
      });
      payload.team = { id: team, domain: team.toLowerCase() };
      (payload.user as { team_id: string }).team_id = team;
      (payload.view as { team_id: string }).team_id = team;
      return (await post(blockActionBody(payload))).json;
    },

    async slash(team, text, channel) {
      const id = `cmd-${++sent}`;
      await post(slashBody(team, text, channel, id));
      const answer = await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id));
      return visibleText(answer.body);
    },

    async home(team) {
      const before = fakes.slack.views.length;
      const event = eventCallbackBody(
        { type: 'app_home_opened', user: ADMIN, channel: `DHOME${team}`, tab: 'home' },
        { teamId: team },
      );
      await post(event, 'application/json');
      return fakes.slack.waitFor(() => fakes.slack.views.slice(before).find((v) => v.args.user_id === ADMIN));
    },
  };
}

/** `waitFor` for a probe that asks the store (the harness's takes a synchronous one). */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The Halo keys of the tests of several accounts: workspace A's `prod` and `lab`, B's one account (`prod` too). */
export const ALPHA_BETA_KEYS = {
  prod: 'alpha-prod-halo-key-0000000000-PRD1',
  lab: 'alpha-lab-halo-key-00000000000-LAB2',
  beta: 'beta-prod-halo-key-0000000000-BET3',
} as const;

/**
 * Installs workspaces A (TA, Alpha) and B (TB, Beta) through the OAuth flow, then connects A's `prod` and `lab`
 * and B's `prod` through `/halo connect`'s modal (each key added to the Halo stand-in before the bot started).
 */
export async function installAlphaBeta(people: Workspaces): Promise<void> {
  await people.install({ teamId: 'TA', teamName: 'Alpha' });
  await people.install({ teamId: 'TB', teamName: 'Beta' });
  for (const [team, name, key] of [
    ['TA', 'prod', ALPHA_BETA_KEYS.prod],
    ['TA', 'lab', ALPHA_BETA_KEYS.lab],
    ['TB', 'prod', ALPHA_BETA_KEYS.beta],
  ] as const)
    expect(await people.connect(team, name, key)).toMatchObject({ response_action: 'update' });
}
