/**
 * Every shipped workload, end to end through run(), under the monolith and the
 * microkernel with each transport (copy, transfer, shared) and with shared
 * memory rings: all requests ok, one digest and the same mode-independent
 * counters across kernels; a workload that writes has every WRITE acknowledged
 * and on the image at the end. The list comes from shippedWorkloads(), so a new
 * workload file is covered without touching this test.
 *
 * Expectations come from the request stream (RequestStream.nextOp), never from
 * a hard-coded digest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_NAMES, MODE_SPECIFIC_COUNTERS } from '../src/metrics/counters.js';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import { RequestStream, type Op } from '../src/workload/generate.js';
import { loadWorkload, shippedWorkloads } from '../src/workload/load.js';
import { writesToDisk, type Workload } from '../src/workload/schema.js';
import { expectAllOk, pick } from './support/reports.js';

const SHARED_COUNTERS = COUNTER_NAMES.filter((n) => !MODE_SPECIFIC_COUNTERS.includes(n));

/** Requests and clients per workload: few whole-file transfers of 1-16 MiB for ftp-bulk, a few hundred otherwise. */
const SIZE: Record<string, { requests: number; clients?: number }> = {
  'ftp-bulk': { requests: 12, clients: 4 },
};
const DEFAULT_SIZE = { requests: 300 };

const KERNELS: { label: string; opts: Pick<RunOptions, 'mode' | 'transport' | 'signal'> }[] = [
  { label: 'monolithic', opts: { mode: 'monolithic' } },
  { label: 'microkernel:copy', opts: { mode: 'microkernel', transport: 'copy' } },
  { label: 'microkernel:transfer', opts: { mode: 'microkernel', transport: 'transfer' } },
  { label: 'microkernel:shared', opts: { mode: 'microkernel', transport: 'shared' } },
  { label: 'microkernel:shared:ring', opts: { mode: 'microkernel', transport: 'shared', signal: 'ring' } },
];

/** The first `n` operations of the workload's request stream (requests and clients do not change the stream). */
function ops(w: Workload, n: number): Op[] {
  const stream = new RequestStream(w);
  return Array.from({ length: n }, () => stream.nextOp());
}

const isWrite = (op: Op) => op.protocol === 'nfs' && op.op === 'WRITE';

const names = shippedWorkloads();

it('the library holds the workloads this test was written against (and any new ones)', () => {
  expect(names).toEqual(expect.arrayContaining(['dns', 'ftp-bulk', 'mixed', 'nfs', 'specweb96']));
});

