/**
 * The App Home of a workspace with connected Halo accounts (issue 19), in the distributed shape over HTTP:
 * workspace A connects two accounts and B one, through `/halo connect`'s modal. A's App Home lists each account's
 * health (status, last poll, last error code, key …last4, never the key), and its health section is its accounts'
 * together; once Halo refuses one account's key (401), that account stands out as needing a new key. A's subscriptions and mutes name their account (A has
 * two); B's (one account) do not, and B's Home shows nothing of A's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeHaloAccount } from '../../fakes/halo.ts';
import { inProcessBot, startFakes, visibleText, type Fakes, type InProcessBot } from '../harness.ts';
import {
  ALPHA_BETA_KEYS,
  installAlphaBeta,
  distributedEnv,
  until,
  workspaces,
  type Workspaces,
} from './workspaces.ts';

const KEYS = ALPHA_BETA_KEYS;

let fakes: Fakes;
let bot: InProcessBot;
let people: Workspaces;
let lab: FakeHaloAccount;

beforeAll(async () => {
  fakes = await startFakes();
  fakes.halo.addAccount(KEYS.prod);
  lab = fakes.halo.addAccount(KEYS.lab);
  fakes.halo.addAccount(KEYS.beta);
  bot = await inProcessBot(distributedEnv(fakes));
  people = workspaces(fakes, bot);
  await installAlphaBeta(people);
  expect(await people.slash('TA', 'subscribe key:port-open account:prod', 'CA')).toContain('Subscribed');
  expect(await people.slash('TA', 'subscribe key:domain-add account:lab', 'CA')).toContain('Subscribed');
  expect(await people.slash('TA', 'mute key:port-open for:1h account:lab', 'CA')).toContain('Muted');
  expect(await people.slash('TB', 'subscribe key:port-open', 'CB')).toContain('Subscribed');
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const shown = (view: { args: Record<string, unknown> }): string =>
  visibleText(view.args.view as Record<string, unknown>);

describe('the App Home of a workspace with connected accounts', () => {
  it('shows each account’s health, with only its key’s last 4 characters', async () => {
    await until('both of A’s accounts polled', async () => {
      const health = await bot.bot.tenants.accounts('TA');
      return health.length === 2 && health.every((a) => a.lastPollAt !== null);
    });
    const text = shown(await people.home('TA'));
    // The health section is the workspace's accounts' (the distributed shape has no environment's account).
    expect(text).toContain('*:white_check_mark: Polling normally*');
    expect(text).toContain('Halo accounts');
    expect(text).toMatch(/\*lab\* — :white_check_mark: active · last poll .* · key …LAB2/);
    expect(text).toMatch(/\*prod\* — :white_check_mark: active · last poll .* · key …PRD1/);
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  });

  it('names the account of each subscription and mute when the workspace has several', async () => {
    const text = shown(await people.home('TA'));
    expect(text).toMatch(/Subscription \*#\d+\* \(account \*prod\*\): /);
    expect(text).toMatch(/Subscription \*#\d+\* \(account \*lab\*\): /);
    expect(text).toMatch(/:mute: Mute \(account \*lab\*\) \*#\d+\*: /);
  });

  it('marks an account whose key Halo refused (401) as needing a new key, first', async () => {
    lab.apiKey = 'rotated-in-halo-0000';
    await until('the refused key recorded', async () =>
      (await bot.bot.tenants.accounts('TA')).some((a) => a.name === 'lab' && a.status === 'needs_key'),
    );
    const view = await people.home('TA');
    const blocks = (view.args.view as { blocks: { text?: { text: string } }[] }).blocks;
    const rows = blocks.map((block) => block.text?.text ?? '');
    const header = rows.indexOf('Halo accounts');
    expect(rows[header + 1]).toMatch(
      /^:warning: \*lab\* — :red_circle: needs a new key · last poll .* · last error `halo_unauthorized` · key …LAB2\n/,
    );
    expect(rows[header + 1]).toContain('`/halo connect` and the same name');
    expect(rows[header + 2]).toMatch(/^\*prod\* — :white_check_mark: active/);
    // The workspace's health says so too; the other workspace's does not.
    expect(shown(view)).toMatch(/:warning: Halo polls are failing \(\d+ in a row\)/);
    expect(shown(await people.home('TB'))).toContain('*:white_check_mark: Polling normally*');
  });

  it('shows another workspace its own account only, its rows unlabelled', async () => {
    const text = shown(await people.home('TB'));
    expect(text).toMatch(/\*prod\* — :white_check_mark: active · .* · key …BET3/);
    expect(text).not.toContain('lab');
    expect(text).not.toContain('PRD1');
    expect(text).toMatch(/Subscription \*#\d+\*: /);
    expect(text).not.toContain('(account ');
  });
});
