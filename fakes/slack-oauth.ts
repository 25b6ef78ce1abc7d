// The fake Slack's installations: `oauth.v2.access` turns a code into a bot token of a given team (or, for an
// org-wide install, enterprise), `auth.test` answers per token, and a token can be revoked. See fakes/slack.ts.

/** A workspace the app can be installed in: a team, or an Enterprise Grid organisation (an org-wide install). */
export interface FakeWorkspace {
  readonly teamId: string;
  readonly teamName?: string;
  readonly enterpriseId?: string;
  /** Org-wide: the token is the organisation's, `team` is null in `oauth.v2.access`. */
  readonly isEnterpriseInstall?: boolean;
}

/** One bot token the fake accepts, and whose it is. */
export interface FakeInstall extends FakeWorkspace {
  readonly token: string;
  readonly botUserId: string;
  readonly botId: string;
}

export type OAuthAnswer = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

export interface FakeOAuth {
  /** The app's credentials `oauth.v2.access` checks. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every token issued (and the default one), by token. */
  readonly installs: Map<string, FakeInstall>;
  /** Tokens revoked, with the error Slack now answers them (`invalid_auth`, `account_inactive`, `token_revoked`). */
  readonly revoked: Map<string, string>;
  /** A one-time code that `oauth.v2.access` exchanges for a new token of `workspace`, as after "Allow". */
  grant(workspace: FakeWorkspace): string;
  /** Every later call with `token` is answered `error`. */
  revoke(token: string, error?: string): void;
  /** The error a call with `token` gets, or undefined when the token is good. */
  refusal(token: string | undefined): string | undefined;
  access(args: Record<string, unknown>): OAuthAnswer;
  authTest(token: string): Record<string, unknown>;
}

export const FAKE_CLIENT_ID = '1111111111.2222222222';
export const FAKE_CLIENT_SECRET = 'fake-client-secret-abcdefghij';

export function createFakeOAuth(defaultInstall: FakeInstall): FakeOAuth {
  const codes = new Map<string, FakeWorkspace>();
  let issued = 0;
  const oauth: FakeOAuth = {
    clientId: FAKE_CLIENT_ID,
    clientSecret: FAKE_CLIENT_SECRET,
    installs: new Map([[defaultInstall.token, defaultInstall]]),
    revoked: new Map(),
    grant(workspace) {
      issued += 1;
      const code = `code-${issued}-${workspace.enterpriseId ?? ''}${workspace.teamId}`;
      codes.set(code, workspace);
      return code;
    },
    revoke(token, error = 'invalid_auth') {
      oauth.revoked.set(token, error);
    },
    refusal(token) {
      if (token === undefined || !oauth.installs.has(token)) return 'invalid_auth';
      return oauth.revoked.get(token);
    },
    access(args) {
      if (args.client_id !== oauth.clientId || args.client_secret !== oauth.clientSecret)
        return { ok: false, error: 'invalid_client_id' };
      const code = typeof args.code === 'string' ? args.code : '';
      const workspace = codes.get(code);
      // A code is good once, as Slack's.
      if (workspace === undefined) return { ok: false, error: 'invalid_code' };
      codes.delete(code);
      issued += 1;
      const owner = workspace.isEnterpriseInstall === true ? workspace.enterpriseId : workspace.teamId;
      const install: FakeInstall = {
        ...workspace,
        token: `xoxb-${owner ?? 'none'}-${issued}-fake`,
        botUserId: `UBOT${owner ?? ''}`,
        botId: `B${owner ?? ''}`,
      };
      oauth.installs.set(install.token, install);
      const org = workspace.isEnterpriseInstall === true;
      return {
        ok: true,
        result: {
          app_id: 'A1',
          authed_user: { id: 'UINSTALLER' },
          scope: 'commands,chat:write',
          token_type: 'bot',
          access_token: install.token,
          bot_user_id: install.botUserId,
          team: org ? null : { id: workspace.teamId, name: workspace.teamName ?? workspace.teamId },
          enterprise:
            workspace.enterpriseId === undefined
              ? null
              : { id: workspace.enterpriseId, name: workspace.enterpriseId },
          is_enterprise_install: org,
        },
      };
    },
    authTest(token) {
      const install = oauth.installs.get(token) ?? defaultInstall;
      return {
        url: `https://${install.teamId.toLowerCase()}.slack.com/`,
        team: install.teamName ?? 'Fake Team',
        user: 'halo-bot',
        team_id: install.teamId,
        user_id: install.botUserId,
        bot_id: install.botId,
        ...(install.enterpriseId === undefined ? {} : { enterprise_id: install.enterpriseId }),
        is_enterprise_install: install.isEnterpriseInstall === true,
      };
    },
  };
  return oauth;
}
