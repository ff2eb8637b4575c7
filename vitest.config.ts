import { defineConfig } from 'vitest/config';
import { TEST_NODE_FLAGS } from './test/support/node-flags.js';

/**
 * Tests grouped by distance, so the fast ones can run first:
 *   unit     in-process: handlers, codecs, parsers, the cost model (npm run test:unit)
 *   channel  in this thread, over MessageChannels and rings (npm run test:channel)
 *   workers  real kernels in worker threads, the CLI as a process, sockets (npm run test:workers)
 * `npm test` runs them all.
 */
const UNIT = [
  'app-handlers',
  'app-http',
  'app-protocols',
  'bench-check',
  'bench-profile',
  'checksum-rfc1071',
  'costmodel-ipc-copies',
  'disk-handlers',
  'disk-write',
  'frame-codec',
  'fs-image',
  'net-handlers',
  'pool-descriptors',
  'pool-extents',
  'public-docs',
  'ring-buffer',
  'supervision-parts',
  'workload-files',
  'workload-texts',
  'paths',
  'response-hash',
  'ok-timeline',
  'thread-cpu',
].map((f) => `test/${f}.test.ts`);
/** Worker tests that change what a later file in the same fork would import or see. */
const OWN_FORK = ['compare-stats', 'fault-plan', 'library-json', 'report-text', 'sweep'].map((f) => `test/${f}.test.ts`);
const CHANNEL = ['batching-port', 'ipc-messagechannel', 'message-shapes', 'ring-channel', 'transport-codecs', 'transport-ipc'].map((f) => `test/${f}.test.ts`);

export default defineConfig({
  test: {
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
    // V8 flags for the forks and their threads: test/support/node-flags.ts says what each does and why
    execArgv: [...TEST_NODE_FLAGS],
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      // in-process tests that leave no global state behind: the files of a fork share their
      // imports instead of each loading the sources afresh (a third of the unit tests' time)
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false } },
      { extends: true, test: { name: 'channel', include: CHANNEL, isolate: false } },
      // the worker tests share their fork's imports too (about 0.6 s of CPU per file), but for
      // the files that replace a module (vi.mock), spy on the process's streams, or set
      // FORCE_COLOR before the colour default is read at import: each of those has a fork of its own
      { extends: true, test: { name: 'workers', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...CHANNEL, ...OWN_FORK], isolate: false } },
      { extends: true, test: { name: 'workers-own', include: OWN_FORK } },
    ],
  },
});
