/**
 * The distributed shape over HTTP (issue 19): workspaces install the app through the OAuth flow (the install page
 * gives the state and its cookie, Slack's redirect brings a code the stand-in exchanges in oauth.v2.access), each
 * signed request is resolved to its own installation before any listener runs (Slack is then called with that
 * installation's token), a workspace that never installed the app is refused with an empty answer, and
 * app_uninstalled removes one workspace and leaves the other: its accounts stop polling within one interval, and
 * every row of it is purged (after the run, no table holds one).
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockActionBody,
  eventCallbackBody,
  postToBot,
  slashCommandBody,
  viewSubmissionPayload,
} from '../../fakes/sign.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';
import type { FakeWorkspace } from '../../fakes/slack-oauth.ts';
import type { SlackCall } from '../../fakes/slack.ts';
import type { Scope } from '../../src/pipeline/tenancy-port.ts';
import { INSTALL_PATH, REDIRECT_PATH } from '../../src/slack/oauth.ts';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import {
  botEnv,
  FAST,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';

const ACME: FakeWorkspace = { teamId: 'TACME', teamName: 'Acme' };
/** Enterprise Grid, installed org-wide: its key is the organisation, and any team of it is served. */
const GRID: FakeWorkspace = { teamId: 'TGRID1', enterpriseId: 'EGRID', isEnterpriseInstall: true };
const STATE_COOKIE = 'slack-app-oauth-state';
const KEY = Buffer.alloc(32, 7);

let fakes: Fakes;
let bot: InProcessBot;
let env: Record<string, string>;
/** The bot's SQLite file: seeded before it starts, read after it stops (it holds the file exclusively). */
let databasePath: string;

