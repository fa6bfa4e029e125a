import { defineConfig } from 'vitest/config';

// One project per package plus `test/` for the tests that cross programs (docs/architecture.md).
export default defineConfig({
  test: {
    // Two test files at a time even on a 2-core machine (vitest's default there is one): most tests wait on brokers,
    // child processes and the browser rather than on the CPU, so two halve the wall time; every test waits for the
    // fact it checks, never a fixed time, so a busier machine makes them slower, not wrong.
    maxWorkers: 2,
    // A failed comparison shows the whole value (e.g. which request a page saw fail), not "{ console: [], …(1) }".
    chaiConfig: { truncateThreshold: 0 },
    projects: [
      { test: { name: 'shared', include: ['shared/test/**/*.test.ts'] } },
      { test: { name: 'sensor-agent', include: ['sensor-agent/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'aggregator', include: ['aggregator/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'dashboard', include: ['dashboard/test/**/*.test.ts'] } },
      {
        test: {
          name: 'cross',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
