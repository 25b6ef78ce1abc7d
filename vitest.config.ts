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
    // The fault report prints one table after any run that included test/faults.
    reporters: ['default', new FaultReporter()],
  },
});
