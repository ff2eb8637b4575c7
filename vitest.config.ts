import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // worker-thread tests boot real kernels; give them room on a busy 2-core machine
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // two files at a time: most of a worker test's time is waiting (boots, heartbeats,
    // deadlines), so two forks on two cores finish sooner than one
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
