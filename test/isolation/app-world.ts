/**
 * The app-level isolation suite's world (issue 19): the real bot in process over HTTP in the distributed shape,
 * 3 workspaces (one an org-wide Enterprise Grid install) installed through the OAuth flow of the Slack
 * stand-in, 2 Halo accounts each connected through `/halo connect`'s modal (one Halo stand-in serving 6 keys),
 * each account subscribed in its own channel, and alerts posted by the fleet (real event IDs, message ts and
 * button values to forge).
 *
 * Two phases: the bot that installs, connects and posts alerts polls every 250 ms; it is then stopped and
 * started again on the same database with an hour between polls, so that while the steps run no background
 * poll or post calls Slack or Halo, and every call the fakes record is the step's.
 */
import { expect } from 'vitest';
import type { FakeHaloAccount } from '../../fakes/halo.ts';
import { postToBot, slashCommandBody, viewSubmissionPayload } from '../../fakes/sign.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';
import { INSTALL_PATH, REDIRECT_PATH } from '../../src/slack/oauth.ts';
import { buttonsOf, type Shown } from './app-shown.ts';
import {
  botEnv,
  FAST_DELAYS,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

export interface AccountFixture {
  readonly name: string;
  /** The registry's opaque ID (`a` + 12 hex digits). */
  id: string;
  readonly apiKey: string;
  readonly hint: string;
  readonly halo: FakeHaloAccount;
  /** Its channel, where it is subscribed and its alerts go. */
  readonly channel: string;
  readonly host: string;
  readonly eventIds: string[];
}

export interface WorkspaceFixture {
  readonly index: number;
  /** The workspace key: the enterprise ID of the org-wide install, the team ID otherwise. */
  readonly key: string;
  /** The team requests come from (an org-wide install serves any team of the organisation). */
  readonly teamId: string;
  readonly enterpriseId: string | null;
  readonly orgWide: boolean;
  token: string;
  readonly admin: string;
  /** Admins (the first is `admin`): one user's share of commands is 1,000 a minute. */
  readonly admins: string[];
  readonly member: string;
  /** Its accounts' channels and one spare. */
  readonly channels: string[];
  readonly accounts: AccountFixture[];
  /** Buttons it was shown, newest last (a bounded pool). */
  readonly buttons: Shown[];
  /** The buttons of the alerts the fleet posted in its channels (Delete, Acknowledge, the Mute menu). */
  readonly alerts: Shown[];
  /** What would betray it in another workspace's view: channel and event IDs, account names and IDs, key hints, hosts. */
  marks: string[];
}

export const KEY = Buffer.alloc(32, 11).toString('base64');
const SPECS = [
  { name: 'alpha', teamId: 'TALPHA', enterpriseId: null, orgWide: false },
  { name: 'bravo', teamId: 'TBRAVO', enterpriseId: null, orgWide: false },
  { name: 'grid', teamId: 'TGRID1', enterpriseId: 'EGRID', orgWide: true },
] as const;
const HINTS = ['QWa1', 'QWb2', 'QWc3', 'QWd4', 'QWe5', 'QWf6'];

export interface AppWorld {
  readonly fakes: Fakes;
  bot: InProcessBot;
  readonly workspaces: WorkspaceFixture[];
  stop(): Promise<void>;
}

let sent = 0;

/** Team, enterprise and install flags of a request from `w` (a payload's or a command's). */
export function stampPayload(payload: Record<string, unknown>, w: WorkspaceFixture): Record<string, unknown> {
  payload.team = { id: w.teamId, domain: w.teamId.toLowerCase() };
  payload.user = { ...(payload.user as Record<string, unknown>), team_id: w.teamId };
  payload.enterprise = w.enterpriseId === null ? null : { id: w.enterpriseId, name: w.enterpriseId };
  payload.is_enterprise_install = w.orgWide;
  if (typeof payload.view === 'object' && payload.view !== null)
    (payload.view as Record<string, unknown>).team_id = w.teamId;
  return payload;
}

export function commandFrom(
  w: WorkspaceFixture,
  fields: { text: string; user?: string; channel?: string; responseUrl: string; triggerId?: string },
): string {
  return slashCommandBody({
    text: fields.text,
    user_id: fields.user ?? w.admin,
    channel_id: fields.channel ?? w.channels[0]!,
    team_id: w.teamId,
    ...(w.enterpriseId === null ? {} : { enterprise_id: w.enterpriseId }),
    is_enterprise_install: w.orgWide,
    response_url: fields.responseUrl,
    trigger_id: fields.triggerId ?? `trigger-${++sent}`,
  });
}

async function slash(world: AppWorld, w: WorkspaceFixture, text: string, channel?: string): Promise<string> {
  const id = `setup-${++sent}`;
  const { fakes, bot } = world;
  const body = commandFrom(w, {
    text,
    responseUrl: fakes.slack.responseUrl(id),
    triggerId: `trigger-${id}`,
    ...(channel === undefined ? {} : { channel }),
  });
  expect((await postToBot(bot.url, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
  return JSON.stringify(
    (await fakes.slack.waitFor(() => fakes.slack.responses.find((r) => r.id === id))).body,
  );
}

async function install(world: AppWorld, w: WorkspaceFixture): Promise<void> {
  const { fakes, bot } = world;
  const page = await fetch(`${bot.url}${INSTALL_PATH}`);
  await page.text();
  const state = /slack-app-oauth-state=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
  const code = fakes.slack.oauth.grant({
    teamId: w.teamId,
    teamName: w.teamId,
    ...(w.enterpriseId === null ? {} : { enterpriseId: w.enterpriseId }),
    isEnterpriseInstall: w.orgWide,
  });
  const done = await fetch(`${bot.url}${REDIRECT_PATH}?code=${code}&state=${encodeURIComponent(state)}`, {
    headers: { cookie: `slack-app-oauth-state=${state}` },
    redirect: 'manual',
  });
  await done.text();
  expect(done.status).toBe(200);
  w.token = [...fakes.slack.oauth.installs.values()]
    .filter((i) => i.token.startsWith(`xoxb-${w.key}-`))
    .at(-1)!.token;
}

/** `/halo connect` from the workspace's admin, and the modal's submission with the account's key. */
async function connect(world: AppWorld, w: WorkspaceFixture, account: AccountFixture): Promise<void> {
  const { fakes, bot } = world;
  const before = fakes.slack.calls.length;
  expect(await slash(world, w, 'connect')).toContain('The connect dialog is open');
  const opened = fakes.slack.calls.slice(before).find((c) => c.method === 'views.open')!;
  expect(opened.token).toBe(w.token);
  const id = [...fakes.slack.openModals.keys()].at(-1)!;
  const input = (value: string | null) => ({ type: 'plain_text_input', value });
  const payload = stampPayload(
    viewSubmissionPayload({
      userId: w.admin,
      modal: {
        id,
        hash: fakes.slack.openModals.get(id)!.hash,
        view: opened.args.view as Record<string, unknown>,
        values: {
          [CONNECT_IDS.name]: { [CONNECT_IDS.name]: input(account.name) },
          [CONNECT_IDS.key]: { [CONNECT_IDS.key]: input(account.apiKey) },
          [CONNECT_IDS.url]: { [CONNECT_IDS.url]: input(null) },
        },
      },
    }),
    w,
  );
  const ack = await postToBot(bot.url, `payload=${encodeURIComponent(JSON.stringify(payload))}`, {
    signingSecret: SIGNING_SECRET,
  });
  expect(ack.json).toMatchObject({ response_action: 'update' });
  const record = (await bot.bot.tenants.accounts(w.key)).find((a) => a.name === account.name)!;
  account.id = record.id;
}

function distributedEnv(fakes: Fakes, delays: string): Record<string, string> {
  const single = ['SLACK_BOT_TOKEN', 'HALO_API_KEY', 'HALO_ALERT_CHANNEL'];
  const rest = Object.fromEntries(Object.entries(botEnv(fakes)).filter(([name]) => !single.includes(name)));
  return {
    ...rest,
    SLACK_CLIENT_ID: fakes.slack.oauth.clientId,
    SLACK_CLIENT_SECRET: fakes.slack.oauth.clientSecret,
    SLACK_STATE_SECRET: 'state-secret-for-the-tests-only',
    HALO_ENCRYPTION_KEYS: KEY,
    TEST_DELAYS: delays,
    LOG_LEVEL: 'info',
    HALO_COMMANDS_PER_MINUTE: '1000',
  };
}

/** Installs, connects, subscribes and posts alerts; then restarts the bot quiet (see the file's comment). */
export async function buildWorld(): Promise<AppWorld> {
  const fakes = await startFakes();
  const workspaces: WorkspaceFixture[] = SPECS.map((spec, index) => {
    const upper = spec.name.toUpperCase();
    const accounts = ['one', 'two'].map((suffix, a): AccountFixture => {
      const hint = HINTS[index * 2 + a]!;
      const apiKey = `halo-key-${spec.name}-${suffix}-0000000000-${hint}`;
      const host = `host-${index}${a}.example.net`;
      const halo = fakes.halo.addAccount(apiKey);
      const account: AccountFixture = {
        name: `${spec.name}-${suffix}`,
        id: '',
        apiKey,
        hint,
        halo,
        channel: `C${upper}${a + 1}`,
        host,
        eventIds: [],
      };
      for (let n = 1; n <= 2; n++) addEvent(account, index, a);
      return account;
    });
    const admins = [1, 2, 3, 4].map((n) => `U${upper}ADM${n}`);
    for (const user of [...admins, `U${upper}MEM`])
      fakes.slack.users.set(user, {
        is_admin: admins.includes(user),
        team_id: spec.teamId,
        ...(spec.enterpriseId === null
          ? {}
          : { enterprise_user: { id: user, enterprise_id: spec.enterpriseId } }),
      });
    return {
      index,
      key: spec.orgWide ? spec.enterpriseId : spec.teamId,
      teamId: spec.teamId,
      enterpriseId: spec.enterpriseId,
      orgWide: spec.orgWide,
      token: '',
      admin: admins[0]!,
      admins,
      member: `U${upper}MEM`,
      channels: [...accounts.map((a) => a.channel), `C${upper}9`],
      accounts,
      buttons: [],
      alerts: [],
      marks: [],
    };
  });
  const loud = distributedEnv(fakes, FAST_DELAYS);
  const world: AppWorld = {
    fakes,
    bot: await inProcessBot(loud),
    workspaces,
    stop: async () => {
      await world.bot.stop();
      await fakes.close();
    },
  };
  for (const w of workspaces) await install(world, w);
  for (const w of workspaces) for (const account of w.accounts) await connect(world, w, account);
  for (const w of workspaces)
    for (const account of w.accounts)
      expect(
        await slash(world, w, `subscribe severity:info account:${account.name}`, account.channel),
      ).toContain(account.channel);
  await waitFor(
    'every account polled',
    () => world.bot.logs.filter((line) => line.includes('poll: baseline recorded')).length >= 6,
  );
  // New events after the baseline: the fleet posts them as alerts in each account's channel. An event added while
  // a baseline is being read joins it (and is never posted): an account without 3 alerts yet gets another event.
  for (let round = 0; ; round++) {
    const short = workspaces.flatMap((w) =>
      w.accounts
        .map((account, a) => ({ w, account, a }))
        .filter(({ account }) => fakes.slack.postsTo(account.channel).length < 3),
    );
    if (short.length === 0) break;
    if (round === 20)
      throw new Error(`no alerts posted in ${short.map((s) => s.account.channel).join(', ')}`);
    for (const { w, account, a } of short)
      for (let n = round === 0 ? 3 : 1; n > 0; n--) addEvent(account, w.index, a);
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      short.some(({ account }) => fakes.slack.postsTo(account.channel).length < 3)
    )
      await new Promise((r) => setTimeout(r, 50));
  }
  for (const post of fakes.slack.posts) {
    const w = workspaces.find((x) => x.channels.includes(post.channel))!;
    w.alerts.push(
      ...buttonsOf(post.blocks, {
        on: 'message',
        channel: post.channel,
        messageTs: post.ts,
        blocks: post.blocks,
        ...(post.color === undefined ? {} : { color: post.color }),
      }),
    );
  }
  await world.bot.stop();
  // Quiet: an hour between polls. Its first round runs at start; the steps begin once it is over.
  world.bot = await inProcessBot({ ...loud, TEST_DELAYS: `${FAST_DELAYS},pollInterval=3600000` });
  await quiet(world, 1000);
  for (const w of workspaces)
    w.marks = [...w.channels, ...w.accounts.flatMap((a) => [a.name, a.id, a.hint, a.host, ...a.eventIds])];
  return world;
}

function addEvent(account: AccountFixture, w: number, a: number): void {
  const id = `ev-${w}${a}-${String(account.eventIds.length + 1).padStart(2, '0')}`;
  account.halo.addEvent({
    event_id: id,
    key: 'port-open',
    target: { target_name: '', target_id: 100 + w * 10 + a, target: account.host },
  });
  account.eventIds.push(id);
}

/** Resolves once neither stand-in has heard from the bot for `ms`. */
export async function quiet(world: AppWorld, ms: number): Promise<void> {
  const count = () =>
    world.fakes.slack.calls.length + world.fakes.halo.requests.length + world.fakes.slack.responses.length;
  for (;;) {
    const before = count();
    await new Promise((r) => setTimeout(r, ms));
    if (count() === before) return;
  }
}
