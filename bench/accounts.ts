/**
 * Many Halo accounts for the benches of issues 19 and 20: each connected in the bot's database before the bot
 * starts (as `/halo connect` would), spread over the workspaces, subscribed in a channel of its own (`C<i>`), and
 * served by the Halo stand-in under a key of its own. The accounts' events are shallow copies of one list, so that
 * 1,000 accounts of 1,000 events cost the bench 1,000 arrays, not 1,000,000 events; a new event goes to one
 * account only.
 */
import { makeEvents, type FakeHalo, type FakeHaloAccount } from '../fakes/halo.ts';
import type { FakeSlack } from '../fakes/slack.ts';
import { benchEnv } from './bot.ts';
import type { Logger } from '../src/log.ts';
import { openPostgresTenants } from '../src/store/postgres.ts';
import { openSqliteTenants } from '../src/store/sqlite.ts';
import type { SqlTenantStore } from '../src/store/tenants.ts';

export const ENCRYPTION_KEY = Buffer.alloc(32, 7);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The database a bench bot uses: a SQLite file's path, or a PostgreSQL URL. */
export type BenchDatabase = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export async function openTenants(db: BenchDatabase): Promise<SqlTenantStore> {
  return db.kind === 'sqlite'
    ? openSqliteTenants(db.path, [ENCRYPTION_KEY])
    : await openPostgresTenants(db.url, quiet, [ENCRYPTION_KEY]);
}

/** The account `i`'s name (what the bot's log lines carry as `account=`) and channel. */
export const accountName = (i: number): string => `acct${String(i).padStart(4, '0')}`;
export const accountChannel = (i: number): string => `C${i}`;

/**
 * The bot's environment in the distributed shape (OAuth; no SLACK_BOT_TOKEN, no HALO_API_KEY): every account is a
 * connected one, in a workspace installed with a token of its own, as in a deployment that serves many.
 */
export function distributedEnv(
  halo: FakeHalo,
  slack: FakeSlack,
  databaseUrl: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  return benchEnv(halo, slack, databaseUrl, {
    SLACK_BOT_TOKEN: undefined,
    SLACK_CLIENT_ID: slack.oauth.clientId,
    SLACK_CLIENT_SECRET: slack.oauth.clientSecret,
    SLACK_STATE_SECRET: 'bench-state-secret-0123456789abcdef',
    HALO_API_KEY: undefined,
    HALO_ALERT_CHANNEL: undefined,
    HALO_ENCRYPTION_KEYS: ENCRYPTION_KEY.toString('base64'),
    ...overrides,
  });
}

export const workspaceId = (w: number): string => `T${String(w).padStart(3, '0')}`;

/**
 * Installs the app in `workspaces` workspaces (each with a bot token of its own, which the Slack stand-in accepts)
 * and connects `accounts` accounts of `events` events each, round-robin over them; returns the stand-in's accounts.
 */
export async function connectAccounts(
  db: BenchDatabase,
  halo: FakeHalo,
  slack: FakeSlack,
  options: { accounts: number; events: number; workspaces: number },
): Promise<FakeHaloAccount[]> {
  const base = makeEvents(options.events);
  const tenants = await openTenants(db);
  const fakes: FakeHaloAccount[] = [];
  try {
    for (let w = 0; w < Math.min(options.workspaces, options.accounts); w++) {
      const teamId = workspaceId(w);
      const token = `xoxb-bench-${teamId}-token`;
      slack.oauth.installs.set(token, { teamId, token, botUserId: `UBOT${teamId}`, botId: `B${teamId}` });
      await tenants.saveInstallation({
        workspace: teamId,
        teamId,
        enterpriseId: null,
        isEnterpriseInstall: false,
        botUserId: `UBOT${teamId}`,
        botId: `B${teamId}`,
        botToken: token,
        raw: JSON.stringify({
          team: { id: teamId, name: teamId },
          bot: { token, userId: `UBOT${teamId}`, id: `B${teamId}`, scopes: ['chat:write', 'commands'] },
          isEnterpriseInstall: false,
          tokenType: 'bot',
        }),
        installedBy: 'UBENCH',
        installedAt: Date.now(),
      });
    }
    for (let i = 0; i < options.accounts; i++) {
      const key = `bench-account-key-${String(i).padStart(4, '0')}`;
      fakes.push(halo.addAccount(key, base.slice()));
      const { account } = await tenants.connectAccount({
        workspace: workspaceId(i % options.workspaces),
        name: accountName(i),
        apiUrl: halo.url,
        apiKey: key,
        createdBy: 'UBENCH',
        createdAt: Date.now(),
      });
      await tenants.scoped({ workspace: account.workspace, account: account.id }).addSubscription({
        channel: accountChannel(i),
        keys: [],
        targetIds: [],
        createdBy: 'UBENCH',
        createdAt: Date.now(),
      });
    }
  } finally {
    await tenants.close();
  }
  return fakes;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
