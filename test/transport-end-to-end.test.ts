/**
 * The three payload transports end to end, through run() and compare() with real
 * worker threads: every transport gives the monolith's answers and counts the
 * same work, and bytesCopied is exactly what each transport's design says it
 * must be, computed by hand from the request stream and the file set:
 *
 *   per request the app sends NET_SEND with body [header, ...file slices]:
 *   copy      structured clone copies every cache block whole on disk -> app and
 *             again on app -> net (>= 2 x file bytes), plus the headers
 *   transfer  the disk copies its (kept) cache slices out once (= file bytes);
 *             every buffer then moves, headers included: nothing else is copied
 *   shared    file bytes cross as pool descriptors: only the headers, which live
 *             on the app's heap, are cloned (= payload bytes - file bytes)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../src/compare.js';
import { COUNTER_NAMES, type CounterName } from '../src/metrics/counters.js';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import { BLOCK_SIZE } from '../src/servers/fs.js';
import { expectAllOk, pick } from './support/reports.js';
import { served } from './support/served.js';

const REQUESTS = 400;
const SEEDS = [1996, 'lab'] as const;
const TRANSPORTS = ['copy', 'transfer', 'shared'] as const;
type T = (typeof TRANSPORTS)[number];
const NOT_COMPARED: readonly CounterName[] = ['bytesCopied', 'ipcMessages', 'crossings', 'directCalls', 'descriptorsRefused', 'ipcPayloadBytes', 'syscalls'];
const COMPARED = COUNTER_NAMES.filter((n) => !NOT_COMPARED.includes(n));
/**
 * Messages per request in the microkernel: app -> net NET_ACCEPT, app -> disk
 * DISK_LOOKUP and DISK_READ, app -> net NET_SEND, each a call and a reply.
 */
const MESSAGES_PER_REQUEST = 8;
/** And per receive the app kept posted (config.receives): its call, and the reply ESHUTDOWN when the wire closed. */
const MESSAGES_PER_RECEIVE = 2;

describe('the hand-computed expectations', () => {
  it('served(): file bytes, header bytes and the largest file are positive and consistent', () => {
    const s = served(1996, REQUESTS);
    expect(s.fileBytes).toBeGreaterThan(REQUESTS * 102); // every file is at least 102 bytes
    // "HTTP/1.0 200 OK\r\n" (17) + "Content-Type: application/octet-stream\r\n" (40)
    // + "Content-Length: " (16) + digits (3..6) + "\r\n\r\n" (4)
    expect(s.headerBytes).toBeGreaterThanOrEqual(REQUESTS * 80);
    expect(s.headerBytes).toBeLessThanOrEqual(REQUESTS * 83);
    expect(s.maxBlocks).toBeGreaterThan(1);
    expect(s.blocks * BLOCK_SIZE).toBeGreaterThanOrEqual(s.fileBytes);
    expect((s.blocks - REQUESTS) * BLOCK_SIZE).toBeLessThan(s.fileBytes); // at most one partial block per file
    expect(served(1996, REQUESTS)).toEqual(s); // deterministic
    expect(served('lab', REQUESTS)).not.toEqual(s); // and the seeds differ
  });
});