describe.each(names)('workload %s', (name) => {
  const size = SIZE[name] ?? DEFAULT_SIZE;
  const base = loadWorkload(name);
  const w: Workload = { ...base, requests: size.requests, clients: size.clients ?? base.clients };
  const stream = ops(w, w.requests);
  const writes = stream.filter(isWrite).length;
  const fileRequests = stream.filter((op) => op.protocol !== 'dns').length;
  const reports = new Map<string, RunReport>();

  beforeAll(async () => {
    for (const k of KERNELS) {
      reports.set(k.label, await run({ workload: name, requests: w.requests, clients: w.clients, ...k.opts }));
    }
  });

  it.each(KERNELS.map((k) => k.label))('%s: every request ends ok, nothing failed', (label) => {
    const r = reports.get(label)!;
    expectAllOk(r, w.requests);
    expect(r.workload.name).toBe(name);
    expect(r.mode).toBe(label.split(':')[0]);
    expect(r.transport).toBe(label.split(':')[1] ?? null);
  });

  it('every kernel gives the digest of the monolith', () => {
    const mono = reports.get('monolithic')!.digest;
    expect(mono).toMatch(new RegExp(`-${w.requests}$`)); // a digest over every response
    for (const k of KERNELS) expect(reports.get(k.label)!.digest, k.label).toBe(mono);
  });

  it('every kernel counts the same mode-independent work as the monolith', () => {
    const mono = pick(reports.get('monolithic')!, SHARED_COUNTERS);
    for (const k of KERNELS) expect(pick(reports.get(k.label)!, SHARED_COUNTERS), k.label).toEqual(mono);
  });

  it('the counted work matches the request stream: one app request each, one lookup per file request, one disk write per WRITE', () => {
    for (const k of KERNELS) {
      const c = reports.get(k.label)!.counters;
      expect(c.appRequests, k.label).toBe(w.requests);
      expect(c.diskLookups, k.label).toBe(fileRequests);
      expect(c.diskReads, k.label).toBe(fileRequests - writes);
      expect(c.diskWrites, k.label).toBe(writes);
    }
  });

  if (writesToDisk(w)) {
    it('writes: the stream has WRITEs, and every one is acknowledged and found on the image (lost 0)', () => {
      expect(writes).toBeGreaterThan(0);
      for (const k of KERNELS) {
        const d = reports.get(k.label)!.durability;
        expect(d, k.label).not.toBeNull();
        expect(d!.lost, `${k.label}: ${d!.firstLoss}`).toBe(0);
        expect(d!.firstLoss, k.label).toBeNull();
        expect(d!.ackedWrites, k.label).toBe(writes);
        expect(d!.verified + d!.superseded, k.label).toBe(writes);
        expect(d!.verified, k.label).toBeGreaterThan(0);
        expect(d!.bytesChecked, k.label).toBeGreaterThan(0);
      }
    });
  } else {
    it('no writes: the stream has no WRITE, and durability is null', () => {
      expect(writes).toBe(0);
      for (const k of KERNELS) {
        expect(reports.get(k.label)!.durability, k.label).toBeNull();
        expect(reports.get(k.label)!.counters.diskBytesWritten, k.label).toBe(0);
      }
    });
  }
});

describe('nfs run twice in a row', () => {
  const REQUESTS = 300;
  const w: Workload = { ...loadWorkload('nfs'), requests: REQUESTS };
  let first: RunReport;
  let second: RunReport;
  beforeAll(async () => {
    first = await run({ mode: 'monolithic', workload: 'nfs', requests: REQUESTS });
    second = await run({ mode: 'monolithic', workload: 'nfs', requests: REQUESTS });
  });

  it('the stream reads bytes that a later WRITE changes, so a reused image would change the answers', () => {
    const stream = ops(w, REQUESTS);
    const overlaps = (a: Op, b: Op) =>
      a.protocol === 'nfs' && b.protocol === 'nfs' && a.path === b.path && a.offset < b.offset + b.length && b.offset < a.offset + a.length;
    const readThenWritten = stream.some((op, i) => op.protocol === 'nfs' && op.op === 'READ' && stream.slice(i + 1).some((later) => isWrite(later) && overlaps(op, later)));
    expect(readThenWritten).toBe(true);
  });

  it('gives the same digest both times: each run starts from a fresh copy of the image', () => {
    expectAllOk(first, REQUESTS);
    expectAllOk(second, REQUESTS);
    expect(second.digest).toBe(first.digest);
    expect(second.durability).toEqual(first.durability);
    expect(pick(second, COUNTER_NAMES)).toEqual(pick(first, COUNTER_NAMES));
  });
});

describe('dns never touches the disk', () => {
  let report: RunReport;
  beforeAll(async () => {
    report = await run({ mode: 'microkernel', transport: 'shared', workload: 'dns', requests: 300 });
  });

  it('no lookups, reads, writes or cache traffic, and yet every query answered', () => {
    expectAllOk(report, 300);
    const c = report.counters;
    expect(c.appRequests).toBe(300);
    expect(c.payloadBytes).toBeGreaterThan(0);
    for (const n of ['diskLookups', 'diskReads', 'diskBlocksRead', 'diskWrites', 'cacheHits', 'cacheMisses'] as const) {
      expect(c[n], n).toBe(0);
    }
    // the disk server's own counters: it handled nothing at all
    expect(report.countersByServer.disk.messagesHandled).toBe(0);
  });
});
