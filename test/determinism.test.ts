/**
 * Deterministic work (DESIGN invariant 3): the same seed and configuration give
 * the same counted events and the same responses, run after run, in each mode;
 * only host-measured figures may vary. A different seed asks for different
 * files, so its responses (digest) differ.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../src/metrics/counters.js';
import { run, type RunReport } from '../src/run.js';

const REQUESTS = 500;

describe.each(['monolithic', 'microkernel'] as const)('%s kernel', (mode) => {
  let first: RunReport;
  let second: RunReport;
  let otherSeed: RunReport;
  beforeAll(async () => {
    first = await run({ mode, workload: 'specweb96', seed: 2024, requests: REQUESTS });
    second = await run({ mode, workload: 'specweb96', seed: 2024, requests: REQUESTS });
    otherSeed = await run({ mode, workload: 'specweb96', seed: 2025, requests: REQUESTS });
  });

  it('all three runs complete every request', () => {
    for (const r of [first, second, otherSeed]) {
      expect(r.status, r.problems.join('; ')).toBe('ok');
      expect(r.outcomes.ok).toBe(REQUESTS);
    }
  });

  it('the same seed twice gives identical counters, every one of them', () => {
    expect(Object.keys(first.counters).sort()).toEqual([...COUNTER_NAMES].sort());
    expect(second.counters).toEqual(first.counters);
    // the counters are not trivially equal because they are all zero
    expect(first.counters.payloadBytes).toBeGreaterThan(0);
    expect(first.counters.cacheMisses).toBeGreaterThan(0);
  });

  it('the same seed twice gives identical per-server counters', () => {
    expect(second.countersByServer).toEqual(first.countersByServer);
  });

  it('the same seed twice gives the same digest', () => {
    expect(second.digest).toBe(first.digest);
  });

  it('a different seed gives a different digest', () => {
    expect(otherSeed.workload.seed).not.toBe(first.workload.seed);
    expect(otherSeed.digest).not.toBe(first.digest);
  });
});

describe('seed handling', () => {
  it("a run without a seed uses the workload's own seed, reproducibly", async () => {
    const a = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300 });
    const b = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300 });
    const explicit = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300, seed: a.workload.seed });
    expect(b.digest).toBe(a.digest);
    expect(explicit.digest).toBe(a.digest);
    expect(explicit.counters).toEqual(a.counters);
  });

  it('string seeds are reproducible, and two different strings give different responses', async () => {
    const s1 = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300, seed: 'alpha' });
    const s2 = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300, seed: 'alpha' });
    const s3 = await run({ mode: 'monolithic', workload: 'specweb96', requests: 300, seed: 'beta' });
    expect(s2.digest).toBe(s1.digest);
    expect(s3.digest).not.toBe(s1.digest);
  });
});