describe.each(SEEDS)(`specweb96, seed %s, ${REQUESTS} requests: monolithic and microkernel with each transport`, (seed) => {
  let mono: RunReport;
  const micro = {} as Record<T, RunReport>;
  let expected: ReturnType<typeof served>;
  beforeAll(async () => {
    expected = served(seed, REQUESTS);
    const base: Omit<RunOptions, 'mode'> = { workload: 'specweb96', seed, requests: REQUESTS };
    mono = await run({ ...base, mode: 'monolithic' });
    for (const transport of TRANSPORTS) micro[transport] = await run({ ...base, mode: 'microkernel', transport });
  });

  it('every request ends ok under every kernel and transport, and each report names its transport', () => {
    expectAllOk(mono, REQUESTS);
    expect(mono.transport).toBeNull();
    for (const t of TRANSPORTS) {
      expectAllOk(micro[t], REQUESTS);
      expect(micro[t].mode).toBe('microkernel');
      expect(micro[t].transport).toBe(t);
      expect(micro[t].config.transport).toBe(t);
    }
  });

  it.each(TRANSPORTS)('%s gives the same digest as the monolith', (t) => {
    expect(mono.digest).toMatch(/\S/);
    expect(micro[t].digest).toBe(mono.digest);
  });

  it.each(TRANSPORTS)('%s counts the same work as the monolith (all but the IPC counters)', (t) => {
    expect(COMPARED).toContain('payloadBytes');
    expect(COMPARED).toContain('diskBlocksRead');
    expect(pick(micro[t], COMPARED)).toEqual(pick(mono, COMPARED));
  });

  it('the work is what the request stream asks for: payload = file bytes + header bytes, one disk read per request', () => {
    for (const r of [mono, ...TRANSPORTS.map((t) => micro[t])]) {
      expect(r.counters.payloadBytes).toBe(expected.fileBytes + expected.headerBytes);
      expect(r.counters.diskReads).toBe(REQUESTS);
      expect(r.counters.appRequests).toBe(REQUESTS);
    }
  });

  it('ipcMessages and crossings are equal across transports: 8 per request and 2 per receive, 2 per monolithic direct call', () => {
    // closed loop: one receive per client
    expect(mono.config.receives).toBe(mono.workload.clients);
    expect(mono.counters.directCalls).toBe((MESSAGES_PER_REQUEST / 2) * REQUESTS + mono.config.receives);
    for (const t of TRANSPORTS) {
      const expected = MESSAGES_PER_REQUEST * REQUESTS + MESSAGES_PER_RECEIVE * micro[t].config.receives;
      expect(micro[t].config.receives).toBe(mono.config.receives);
      expect(micro[t].counters.ipcMessages).toBe(expected);
      expect(micro[t].counters.crossings).toBe(expected);
      expect(micro[t].counters.ipcMessages).toBe(2 * mono.counters.directCalls);
      expect(micro[t].counters.directCalls).toBe(0);
    }
    expect(mono.counters.ipcMessages).toBe(0);
  });

  it('no descriptor is refused under any transport', () => {
    for (const r of [mono, ...TRANSPORTS.map((t) => micro[t])]) expect(r.counters.descriptorsRefused).toBe(0);
  });

  it('the monolith copies nothing', () => {
    expect(mono.counters.bytesCopied).toBe(0);
  });

  it('copy: at least twice the file bytes served (disk -> app, app -> net)', () => {
    expect(expected.fileBytes).toBeGreaterThan(0);
    expect(micro.copy.counters.bytesCopied).toBeGreaterThanOrEqual(2 * expected.fileBytes);
    // exactly: the clone copies each cache block behind a slice whole, twice, and the headers once
    expect(micro.copy.counters.bytesCopied).toBe(2 * BLOCK_SIZE * expected.blocks + expected.headerBytes);
    expect(micro.copy.countersByServer.disk.bytesCopied).toBe(BLOCK_SIZE * expected.blocks);
  });

  it('transfer: exactly the file bytes served (the disk copies its cache slices out once; every buffer then moves)', () => {
    expect(micro.transfer.counters.bytesCopied).toBe(expected.fileBytes);
    // all of it counted at the disk, where the copy-out happens
    expect(micro.transfer.countersByServer.disk.bytesCopied).toBe(expected.fileBytes);
    expect(micro.transfer.countersByServer.app.bytesCopied).toBe(0);
    expect(micro.transfer.countersByServer.net.bytesCopied).toBe(0);
  });

  it('shared: exactly the HTTP header bytes (payload bytes - file bytes): no file byte is copied', () => {
    expect(micro.shared.counters.bytesCopied).toBe(expected.headerBytes);
    expect(micro.shared.counters.bytesCopied).toBe(micro.shared.counters.payloadBytes - expected.fileBytes);
    expect(micro.shared.countersByServer.disk.bytesCopied).toBe(0); // replies are descriptors
    expect(micro.shared.countersByServer.app.bytesCopied).toBe(expected.headerBytes);
  });

  it('per read request: copy > transfer > shared', () => {
    const per = (t: T) => micro[t].counters.bytesCopied / micro[t].counters.diskReads;
    expect(per('copy')).toBeGreaterThan(per('transfer'));
    expect(per('transfer')).toBeGreaterThan(per('shared'));
    expect(per('transfer')).toBe(expected.fileBytes / REQUESTS);
    expect(per('shared')).toBe(expected.headerBytes / REQUESTS);
  });
});

