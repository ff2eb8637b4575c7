/**
 * Cross-mode equivalence (DESIGN invariants 1-4), end to end through run():
 * for the same workload and seed, the monolithic kernel and the microkernel
 * (real worker threads) give the same responses and count the same work, apart
 * from the counters that exist in one mode only; and the mode-specific counters
 * relate the way the two kernels' designs say they must.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_NAMES, MODE_SPECIFIC_COUNTERS } from '../src/metrics/counters.js';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import { expectAllOk, pick } from './support/reports.js';
import { fileBytesRequested } from './support/served.js';

const REQUESTS = 400;
const SHARED_COUNTERS = COUNTER_NAMES.filter((n) => !MODE_SPECIFIC_COUNTERS.includes(n));

/** Both kernels on the same options. */
async function bothModes(opts: Omit<RunOptions, 'mode'>): Promise<{ mono: RunReport; micro: RunReport }> {
  const mono = await run({ ...opts, mode: 'monolithic' });
  const micro = await run({ ...opts, mode: 'microkernel' });
  return { mono, micro };
}

describe.each([1, 42, 'lab'])(`specweb96, seed %s, ${REQUESTS} requests`, (seed) => {
  let mono: RunReport;
  let micro: RunReport;
  beforeAll(async () => {
    ({ mono, micro } = await bothModes({ workload: 'specweb96', seed, requests: REQUESTS }));
  });

  it('every request ends ok in both modes', () => {
    expectAllOk(mono, REQUESTS);
    expectAllOk(micro, REQUESTS);
  });

  it('both modes give the same digest', () => {
    expect(micro.digest).toBe(mono.digest);
  });

  it('every counter that is not mode-specific is equal across modes', () => {
    expect(SHARED_COUNTERS.length).toBeGreaterThan(0);
    expect(pick(micro, SHARED_COUNTERS)).toEqual(pick(mono, SHARED_COUNTERS));
  });

  it('the work is real: files were read, checksummed and framed', () => {
    for (const r of [mono, micro]) {
      expect(r.counters.appRequests).toBe(REQUESTS);
      expect(r.counters.diskReads).toBe(REQUESTS);
      expect(r.counters.framesSent).toBeGreaterThanOrEqual(REQUESTS);
      expect(r.counters.bytesChecksummed).toBe(r.counters.payloadBytes);
      expect(r.counters.payloadBytes).toBeGreaterThan(fileBytesRequested(seed, REQUESTS));
    }
  });

  it('the monolith copies nothing and sends no messages; the microkernel makes no direct calls', () => {
    expect(mono.counters.bytesCopied).toBe(0);
    expect(mono.counters.ipcMessages).toBe(0);
    expect(mono.counters.crossings).toBe(0);
    expect(mono.counters.directCalls).toBeGreaterThan(0);
    expect(micro.counters.directCalls).toBe(0);
  });

  it('each monolithic direct call is one microkernel call + reply: ipcMessages === 2 x directCalls', () => {
    const by = (r: RunReport, c: 'ipcMessages' | 'directCalls') => Object.entries(r.countersByServer).map(([s, v]) => `${s} ${v[c]}`).join(', ');
    expect(micro.counters.ipcMessages, `${by(micro, 'ipcMessages')} against ${by(mono, 'directCalls')}`).toBe(2 * mono.counters.directCalls);
  });

  it('the microkernel copies every served file at least twice (disk -> app, app -> net)', () => {
    const fileBytes = fileBytesRequested(seed, REQUESTS);
    expect(fileBytes).toBeGreaterThan(0);
    expect(micro.counters.bytesCopied).toBeGreaterThanOrEqual(2 * fileBytes);
  });
});

describe('different configurations still agree across modes', () => {
  const seeds = [7, 'lab'];
  const plain = new Map<string | number, RunReport>();
  const offload = new Map<string | number, { mono: RunReport; micro: RunReport }>();
  const smallCache = new Map<string | number, { mono: RunReport; micro: RunReport }>();
  beforeAll(async () => {
    for (const seed of seeds) {
      const base = { workload: 'specweb96', seed, requests: REQUESTS } as const;
      plain.set(seed, await run({ ...base, mode: 'monolithic' }));
      offload.set(seed, await bothModes({ ...base, checksumOffload: true }));
      smallCache.set(seed, await bothModes({ ...base, cacheBlocks: 64, checksumOffload: true }));
    }
  });

  it.each(seeds)('checksum offload (seed %s): nothing checksummed, same digest as without offload', (seed) => {
    const { mono, micro } = offload.get(seed)!;
    const reference = plain.get(seed)!;
    expectAllOk(mono, REQUESTS);
    expectAllOk(micro, REQUESTS);
    expect(reference.counters.bytesChecksummed).toBeGreaterThan(0);
    expect(mono.counters.bytesChecksummed).toBe(0);
    expect(micro.counters.bytesChecksummed).toBe(0);
    expect(mono.digest).toBe(reference.digest);
    expect(micro.digest).toBe(reference.digest);
    expect(pick(micro, SHARED_COUNTERS)).toEqual(pick(mono, SHARED_COUNTERS));
    expect(micro.counters.ipcMessages).toBe(2 * mono.counters.directCalls);
  });

  it.each(seeds)('a 64-block cache (seed %s): many more misses, counters still equal across modes', (seed) => {
    const { mono, micro } = smallCache.get(seed)!;
    const reference = plain.get(seed)!;
    expectAllOk(mono, REQUESTS);
    expectAllOk(micro, REQUESTS);
    expect(micro.config.cacheBlocks).toBe(64);
    // the big cache holds every block of this short run after first use; the small one must evict
    expect(mono.counters.cacheMisses).toBeGreaterThan(reference.counters.cacheMisses);
    expect(mono.counters.cacheMisses).toBeGreaterThan(mono.counters.cacheHits);
    expect(pick(micro, SHARED_COUNTERS)).toEqual(pick(mono, SHARED_COUNTERS));
    expect(micro.digest).toBe(mono.digest);
    expect(micro.digest).toBe(reference.digest);
    expect(mono.counters.bytesCopied).toBe(0);
    expect(micro.counters.ipcMessages).toBe(2 * mono.counters.directCalls);
    expect(micro.counters.bytesCopied).toBeGreaterThanOrEqual(2 * fileBytesRequested(seed, REQUESTS));
  });
});
