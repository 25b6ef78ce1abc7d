/**
 * The {@link TenantStore} of both databases: scoped views (sql-store.ts) and the registry of installations and
 * connected accounts, whose secrets are sealed by the {@link SecretBox} before they reach a table and opened after
 * they leave it. A purge deletes a scope's or a workspace's rows from every tenant table in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type {
  AccountRecord,
  InstallationRecord,
  NewAccount,
  Purged,
  Scope,
  TenantStore,
} from '../pipeline/tenancy-port.ts';
import type { Store } from '../pipeline/store-port.ts';
import { TENANT_TABLES, type Db, type Tables } from './schema.ts';
import { SecretBox } from './secret-box.ts';
import type { Engine } from './sql-rows.ts';
import { SqlStore } from './sql-store.ts';

/** Where each sealed secret lives: authenticated with it, so that it opens in that row only. */
const where = {
  botToken: (workspace: string) => `installation ${workspace} bot_token`,
  raw: (workspace: string) => `installation ${workspace} raw`,
  apiKey: (workspace: string, id: string) => `account ${workspace}/${id} api_key`,
};

export class SqlTenantStore implements TenantStore {
  private closed: Promise<void> | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly box: SecretBox,
    private readonly closeDatabase: () => Promise<void>,
  ) {}

  private get db(): Db {
    return this.engine.db;
  }

  scoped(scope: Scope): Store {
    return new SqlStore(this.engine, scope);
  }

  /** A view whose `close()` closes the database too: for a tool or a test that uses one scope only. */
  owned(scope: Scope): Store {
    return new SqlStore(this.engine, scope, () => this.close());
  }

  /**
   * Set by the leases (PostgreSQL, pg-leases.ts) when this process claims `scope`: every view of that scope
   * carries it in its claims and poller writes from then on. Kept after the account is lost, so that a replaced
   * holder's writes are refused.
   */
  setFence(scope: Scope, token: number): void {
    this.engine.fenceOf(scope).token = token;
  }

  /** The database's own engine: for the leases and the shared pace of the same database (pg-leases.ts). */
  get sql(): Engine {
    return this.engine;
  }

  async saveInstallation(installation: InstallationRecord): Promise<void> {
    const { workspace } = installation;
    const row = {
      team_id: installation.teamId,
      enterprise_id: installation.enterpriseId,
      is_enterprise_install: installation.isEnterpriseInstall ? 1 : 0,
      bot_user_id: installation.botUserId,
      bot_id: installation.botId,
      bot_token: this.box.seal(installation.botToken, where.botToken(workspace)),
      raw: this.box.seal(installation.raw, where.raw(workspace)),
      installed_by: installation.installedBy,
      installed_at: installation.installedAt,
    };
    await this.db
      .insertInto('halo_installations')
      .values({ workspace_id: workspace, ...row })
      .onConflict((c) => c.column('workspace_id').doUpdateSet(row))
      .execute();
  }

  async installation(workspace: string): Promise<InstallationRecord | null> {
    const one = this.db.selectFrom('halo_installations').selectAll().where('workspace_id', '=', workspace);
    const row = await one.executeTakeFirst();
    return row === undefined ? null : this.toInstallation(row);
  }

  async installations(): Promise<InstallationRecord[]> {
    const all = this.db.selectFrom('halo_installations').selectAll().orderBy('workspace_id');
    return (await all.execute()).map((row) => this.toInstallation(row));
  }

  async connectAccount(account: NewAccount): Promise<{ account: AccountRecord; created: boolean }> {
    const { workspace, name } = account;
    return this.db.transaction().execute(async (trx) => {
      // Two connects of one name at once (two replicas) must end as one account, the later key winning.
      await this.engine.d.exclusive('halo_accounts')?.execute(trx);
      const existing = await trx
        .selectFrom('halo_accounts')
        .select('id')
        .where((eb) => eb.and({ workspace_id: workspace, name }))
        .executeTakeFirst();
      // Opaque, and never `env` (the environment's account): 12 hex digits.
      const id = existing?.id ?? `a${randomBytes(6).toString('hex')}`;
      const renewed = {
        api_url: account.apiUrl,
        api_key: this.box.seal(account.apiKey, where.apiKey(workspace, id)),
        key_hint: account.apiKey.slice(-4),
        status: 'active' as const,
        last_error: null,
      };
      const row = existing
        ? await trx
            .updateTable('halo_accounts')
            .set(renewed)
            .where((eb) => eb.and({ workspace_id: workspace, id }))
            .returningAll()
            .executeTakeFirstOrThrow()
        : await trx
            .insertInto('halo_accounts')
            .values({
              ...{ workspace_id: workspace, id, name, ...renewed, last_poll_at: null },
              ...{ created_by: account.createdBy, created_at: account.createdAt },
            })
            .returningAll()
            .executeTakeFirstOrThrow();
      return { account: this.toAccount(row), created: existing === undefined };
    });
  }

  async accounts(workspace?: string): Promise<AccountRecord[]> {
    const all = this.db.selectFrom('halo_accounts').selectAll();
    const rows = await all
      .$if(workspace !== undefined, (q) => q.where('workspace_id', '=', workspace!))
      .orderBy(this.engine.d.bytewise('workspace_id'))
      .orderBy(this.engine.d.bytewise('name'))
      .execute();
    return rows.map((row) => this.toAccount(row));
  }

  async setAccountHealth(
    scope: Scope,
    health: Pick<AccountRecord, 'status' | 'lastPollAt' | 'lastError'>,
  ): Promise<void> {
    await this.db
      .updateTable('halo_accounts')
      .set({ status: health.status, last_poll_at: health.lastPollAt, last_error: health.lastError })
      .where((eb) => eb.and({ workspace_id: scope.workspace, id: scope.account }))
      .execute();
  }

  async subscriptionsMark(): Promise<string> {
    const row = await this.db
      .selectFrom('halo_subscriptions')
      .select((eb) => [
        eb.fn.countAll().as('n'),
        eb.fn.max('id').as('top'),
        eb.fn.sum('id').as('ids'),
        eb.fn.sum('created_at').as('at'),
      ])
      .executeTakeFirst();
    return row === undefined ? '' : `${row.n}/${row.top}/${row.ids}/${row.at}`;
  }

  async subscriptionMarks(): Promise<{ scope: Scope; mark: string }[]> {
    const rows = await this.db
      .selectFrom('halo_subscriptions')
      .select((eb) => [
        'workspace_id',
        'account_id',
        eb.fn.countAll().as('n'),
        eb.fn.max('id').as('top'),
        eb.fn.sum('id').as('ids'),
        eb.fn.sum('created_at').as('at'),
      ])
      .groupBy(['workspace_id', 'account_id'])
      .execute();
    return rows.map((row) => ({
      scope: { workspace: row.workspace_id, account: row.account_id },
      mark: `${row.n}/${row.top}/${row.ids}/${row.at}`,
    }));
  }

  disconnectAccount(scope: Scope): Promise<Purged | null> {
    return this.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom('halo_accounts')
        .where((eb) => eb.and({ workspace_id: scope.workspace, id: scope.account }))
        .executeTakeFirst();
      if (removed.numDeletedRows === 0n) return null;
      // Its holder's next fenced write finds no lease and is refused; its pipeline stops within a heartbeat.
      await trx
        .deleteFrom('halo_leases')
        .where((eb) => eb.and({ workspace_id: scope.workspace, account_id: scope.account }))
        .execute();
      const rows = await purge(trx, scope.workspace, scope.account);
      return { rows: { accounts: 1, ...rows } };
    });
  }

  purgeWorkspace(workspace: string): Promise<Purged> {
    return this.db.transaction().execute(async (trx) => {
      const counts: Record<string, number> = {};
      for (const table of ['halo_installations', 'halo_accounts'] as const) {
        const removed = await trx.deleteFrom(table).where('workspace_id', '=', workspace).executeTakeFirst();
        if (removed.numDeletedRows > 0n) counts[table.slice('halo_'.length)] = Number(removed.numDeletedRows);
      }
      for (const table of ['halo_leases', 'halo_channel_pace'] as const)
        await trx.deleteFrom(table).where('workspace_id', '=', workspace).execute();
      return { rows: { ...counts, ...(await purge(trx, workspace)) } };
    });
  }

  async dueScopes(now: number): Promise<Scope[]> {
    const due = await dueScopesQuery(this.db, now).execute();
    return due.map((row) => ({ workspace: row.workspace_id, account: row.account_id }));
  }

  reencryptSecrets(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      let rewritten = 0;
      const renew = (sealed: string, context: string): string | null => {
        if (this.box.isCurrent(sealed)) return null;
        rewritten++;
        return this.box.seal(this.box.open(sealed, context), context);
      };
      for (const row of await trx.selectFrom('halo_installations').selectAll().execute()) {
        const workspace = row.workspace_id;
        const botToken = renew(row.bot_token, where.botToken(workspace));
        const raw = renew(row.raw, where.raw(workspace));
        if (botToken === null && raw === null) continue;
        await trx
          .updateTable('halo_installations')
          .set({ bot_token: botToken ?? row.bot_token, raw: raw ?? row.raw })
          .where('workspace_id', '=', workspace)
          .execute();
      }
      for (const row of await trx.selectFrom('halo_accounts').selectAll().execute()) {
        const apiKey = renew(row.api_key, where.apiKey(row.workspace_id, row.id));
        if (apiKey === null) continue;
        await trx
          .updateTable('halo_accounts')
          .set({ api_key: apiKey })
          .where((eb) => eb.and({ workspace_id: row.workspace_id, id: row.id }))
          .execute();
      }
      return rewritten;
    });
  }

  close(): Promise<void> {
    this.closed ??= this.closeDatabase();
    return this.closed;
  }

  private toInstallation(row: Selectable<Tables['halo_installations']>): InstallationRecord {
    const workspace = row.workspace_id;
    return {
      workspace,
      teamId: row.team_id,
      enterpriseId: row.enterprise_id,
      isEnterpriseInstall: Boolean(row.is_enterprise_install),
      botUserId: row.bot_user_id,
      botId: row.bot_id,
      botToken: this.box.open(row.bot_token, where.botToken(workspace)),
      raw: this.box.open(row.raw, where.raw(workspace)),
      installedBy: row.installed_by,
      installedAt: row.installed_at,
    };
  }

  private toAccount(row: Selectable<Tables['halo_accounts']>): AccountRecord {
    return {
      workspace: row.workspace_id,
      id: row.id,
      name: row.name,
      apiUrl: row.api_url,
      apiKey: this.box.open(row.api_key, where.apiKey(row.workspace_id, row.id)),
      keyHint: row.key_hint,
      status: row.status,
      lastPollAt: row.last_poll_at,
      lastError: row.last_error,
      createdBy: row.created_by,
      createdAt: row.created_at,
    };
  }
}

/** The due sweep's read ({@link SqlTenantStore.dueScopes}); apart, so that a test can see how it is planned. */
export function dueScopesQuery(db: Db, now: number) {
  // Served by the partial index of pending rows (schema.ts, step 9): the rows read are the backlog, never the
  // week's delivered ones. `state` is written out so that no planner has to see a bound value to know it applies.
  return db
    .selectFrom('halo_outbox')
    .select(['workspace_id', 'account_id'])
    .distinct()
    .where('state', '=', sql.lit('pending'))
    .where('next_attempt_at', '<=', now);
}

/** Deletes a workspace's rows (of one account, when given) from every tenant table: the counts, by table. */
async function purge(trx: Db, workspace: string, account?: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TENANT_TABLES) {
    const removed = await trx
      .deleteFrom(table)
      .where('workspace_id', '=', workspace)
      .$if(account !== undefined, (q) => q.where('account_id', '=', account!))
      .executeTakeFirst();
    if (removed.numDeletedRows > 0n) counts[table.slice('halo_'.length)] = Number(removed.numDeletedRows);
  }
  return counts;
}
