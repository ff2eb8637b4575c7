/**
 * A thread's scheduler times (threadCpu in src/harness/domain.ts): this test's
 * own thread, read from /proc as the harness reads a domain's. Linux only, as
 * the suite runs.
 */
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { threadCpu } from '../src/harness/domain.js';

const self = readlinkSync('/proc/thread-self');
const tid = Number(self.slice(self.lastIndexOf('/') + 1));

describe("a thread's scheduler times", () => {
  it('grow by the time the thread spends on a core', () => {
    const before = threadCpu(tid)!;
    expect(before).not.toBeNull();
    const t0 = performance.now();
    let x = 0;
    while (performance.now() - t0 < 60) x += Math.sqrt(x + 1);
    const after = threadCpu(tid)!;
    const on = after.onCpuMs - before.onCpuMs;
    // 60 ms of wall time spinning: on a core for most of it (a busy machine may take a little), never more
    expect(on).toBeGreaterThan(15);
    expect(on).toBeLessThanOrEqual(performance.now() - t0 + 1);
    expect(after.runQueueMs).toBeGreaterThanOrEqual(before.runQueueMs);
    expect(x).toBeGreaterThan(0);
  });

  it('is null for a thread that is not in this process', () => {
    expect(threadCpu(0)).toBeNull();
    expect(threadCpu(2 ** 31 - 1)).toBeNull();
  });
});
