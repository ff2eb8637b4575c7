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
    // the kernels' threads run the compiled build, which `npm test` makes from these sources
    // first (pretest): a thread starts in a fraction of the time it takes through tsx
    env: { MICROLITH_DOMAINS: 'dist' },
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