describe(`compare(): monolithic and every transport in one comparison (seed 7, ${REQUESTS} requests)`, () => {
  const LABELS = ['monolithic', 'microkernel:copy', 'microkernel:transfer', 'microkernel:shared'];
  let cmp: Comparison;
  let reference: RunReport;
  beforeAll(async () => {
    cmp = await compare({ workload: 'specweb96', seed: 7, requests: REQUESTS, labels: LABELS, rounds: 1, warmupRounds: 0 });
    reference = await run({ workload: 'specweb96', seed: 7, requests: REQUESTS, mode: 'monolithic' });
  });

  it('digestsEqual is true, and every report carries the monolith\'s digest from a separate run', () => {
    expect(cmp.digestsEqual).toBe(true);
    expect(cmp.results).toHaveLength(4);
    for (const res of cmp.results) {
      expect(res.reports).toHaveLength(1); // rounds 1, warm-up not reported
      expectAllOk(res.reports[0], REQUESTS);
      expect(res.reports[0].digest).toBe(reference.digest);
    }
  });

  it('the results are the labels in order, with their modes and transports; the first is the baseline', () => {
    expect(cmp.baseline).toBe('monolithic');
    expect(cmp.rounds).toBe(1);
    expect(cmp.results.map((r) => [r.label, r.mode, r.transport])).toEqual([
      ['monolithic', 'monolithic', null],
      ['microkernel:copy', 'microkernel', 'copy'],
      ['microkernel:transfer', 'microkernel', 'transfer'],
      ['microkernel:shared', 'microkernel', 'shared'],
    ]);
    expect(cmp.results.map((r) => r.reports[0].transport)).toEqual([null, 'copy', 'transfer', 'shared']);
  });

  it('each label\'s bytesCopied is the hand-computed figure for its transport', () => {
    const e = served(7, REQUESTS);
    const copied = cmp.results.map((r) => r.reports[0].counters.bytesCopied);
    expect(copied[0]).toBe(0);
    expect(copied[1]).toBeGreaterThanOrEqual(2 * e.fileBytes);
    expect(copied[2]).toBe(e.fileBytes);
    expect(copied[3]).toBe(e.headerBytes);
  });
});

describe('a cache smaller than the largest file served (8 blocks)', () => {
  const CACHE = 8;
  const seed = 1996;
  let mono: RunReport;
  const micro = {} as Record<T, RunReport>;
  beforeAll(async () => {
    const base: Omit<RunOptions, 'mode'> = { workload: 'specweb96', seed, requests: REQUESTS, cacheBlocks: CACHE };
    mono = await run({ ...base, mode: 'monolithic' });
    for (const transport of TRANSPORTS) micro[transport] = await run({ ...base, mode: 'microkernel', transport });
  });

  it('the run reads files of more blocks than the cache holds, and the cache evicts', () => {
    expect(served(seed, REQUESTS).maxBlocks).toBeGreaterThan(CACHE);
    expect(mono.config.cacheBlocks).toBe(CACHE);
    expect(mono.counters.cacheMisses).toBeGreaterThan(mono.counters.cacheHits);
  });

  it.each(['copy', 'transfer'] as const)('%s: same digest and work as the monolith; bytesCopied as with a big cache', (t) => {
    const e = served(seed, REQUESTS);
    expectAllOk(micro[t], REQUESTS);
    expect(micro[t].digest).toBe(mono.digest);
    expect(pick(micro[t], COMPARED)).toEqual(pick(mono, COMPARED));
    if (t === 'transfer') expect(micro[t].counters.bytesCopied).toBe(e.fileBytes);
    else expect(micro[t].counters.bytesCopied).toBeGreaterThanOrEqual(2 * e.fileBytes);
  });

  it('shared: every request still ends ok and counts the same work', () => {
    expectAllOk(micro.shared, REQUESTS);
    expect(pick(micro.shared, COMPARED)).toEqual(pick(mono, COMPARED));
    expect(micro.shared.counters.descriptorsRefused).toBe(0);
  });

  // Regression test (was a bug in src/servers/disk.ts getBlock with src/microkernel/pool.ts PoolBlocks).
  it('shared: same digest as the monolith', () => {
    expect(micro.shared.digest).toBe(mono.digest);
  });
});
