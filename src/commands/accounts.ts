import type { HaloClient } from '../pipeline/halo-port.ts';

/** The Halo account behind a workspace: an opaque ID (never the key) and the client that speaks for it. */
export interface HaloAccount {
  /** Tells one account's cached answers from another's. */
  readonly id: string;
  readonly halo: HaloClient;
}

/** The workspace (and Enterprise Grid organisation) a request from Slack came from, as its payload names them. */
export interface Workspace {
  readonly teamId: string | undefined;
  readonly enterpriseId?: string | undefined;
}

/**
 * The one question link previews and workflow steps ask before they touch Halo: which account, if any, this
 * workspace holds. Null: none, and the request gets nothing from Halo. The tenancy work replaces this function.
 */
export type AccountOf = (workspace: Workspace) => HaloAccount | null;

/**
 * Today's answer: one workspace (or organisation), one account from the environment. A request from another
 * workspace holds no account. When the bot's own team is unknown (Slack unreachable at start-up), a signed
 * request can only come from the one installation, and gets the account.
 */
export function singleAccount(
  own: { readonly teamId: string; readonly enterpriseId?: string | undefined } | undefined,
  halo: HaloClient,
): AccountOf {
  const account: HaloAccount = { id: 'env', halo };
  return ({ teamId, enterpriseId }) => {
    if (own === undefined) return account;
    const sameTeam = teamId !== undefined && teamId === own.teamId;
    const sameOrg = own.enterpriseId !== undefined && enterpriseId === own.enterpriseId;
    return sameTeam || sameOrg ? account : null;
  };
}
