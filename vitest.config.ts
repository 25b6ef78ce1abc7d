import { defineConfig } from 'vitest/config';
import FaultReporter from './test/faults/report.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests start real HTTP servers and child processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most tests wait on timers and sockets, not the CPU: on a 2-core machine vitest would run files one at a time.
    maxWorkers: 4,
    // Each worker imports the app once rather than once per file: importing Bolt, the Slack SDK and the app's
    // TypeScript was 40% of the suite's CPU time. Safe because nothing in src/ keeps module-level state (the
    // metrics registry, the clock, the store are built per bot) and no test mocks a module.
    isolate: false,
    // The fault report prints one table after any run that included test/faults.
    reporters: ['default', new FaultReporter()],
  },
});
