import { openSqliteTenants } from '../../src/store/sqlite.ts';
import { TEST_KEYS } from '../stores.ts';
import { runIsolation } from './suite.ts';
const t = openSqliteTenants(process.argv[2] ?? ':memory:', TEST_KEYS);
const start = performance.now();
const run = await runIsolation(t, { steps: 1000, seed: 1 });
console.log('ms', performance.now() - start, run.violations.length);