function distributedEnv(fakes: Fakes): Record<string, string> {
  // The single shape's settings go: a distributed app refuses them.
  const single = ['SLACK_BOT_TOKEN', 'HALO_API_KEY', 'HALO_ALERT_CHANNEL'];
  const rest = Object.fromEntries(
    Object.entries(botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' })).filter(([name]) => !single.includes(name)),
  );
  return {
    ...rest,
    SLACK_CLIENT_ID: fakes.slack.oauth.clientId,
    SLACK_CLIENT_SECRET: fakes.slack.oauth.clientSecret,
    SLACK_STATE_SECRET: 'state-secret-for-the-tests-only',
    HALO_ENCRYPTION_KEYS: KEY.toString('base64'),
  };
}

/** "Add to Slack" as a browser does it: the install page, Slack's consent (a code), the redirect with the cookie. */
async function install(workspace: FakeWorkspace): Promise<{ status: number; token: string | undefined }> {
  const page = await fetch(`${bot.url}${INSTALL_PATH}`);
  expect(page.status).toBe(200);
  const cookie = page.headers.get('set-cookie') ?? '';
  const state = new RegExp(`${STATE_COOKIE}=([^;]+)`).exec(cookie)?.[1];
  expect(state, 'the install page sets the state cookie').toBeDefined();
  const html = await page.text();
  // The "Add to Slack" link carries the same state, the app's client ID and the bot scopes.
  expect(html).toContain(`state=${state!}`);
  expect(html).toContain(`client_id=${fakes.slack.oauth.clientId}`);
  const code = fakes.slack.oauth.grant(workspace);
  const done = await fetch(
    `${bot.url}${REDIRECT_PATH}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state!)}`,
    { headers: { cookie: `${STATE_COOKIE}=${state!}` }, redirect: 'manual' },
  );
  await done.text();
  const owner = workspace.isEnterpriseInstall === true ? workspace.enterpriseId : workspace.teamId;
  const token = [...fakes.slack.oauth.installs.values()]
    .filter((i) => (i.isEnterpriseInstall === true ? i.enterpriseId : i.teamId) === owner)
    .at(-1)?.token;
  return { status: done.status, token };
}

/** `/halo connect` from `team`, and the modal's submission with the stand-in's good key: the submission's answer. */
async function connectThroughModal(team: string, token: string | undefined): Promise<unknown> {
  const trigger = `trigger-connect-${team}`;
  const before = fakes.slack.calls.length;
  await postToBot(
    bot.url,
    slashCommandBody({
      text: 'connect',
      user_id: 'UADMIN',
      channel_id: 'CSEC',
      team_id: team,
      response_url: fakes.slack.responseUrl(`connect-${team}`),
      trigger_id: trigger,
    }),
    { signingSecret: SIGNING_SECRET },
  );
  const opened = await fakes.slack.waitFor(() =>
    fakes.slack.calls.slice(before).find((c) => c.method === 'views.open' && c.args.trigger_id === trigger),
  );
  expect(opened.token).toBe(token);
  const id = [...fakes.slack.openModals.keys()].at(-1)!;
  const input = (value: string | null) => ({ type: 'plain_text_input', value });
  const payload = viewSubmissionPayload({
    userId: 'UADMIN',
    modal: {
      id,
      hash: fakes.slack.openModals.get(id)!.hash,
      view: opened.args.view as Record<string, unknown>,
      values: {
        [CONNECT_IDS.name]: { [CONNECT_IDS.name]: input('prod') },
        [CONNECT_IDS.key]: { [CONNECT_IDS.key]: input(fakes.halo.apiKey) },
        [CONNECT_IDS.url]: { [CONNECT_IDS.url]: input(null) },
      },
    },
  });
  // From that workspace: Bolt's authorize resolves it by the payload's team.
  payload.team = { id: team, domain: 'acme' };
  (payload.user as { team_id: string }).team_id = team;
  (payload.view as { team_id: string }).team_id = team;
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  return ack.json;
}

const keyOf = (workspace: string): string => `halo-key-of-${workspace}`;
/** Each seeded workspace's account. */
const scopes = new Map<string, Scope>();
/** The polls (event list requests) made with `workspace`'s key. */
const haloCalls = (workspace: string) =>
  fakes.halo.listRequests().filter((r) => r.apiKey === keyOf(workspace));

let commands = 0;
const REFUSAL = 'refused a request of a workspace that has not installed the app';
const refusals = (): number => bot.logs.filter((line) => line.includes(REFUSAL)).length;

/**
 * `/halo subscribe` alone from `team` (and organisation): the dialog opens with views.open, called with the
 * installation's token; or the request is refused before any listener runs (logged), and nothing is called.
 */
async function openDialog(
  team: string,
  enterprise?: { id: string; orgWide: boolean },
): Promise<{ status: number; text: string; opened: SlackCall | undefined }> {
  const trigger = `trigger-${++commands}`;
  const before = { calls: fakes.slack.calls.length, refusals: refusals() };
  const ack = await postToBot(
    bot.url,
    slashCommandBody({
      text: 'subscribe',
      user_id: 'UADMIN',
      channel_id: 'CSEC',
      team_id: team,
      ...(enterprise === undefined
        ? {}
        : { enterprise_id: enterprise.id, is_enterprise_install: enterprise.orgWide }),
      response_url: fakes.slack.responseUrl(`r-${commands}`),
      trigger_id: trigger,
    }),
    { signingSecret: SIGNING_SECRET },
  );
  const outcome = await fakes.slack.waitFor(() => {
    const opened = fakes.slack.calls
      .slice(before.calls)
      .find((c) => c.method === 'views.open' && c.args.trigger_id === trigger);
    if (opened !== undefined) return { opened };
    return refusals() > before.refusals ? { opened: undefined } : undefined;
  });
  return { status: ack.status, text: ack.text, ...outcome };
}

beforeAll(async () => {
  fakes = await startFakes();
  env = distributedEnv(fakes);
  databasePath = env.DATABASE_URL!.slice('sqlite:'.length);
  // Each workspace has a connected Halo account already (what /halo connect makes), polled with its own key, and
  // a subscription: an uninstall must remove its own and leave the other's.
  const tenants = openSqliteTenants(databasePath, [KEY]);
  for (const workspace of ['TACME', 'EGRID']) {
    const halo = fakes.halo.addAccount(keyOf(workspace));
    // Events its first poll records as its baseline: rows of its own to purge.
    for (let i = 0; i < 3; i++) halo.addEvent({ key: 'port-open' });
    const { account } = await tenants.connectAccount({
      workspace,
      name: 'prod',
      apiUrl: fakes.halo.url,
      apiKey: keyOf(workspace),
      createdBy: 'UADMIN',
      createdAt: Date.now(),
    });
    scopes.set(workspace, { workspace, account: account.id });
    await tenants.scoped(scopes.get(workspace)!).addSubscription({
      channel: `C${workspace}`,
      keys: ['port-open'],
      targetIds: [],
      createdBy: 'UADMIN',
      createdAt: Date.now(),
    });
  }
  await tenants.close();
  bot = await inProcessBot(env);
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

describe('the distributed shape over HTTP', () => {
  let acme: string | undefined;
  let grid: string | undefined;

  it('installs two workspaces through the OAuth flow, one of them org-wide', async () => {
    const first = await install(ACME);
    const second = await install(GRID);
    expect([first.status, second.status]).toEqual([200, 200]);
    acme = first.token;
    grid = second.token;
    expect(acme).toMatch(/^xoxb-TACME-/);
    expect(grid).toMatch(/^xoxb-EGRID-/);
    // The library checked each new token with auth.test, with that token.
    const checked = fakes.slack.calls.filter((c) => c.method === 'auth.test').map((c) => c.token);
    expect(checked).toEqual(expect.arrayContaining([acme, grid]));
    // Start-up asked Slack nothing with an env token: there is none.
    expect(fakes.slack.calls.filter((c) => c.token === fakes.slack.token)).toEqual([]);
  });

  it('refuses a redirect whose state is not the browser’s', async () => {
    const code = fakes.slack.oauth.grant({ teamId: 'TEVIL' });
    const forged = await fetch(`${bot.url}${REDIRECT_PATH}?code=${code}&state=forged`, {
      headers: { cookie: `${STATE_COOKIE}=other` },
    });
    await forged.text();
    expect(forged.status).toBe(400);
    expect(fakes.slack.calls.filter((c) => c.method === 'oauth.v2.access' && c.args.code === code)).toEqual(
      [],
    );
  });

  it('resolves each command to its own installation, answering with its own token', async () => {
    const fromAcme = await openDialog('TACME');
    expect(fromAcme.opened?.token).toBe(acme);
    // A team of the organisation: served by the org-wide install, with the organisation's token.
    const fromGrid = await openDialog('TGRID7', { id: 'EGRID', orgWide: true });
    expect(fromGrid.opened?.token).toBe(grid);
  });

  it('answers a workspace that never installed the app with nothing, calling no listener', async () => {
    const before = fakes.slack.calls.length;
    const stranger = await openDialog('TNEVER');
    expect(stranger).toEqual({ status: 200, text: '', opened: undefined });
    // Nothing ran: no answer through response_url, no Slack call.
    expect(fakes.slack.responses.filter((r) => r.id === `r-${commands}`)).toEqual([]);
    expect(fakes.slack.calls.slice(before)).toEqual([]);
  });

  it('app_uninstalled removes that workspace at once and leaves the other', async () => {
    // Both accounts are being polled, their baselines recorded.
    const polled = { acme: haloCalls('TACME').length, grid: haloCalls('EGRID').length };
    await waitFor(
      'both accounts polled',
      () => haloCalls('TACME').length > polled.acme && haloCalls('EGRID').length > polled.grid,
    );
    expect((await bot.bot.tenants.scoped(scopes.get('TACME')!).stats()).seen).toBe(3);
    const uninstalledAt = Date.now();
    const event = eventCallbackBody({ type: 'app_uninstalled' }, { teamId: 'TACME' });
    const ack = await postToBot(bot.url, event, {
      signingSecret: SIGNING_SECRET,
      contentType: 'application/json',
    });
    expect(ack.status).toBe(200);
    await waitFor('the purge logged', () =>
      bot.logs.some((line) => line.includes('app removed from a workspace; its tokens and data are deleted')),
    );
    expect((await openDialog('TACME')).opened).toBeUndefined();
    expect((await openDialog('TGRID1', { id: 'EGRID', orgWide: true })).opened?.token).toBe(grid);

    // Its account stops polling within one interval (the fleet lists the accounts every interval); the other's
    // goes on. After the stop, no poll of it and no Halo call with its key.
    const stopped = await waitFor('its polling stopped', () =>
      bot.logs.find((line) => line.includes('fleet: account removed') && line.includes('workspace=TACME')),
    );
    const stoppedAt = Date.parse(stopped.slice(0, stopped.indexOf(' ')));
    await waitFor('the other account polled three intervals on', () =>
      haloCalls('EGRID').some((r) => r.at > stoppedAt + 3 * FAST.pollInterval),
    );
    const polledAfter = bot.logs.filter(
      (line) =>
        / poll: (done|baseline)/.test(line) &&
        line.includes('workspace=TACME') &&
        Date.parse(line.slice(0, line.indexOf(' '))) > stoppedAt,
    );
    expect(polledAfter).toEqual([]);
    expect(haloCalls('TACME').filter((r) => r.at > stoppedAt)).toEqual([]);
    process.stdout.write(
      `uninstall: the workspace's account stopped polling ${stoppedAt - uninstalledAt} ms after app_uninstalled ` +
        `(poll interval ${FAST.pollInterval} ms)\n`,
    );
    // Generous: the figure is printed; timings belong to bench/.
    expect(stoppedAt - uninstalledAt).toBeLessThan(FAST.pollInterval + 5000);
    // Its data is gone at once: no account, and its account's view holds nothing; the other's is untouched.
    const tenants = bot.bot.tenants;
    expect(await tenants.accounts('TACME')).toEqual([]);
    const acmeRows = tenants.scoped(scopes.get('TACME')!);
    expect(await acmeRows.subscriptions()).toEqual([]);
    expect(await acmeRows.stats()).toEqual({ seen: 0, pending: 0, failed: 0, delivered: 0, staged: 0 });
    expect((await tenants.accounts('EGRID')).map((a) => a.name)).toEqual(['prod']);
    expect((await tenants.scoped(scopes.get('EGRID')!).subscriptions()).map((s) => s.channel)).toEqual([
      'CEGRID',
    ]);
  });

  it('installs a removed workspace again, with a new token; tokens_revoked removes it again', async () => {
    const again = await install(ACME);
    expect(again.status).toBe(200);
    expect(again.token).not.toBe(acme);
    // The uninstall removed its account too: the dialog (of an account) opens once one is connected again,
    // which `/halo connect` does from the workspace itself (the modal opened with its own token).
    expect(await connectThroughModal('TACME', again.token)).toMatchObject({ response_action: 'update' });
    expect((await openDialog('TACME')).opened?.token).toBe(again.token);

    const revoked = eventCallbackBody(
      { type: 'tokens_revoked', tokens: { bot: ['UBOTTACME'] } },
      { teamId: 'TACME' },
    );
    expect(
      (await postToBot(bot.url, revoked, { signingSecret: SIGNING_SECRET, contentType: 'application/json' }))
        .status,
    ).toBe(200);
    await waitFor(
      'the second purge logged',
      () => bot.logs.filter((line) => line.includes('its tokens and data are deleted')).length >= 2,
    );
    expect((await openDialog('TACME')).opened).toBeUndefined();
  });

  it('kept only the other workspace, its token sealed at rest', async () => {
    await bot.stop();
    const tenants = openSqliteTenants(databasePath, [KEY]);
    try {
      expect((await tenants.installations()).map((i) => [i.workspace, i.botToken])).toEqual([
        ['EGRID', grid],
      ]);
      expect(await tenants.accounts('TACME')).toEqual([]);
      expect((await tenants.accounts('EGRID')).map((a) => a.name)).toEqual(['prod']);
    } finally {
      await tenants.close();
    }
    const file = new Database(databasePath, { readonly: true });
    try {
      const stored = JSON.stringify(file.prepare('SELECT * FROM halo_installations').all());
      expect(stored).toContain('EGRID');
      expect(stored).not.toContain(grid!);
      // No table keeps a row of the removed workspace; the other's rows are still there.
      const tables = file
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'halo_%'")
        .all() as { name: string }[];
      const scoped = tables.filter(({ name }) =>
        (file.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).some(
          (column) => column.name === 'workspace_id',
        ),
      );
      const rowsOf = (workspace: string): Record<string, number> => {
        const rows: Record<string, number> = {};
        for (const { name } of scoped) {
          const { n } = file
            .prepare(`SELECT COUNT(*) AS n FROM ${name} WHERE workspace_id = ?`)
            .get(workspace) as { n: number };
          if (n !== 0) rows[name] = n;
        }
        return rows;
      };
      expect(rowsOf('TACME')).toEqual({});
      expect(rowsOf('EGRID')).toMatchObject({ halo_subscriptions: 1 });
    } finally {
      file.close();
    }
  });
});

describe('the single shape hears an uninstall', () => {
  it('keeps its data and says what to do: a new SLACK_BOT_TOKEN and a restart resume', async () => {
    const own = await startFakes();
    const single = await inProcessBot(botEnv(own));
    try {
      const ack = await postToBot(single.url, eventCallbackBody({ type: 'app_uninstalled' }), {
        signingSecret: SIGNING_SECRET,
        contentType: 'application/json',
      });
      expect(ack.status).toBe(200);
      await waitFor('the uninstall logged', () =>
        single.logs.some((line) =>
          line.includes(
            'app_uninstalled: the app was uninstalled or its token revoked; alerts wait in the outbox until SLACK_BOT_TOKEN holds a new token and the bot restarts',
          ),
        ),
      );
      expect(single.logs.some((line) => line.includes('its tokens and data are deleted'))).toBe(false);
    } finally {
      await single.stop();
      await own.close();
    }
  });
});
