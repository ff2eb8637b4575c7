/**
 * Open-loop latency end to end, both kernels: a request is never sent before
 * its scheduled arrival and its latency runs from that arrival, so at a low
 * rate (each request mostly alone) its latency is its round trip plus how late
 * it left; it cannot come out below a round trip. The same requests sent back
 * to back by one closed-loop client measure the round trip alone, so the open
 * loop's median is at least the closed loop's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../src/config.js';
import { run, type RunReport } from '../src/run.js';

const REQUESTS = 300;
const RATE_PER_SEC = 400;

describe.each(['monolithic', 'microkernel'] as Mode[])('%s kernel at %s requests/s', (mode) => {
  let open: RunReport;
  let closed: RunReport;
  beforeAll(async () => {
    const base = { mode, workload: 'specweb96', requests: REQUESTS, seed: 31 } as const;
    closed = await run({ ...base, clients: 1 });
    open = await run({ ...base, arrival: { kind: 'open', ratePerSec: RATE_PER_SEC, maxInFlight: 64 } });
  }, 60_000);

  it('serves every request, with the same answers as the closed loop', () => {
    expect(open.status).toBe('ok');
    expect(open.outcomes.ok).toBe(REQUESTS);
    expect(open.digest).toBe(closed.digest);
  });

  it('sends no request before its scheduled arrival', () => {
    expect(open.pacing).not.toBeNull();
    expect(open.pacing!.sentEarly).toBe(0);
    expect(open.pacing!.lateUs.p50).toBeGreaterThanOrEqual(0);
    expect(closed.pacing).toBeNull();
  });

  it('the open-loop median latency is at least the one-client closed-loop median', () => {
    expect(open.latencyUs!.p50).toBeGreaterThanOrEqual(closed.latencyUs!.p50);
  });
});
