/**
 * Proof that the isolation suite fails when one scoping clause of the store is removed (issue 19). For each
 * mutation below, this copies the checkout's src/ and test/ to a temporary folder, removes that one clause from
 * the copy (never from the checkout), runs the SQLite isolation suite there with a fixed seed, and reports how
 * many leaks it found. It exits 1 if any mutation went unnoticed.
 *
 *   node --import tsx test/isolation/mutate.ts                 # every mutation
 *   node --import tsx test/isolation/mutate.ts markSending     # the mutations whose name contains a word
 *
 * ISOLATION_SEED (default 1) and ISOLATION_STEPS (default 2000) are passed on to the suite.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Mutation {
  readonly name: string;
  readonly file: string;
  /** Where the clause is: the first `search` after this text. */
  readonly within: string;
  readonly search: string;
  readonly replace: string;
}

const STORE = 'src/store/sql-store.ts';

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'outbox marks by ID (markDelivered/Retry/Failed) lose the scope',
    file: STORE,
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
    name: 'failChannel loses the scope',
    file: STORE,
    within: 'async failChannel(',
    search: '{ ...this.own, channel, state: ',
    replace: '{ channel, state: ',
  },
  {
    name: 'subscriptions() reads every scope',
    file: STORE,
    within: 'async subscriptions(channel?: string)',
    search: '.where((eb) => eb.and(this.own))',
    replace: '',
  },
  {
    name: 'removeMute loses the scope',
    file: STORE,
    within: 'async removeMute(',
    search: '{ ...this.own, id, ended_at: null }',
    replace: '{ id, ended_at: null }',
  },
  {
    name: 'countMuted loses the scope',
    file: STORE,
    within: 'async countMuted(',
    search: '{ ...this.own, id }',
    replace: '{ id }',
  },
  {
    name: 'openThreads() reads every scope',
    file: STORE,
    within: 'async openThreads()',
    search: 'all.where((eb) => eb.and(this.own))',
    replace: 'all',
  },
  {
    name: "eventMessages' acknowledgements lose the scope",
    file: STORE,
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
];

const root = resolve(import.meta.dirname, '../..');

function mutant(mutation: Mutation): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-mutant-'));
  for (const part of ['src', 'test', 'fakes', 'package.json', 'tsconfig.json', 'vitest.config.ts'])
    cpSync(join(root, part), join(dir, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const file = join(dir, mutation.file);
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(mutation.within);
  const at = from === -1 ? -1 : text.indexOf(mutation.search, from);
  if (at === -1)
    throw new Error(
      `${mutation.name}: "${mutation.search}" not found after "${mutation.within}" in ${mutation.file}`,
    );
  writeFileSync(file, text.slice(0, at) + mutation.replace + text.slice(at + mutation.search.length));
  return dir;
}

const filter = process.argv[2];
const chosen = MUTATIONS.filter((m) => filter === undefined || m.name.includes(filter));
const env = {
  ...process.env,
  ISOLATION_SEED: process.env.ISOLATION_SEED ?? '1',
  ISOLATION_STEPS: process.env.ISOLATION_STEPS ?? '2000',
};
let missed = 0;
for (const mutation of chosen) {
  const dir = mutant(mutation);
  try {
    const run = spawnSync(
      'node_modules/.bin/vitest',
      ['run', 'test/isolation/store-isolation.test.ts', '-t', 'SQLite', '--reporter=dot'],
      { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${run.stdout}${run.stderr}`;
    const leaks = /isolation SQLite: .*?, (\d+) leaks/.exec(output)?.[1];
    const first = /LEAK at step .*/.exec(output)?.[0].slice(0, 300);
    // A leak may also surface as an error the suite did not expect (the test then fails without its count).
    const error = leaks === undefined ? /(\w*Error: .*)/.exec(output)?.[1]?.slice(0, 300) : undefined;
    const caught = run.status === 1 && ((leaks !== undefined && Number(leaks) > 0) || error !== undefined);
    if (!caught) missed++;
    process.stdout.write(
      `${caught ? 'CAUGHT' : 'MISSED'}  ${mutation.name}: ${leaks ?? '?'} leaks (seed ${env.ISOLATION_SEED}, ${env.ISOLATION_STEPS} steps, vitest exit ${run.status})\n` +
        (first === undefined ? '' : `        first: ${first}\n`) +
        (error === undefined ? '' : `        error: ${error}\n`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`${chosen.length - missed} of ${chosen.length} mutations caught\n`);
process.exit(missed === 0 ? 0 : 1);
