/**
 * Proof that the isolation suite fails when one scoping clause of the store is removed (issue 19). For each
 * mutation below, this copies the checkout's src/ and test/ to a temporary folder, removes that one clause from
 * the copy (never from the checkout), runs the isolation suite there with a fixed seed (on SQLite, or on
 * PostgreSQL for a clause of PostgreSQL's own), and reports how many leaks it found. A leak count counts every
 * check that failed, so one missing clause is usually counted many times over. It exits 1 if any mutation went
 * unnoticed.
 *
 *   node --import tsx test/isolation/mutate.ts                 # every mutation
 *   node --import tsx test/isolation/mutate.ts markSending     # the mutations whose name contains a word
 *   node --import tsx test/isolation/mutate.ts app             # the app's mutations (the app-level suite)
 *
 * ISOLATION_SEED (default 1) and ISOLATION_STEPS (default 2000) are passed on to the suite; the app's mutations
 * (the request's workspace, a button's account: checks of the Slack seam, not of the store) are run against the
 * app-level suite with ISOLATION_APP_STEPS (default 1000). First, as a control,
 * the same run on an untouched copy must pass (exit 2 otherwise). The PostgreSQL mutation needs the server of
 * test/postgres.ts; without it that suite is skipped and the mutation reported MISSED.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Edit {
  readonly file: string;
  /** Where the clause is: the first `search` after this text. */
  readonly within: string;
  readonly search: string;
  readonly replace: string;
}

