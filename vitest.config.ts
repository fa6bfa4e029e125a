import { defineConfig } from 'vitest/config';

// One project per package plus `test/` for the tests that cross programs (docs/architecture.md).
export default defineConfig({
  test: {
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
