import type { Context } from '@slack/bolt';
import type { TenantWorkspace, Tenants } from '../../commands/workspace-accounts.ts';

/**
 * The request's workspace, from what Bolt's `authorize` put in the listener's context (never from a field of the
 * payload a sender chose): every listener asks this before it does anything, and acts only through what it
 * returns. Null: this deployment serves no such workspace.
 */
export function requestWorkspace(tenants: Tenants, context: Context): TenantWorkspace | null {
  return tenants.workspace({
    teamId: context.teamId,
    enterpriseId: context.enterpriseId,
    isEnterpriseInstall: context.isEnterpriseInstall,
  });
}

/** What a button or dialog of an account no longer connected here (or of another workspace) answers. */
export const ACCOUNT_GONE =
  'This button belongs to a Halo account that is not connected to this workspace (any more): nothing was done.';