interface Mutation extends Edit {
  readonly name: string;
  /** The suite it is run against: SQLite unless the clause is PostgreSQL's own. */
  readonly database?: 'PostgreSQL';
  /** `app`: a check of the app (its Slack seam), run against the app-level suite (app-isolation.test.ts). */
  readonly suite?: 'app';
  /** Further edits the same mutation needs (in order, after the first). */
  readonly more?: readonly Edit[];
}

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'outbox marks by ID (markDelivered/Retry/Failed) lose the scope',
    file: 'src/store/sql-outbox.ts',
    within: 'private mark(id: number)',
    search: '{ ...this.own, id }',
    replace: '{ id }',
  },
  {
    name: 'markSending (SQLite engine) loses the scope',
    file: 'src/store/sqlite.ts',
    within: 'markSending: async (scope, id, now)',
    search: '{ ...scopeColumns(scope), id, state: ',
    replace: '{ id, state: ',
  },
  {
    name: 'markSending (PostgreSQL engine) loses the scope',
    file: 'src/store/postgres.ts',
    within: 'markSending: async (scope, id, now)',
    search: 'WHERE workspace_id = ${scope.workspace} AND account_id = ${scope.account} AND id = ${id}',
    replace: 'WHERE id = ${id}',
    database: 'PostgreSQL',
  },
  {
    name: 'failChannel loses the scope',
    file: 'src/store/sql-outbox.ts',
    within: 'async failChannel(',
    search: '{ ...this.own, channel, state: ',
    replace: '{ channel, state: ',
  },
  {
    name: 'subscriptions() reads every scope',
    file: 'src/store/sql-channels.ts',
    within: 'async subscriptions(channel?: string)',
    search: '.where((eb) => eb.and(this.own))',
    replace: '',
  },
  {
    name: 'removeMute loses the scope',
    file: 'src/store/sql-channels.ts',
    within: 'async removeMute(',
    search: '{ ...this.own, id, ended_at: null }',
    replace: '{ id, ended_at: null }',
  },
  {
    name: 'countMuted loses the scope',
    file: 'src/store/sql-channels.ts',
    within: 'async countMuted(',
    search: '{ ...this.own, id }',
    replace: '{ id }',
  },
  {
    name: 'openThreads() reads every scope',
    file: 'src/store/sql-channels.ts',
    within: 'async openThreads()',
    search: 'all.where((eb) => eb.and(this.own))',
    replace: 'all',
  },
  {
    name: "eventMessages' acknowledgements lose the scope",
    file: 'src/store/sql-events.ts',
    within: 'async eventMessages(',
    search:
      ".where('a.workspace_id', '=', this.own.workspace_id)\n      .where('a.account_id', '=', this.own.account_id)",
    replace: '',
  },
  {
    name: 'setAccountHealth loses the workspace clause',
    file: 'src/store/tenants.ts',
    within: 'async setAccountHealth(',
    search: '{ workspace_id: scope.workspace, id: scope.account }',
    replace: '{ id: scope.account }',
  },
  {
    name: 'disconnectAccount loses the workspace clause',
    file: 'src/store/tenants.ts',
    within: 'disconnectAccount(scope: Scope)',
    search: '{ workspace_id: scope.workspace, id: scope.account }',
    replace: '{ id: scope.account }',
  },
  {
    name: "a disconnect's purge loses the account clause (purges the whole workspace)",
    file: 'src/store/tenants.ts',
    within: 'async function purge(',
    search: ".$if(account !== undefined, (q) => q.where('account_id', '=', account!))",
    replace: '',
  },
  // The app's own checks, which the store cannot make: which workspace a request is, which account a button names.
  {
    name: "the alert's Delete and Acknowledge resolve the workspace from the payload's user.team_id, not authorize's context",
    suite: 'app',
    file: 'src/slack/listeners/actions.ts',
    within: 'const { eventId } = ref;',
    search: 'requestWorkspace(deps.tenants, context)',
    replace: 'requestWorkspace(deps.tenants, { ...context, teamId: body.user.team_id })',
    more: [
      {
        file: 'src/slack/listeners/alert-buttons.ts',
        within: 'const account = await requestWorkspace(',
        search: 'requestWorkspace(deps.tenants, context)',
        replace: 'requestWorkspace(deps.tenants, { ...context, teamId: body.user.team_id })',
      },
    ],
  },
  {
    name: "a button's account is looked up among every workspace's accounts instead of the request's workspace's",
    suite: 'app',
    file: 'src/commands/workspace-accounts.ts',
    within: 'async byId(id: string | undefined)',
    search: 'this.tenants.accountsOf(this.key)',
    replace: 'this.tenants.accountsOfEvery()',
    more: [
      {
        file: 'src/commands/workspace-accounts.ts',
        within: 'export class Tenants {',
        search: '  /** Drops an account',
        replace:
          "  async accountsOfEvery(): Promise<TenantAccount[]> {\n    return (await this.options.accounts('*')).map((r) => this.serve({ workspace: r.workspace, account: r.id }, r));\n  }\n\n  /** Drops an account",
      },
      {
        file: 'src/app-tenants.ts',
        within: 'const accounts = async (workspace: string)',
        search: 'registry.accounts(workspace)',
        replace: "registry.accounts(workspace === '*' ? undefined : workspace)",
      },
      {
        file: 'src/app-tenants.ts',
        within: 'const own = connected.filter(',
        search: 'a.workspace === workspace &&',
        replace: "(workspace === '*' || a.workspace === workspace) &&",
      },
    ],
  },
  {
    name: 'the seam takes the organisation a request names as its workspace, org-wide install or not',
    suite: 'app',
    file: 'src/commands/workspace-accounts.ts',
    within: 'export function installedWorkspace(',
    search: 'request.isEnterpriseInstall === true ? request.enterpriseId : request.teamId',
    replace: 'request.enterpriseId ?? request.teamId',
  },
];

const root = resolve(import.meta.dirname, '../..');

