/**
 * Bolt's `InstallationStore` on the project's registry of installations (the `TenantStore` port): what Slack's
 * OAuth flow hands over is kept as an {@link InstallationRecord} (its bot token encrypted at rest by the store),
 * and every request's `authorize` reads it back. A workspace's key is its Enterprise Grid organisation's ID for
 * an org-wide install, its team ID otherwise.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import { timely, type Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { InstallationRecord, TenantStore } from '../pipeline/tenancy-port.ts';

export type InstallationRegistry = Pick<TenantStore, 'saveInstallation' | 'installation' | 'purgeWorkspace'>;

/** A request of a workspace that has not installed the app (or has uninstalled it): Bolt answers it with nothing. */
export class NotInstalledError extends Error {
  override name = 'NotInstalledError' as const;
  constructor(readonly workspace: string | null) {
    super(
      workspace === null
        ? 'the request names no team or organisation, so no installation can serve it'
        : `workspace ${workspace} has not installed the app (or has uninstalled it): install it from /slack/install`,
    );
  }
}

/** An installation Slack gave that the bot cannot use. */
export class InstallationRefusedError extends Error {
  override name = 'InstallationRefusedError' as const;
}

/** The workspace key of an installation: its organisation for an org-wide install, its team otherwise. */
export function workspaceOf(installation: Installation): string {
  const workspace =
    installation.isEnterpriseInstall === true ? installation.enterprise?.id : installation.team?.id;
  if (workspace === undefined || workspace === '')
    throw new InstallationRefusedError(
      installation.isEnterpriseInstall === true
        ? 'an org-wide installation without its organisation ID'
        : 'an installation without its team ID',
    );
  return workspace;
}

/**
 * The workspace keys that may serve a request, in order: the organisation for a request that says it comes from an
 * org-wide install; otherwise its team, then its organisation (an org-wide install serves every team of it).
 */
export function candidateWorkspaces(query: InstallationQuery<boolean>): string[] {
  const team = query.teamId === undefined || query.teamId === '' ? [] : [query.teamId];
  const org = query.enterpriseId === undefined || query.enterpriseId === '' ? [] : [query.enterpriseId];
  return query.isEnterpriseInstall ? org : [...team, ...org];
}

/** What the registry keeps of an installation; `raw` is the whole of it, tokens included (encrypted at rest). */
export function toRecord(installation: Installation, installedAt: number): InstallationRecord {
  const bot = installation.bot;
  // Without a bot token the app can post nothing: Slack gives one whenever the bot scopes were granted.
  if (bot === undefined || bot.token === '')
    throw new InstallationRefusedError('an installation without a bot token (were the bot scopes granted?)');
  return {
    workspace: workspaceOf(installation),
    teamId: installation.team?.id ?? null,
    enterpriseId: installation.enterprise?.id ?? null,
    isEnterpriseInstall: installation.isEnterpriseInstall === true,
    botUserId: bot.userId,
    botId: bot.id,
    botToken: bot.token,
    raw: JSON.stringify(installation),
    installedBy: installation.user.id,
    installedAt,
  };
}

/** The installation as Bolt wants it back; the record's own columns win over the copy in `raw`. */
export function fromRecord(record: InstallationRecord): Installation {
  const raw = JSON.parse(record.raw) as Installation;
  return {
    ...raw,
    isEnterpriseInstall: record.isEnterpriseInstall,
    bot: {
      ...(raw.bot ?? { scopes: [] }),
      token: record.botToken,
      id: record.botId,
      userId: record.botUserId,
    },
  };
}

export interface InstallationStoreOptions {
  readonly registry: InstallationRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  /** Told of each install, reinstall and removal: cached clients of that workspace are stale. */
  readonly changed: (workspace: string) => void;
  /** How long `authorize` waits for the database before it answers from the installation as last read. */
  readonly lookupWaitMs?: number;
}

/**
 * How long a request's `authorize` waits for the database when this process has read the workspace's installation
 * before: the database slow or away must not leave Slack's requests unacknowledged (Slack gives up after 3 s), and
 * the commands that need none of it (`/halo help`) answered, as in the single shape.
 */
export const INSTALLATION_LOOKUP_WAIT_MS = 2000;

export function createInstallationStore(options: InstallationStoreOptions): InstallationStore {
  const { registry, clock, log, changed } = options;
  const waitMs = options.lookupWaitMs ?? INSTALLATION_LOOKUP_WAIT_MS;
  /**
   * Each workspace's installation as last read or stored. Served only when the database fails or is late; every
   * answer it gives replaces it, so an uninstall (read as no installation) is never served from here afterwards.
   */
  const known = new Map<string, InstallationRecord>();
  const lookup = async (workspace: string): Promise<InstallationRecord | null> => {
    const read = registry.installation(workspace).then((record) => {
      if (record === null) known.delete(workspace);
      else known.set(workspace, record);
      return record;
    });
    const last = known.get(workspace);
    if (last === undefined) return read;
    const answer = await timely(read, waitMs);
    if (answer.ok) return answer.value;
    log.warn('slack: the database did not give the installation in time; answering from the last one read', {
      workspace,
      ...(answer.late ? { waitedMs: waitMs } : { error: answer.error }),
    });
    return last;
  };
  return {
    async storeInstallation(installation) {
      const record = toRecord(installation, clock.now());
      await registry.saveInstallation(record);
      known.set(record.workspace, record);
      changed(record.workspace);
      log.info('slack: app installed', {
        workspace: record.workspace,
        orgWide: record.isEnterpriseInstall,
        by: record.installedBy,
      });
    },

    async fetchInstallation(query) {
      const candidates = candidateWorkspaces(query);
      for (const workspace of candidates) {
        const record = await lookup(workspace);
        // An organisation's key serves its teams only through an org-wide install.
        if (record !== null && (workspace === query.teamId || record.isEnterpriseInstall))
          return fromRecord(record);
      }
      throw new NotInstalledError(candidates[0] ?? null);
    },

    async deleteInstallation(query) {
      const workspace = candidateWorkspaces(query)[0];
      if (workspace === undefined) return;
      known.delete(workspace);
      await removeWorkspace(registry, workspace, log, changed);
    },
  };
}

/**
 * Uninstall or tokens revoked: the installation, its tokens, its accounts and every row of the workspace go at
 * once (the port's `purgeWorkspace`); the cached clients are forgotten.
 */
export async function removeWorkspace(
  registry: InstallationRegistry,
  workspace: string,
  log: Logger,
  changed: (workspace: string) => void,
): Promise<void> {
  const purged = await registry.purgeWorkspace(workspace);
  changed(workspace);
  log.info('slack: app removed from a workspace; its tokens and data are deleted', {
    workspace,
    rows: purged.rows,
  });
}