/** A copy of the checkout's sources, with `mutation` applied when given. */
function copy(mutation?: Mutation): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-mutant-'));
  for (const part of ['src', 'test', 'fakes', 'package.json', 'tsconfig.json', 'vitest.config.ts'])
    cpSync(join(root, part), join(dir, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  if (mutation === undefined) return dir;
  for (const edit of [mutation, ...(mutation.more ?? [])]) {
    const file = join(dir, edit.file);
    const text = readFileSync(file, 'utf8');
    const from = text.indexOf(edit.within);
    const at = from === -1 ? -1 : text.indexOf(edit.search, from);
    if (at === -1)
      throw new Error(`${mutation.name}: "${edit.search}" not found after "${edit.within}" in ${edit.file}`);
    writeFileSync(file, text.slice(0, at) + edit.replace + text.slice(at + edit.search.length));
  }
  return dir;
}

const env = {
  ...process.env,
  ISOLATION_SEED: process.env.ISOLATION_SEED ?? '1',
  ISOLATION_STEPS: process.env.ISOLATION_STEPS ?? '2000',
  ISOLATION_APP_STEPS: process.env.ISOLATION_APP_STEPS ?? '1000',
};

/** The app-level suite in a copy: its outcome, read as {@link suite} reads the store suite's. */
function appSuite(mutation: Mutation | undefined) {
  const dir = copy(mutation);
  try {
    const run = spawnSync(
      'node_modules/.bin/vitest',
      ['run', 'test/isolation/app-isolation.test.ts', '--reporter=dot'],
      { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${run.stdout}${run.stderr}`;
    const leaks = /app isolation: .*?, (\d+) leaks/.exec(output)?.[1];
    return {
      status: run.status,
      leaks: leaks === undefined ? undefined : Number(leaks),
      first: /LEAK at step .*/.exec(output)?.[0].slice(0, 300),
      error:
        leaks === undefined
          ? (/(\w*Error: .*)/.exec(output)?.[1]?.slice(0, 300) ?? output.slice(-600))
          : undefined,
      how: `app, seed ${env.ISOLATION_SEED}, ${env.ISOLATION_APP_STEPS} steps, vitest exit ${run.status}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the isolation suite of one database in a copy, and reads its outcome. */
function suite(mutation: Mutation | undefined, database: 'SQLite' | 'PostgreSQL') {
  const dir = copy(mutation);
  try {
    const run = spawnSync(
      'node_modules/.bin/vitest',
      ['run', 'test/isolation/store-isolation.test.ts', '-t', database, '--reporter=dot'],
      { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${run.stdout}${run.stderr}`;
    const leaks = new RegExp(`isolation ${database}: .*?, (\\d+) leaks`).exec(output)?.[1];
    return {
      status: run.status,
      leaks: leaks === undefined ? undefined : Number(leaks),
      first: /LEAK at step .*/.exec(output)?.[0].slice(0, 300),
      // A leak may also surface as an error the suite did not expect (the test then fails without its count).
      error: leaks === undefined ? /(\w*Error: .*)/.exec(output)?.[1]?.slice(0, 300) : undefined,
      how: `${database}, seed ${env.ISOLATION_SEED}, ${env.ISOLATION_STEPS} steps, vitest exit ${run.status}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const filter = process.argv[2];
const chosen = MUTATIONS.filter(
  (m) => filter === undefined || (filter === 'app' ? m.suite === 'app' : m.name.includes(filter)),
);

// The control: the same run on an untouched copy passes, so that a failure below is the mutation's doing.
const controls = [
  ...(chosen.some((m) => m.suite === undefined) ? [suite(undefined, 'SQLite')] : []),
  ...(chosen.some((m) => m.suite === 'app') ? [appSuite(undefined)] : []),
];
for (const control of controls) {
  process.stdout.write(`CONTROL no mutation: ${control.leaks ?? '?'} leaks (${control.how})\n`);
  if (control.status !== 0 || control.leaks !== 0) {
    process.stdout.write(`The suite fails without a mutation: ${control.first ?? control.error ?? ''}\n`);
    process.exit(2);
  }
}

let missed = 0;
for (const mutation of chosen) {
  const result =
    mutation.suite === 'app' ? appSuite(mutation) : suite(mutation, mutation.database ?? 'SQLite');
  const caught =
    result.status === 1 && ((result.leaks !== undefined && result.leaks > 0) || result.error !== undefined);
  if (!caught) missed++;
  process.stdout.write(
    `${caught ? 'CAUGHT' : 'MISSED'}  ${mutation.name}: ${result.leaks ?? '?'} leaks (${result.how})\n` +
      (result.first === undefined ? '' : `        first: ${result.first}\n`) +
      (result.error === undefined ? '' : `        error: ${result.error}\n`),
  );
}
process.stdout.write(`${chosen.length - missed} of ${chosen.length} mutations caught\n`);
process.exit(missed === 0 ? 0 : 1);
