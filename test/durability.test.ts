/**
 * Durable NFS writes (src/durability.ts, src/servers/disk.ts, src/run.ts): every
 * WRITE the clients saw acknowledged must be on the disk image at the end of
 * the run, byte for byte, unless a later write may have covered those bytes.
 *
 * - checkDurability by hand: an image from mkfs, a ledger filled with LEDGER
 *   codes, and the writes' bytes (writeData) put on the image by the test.
 * - run(): the nfs workload in both kernels checks clean; `disk@N:lose`, aimed
 *   by computing from the request stream at a write no later write covers, is
 *   found lost; a disk crash with writes in flight loses nothing acknowledged.
 * - the CLI: a lost write exits 1 and says which; `net@N:lose` is bad usage.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDurability, type Durability } from '../src/durability.js';
import { run, type RunReport } from '../src/run.js';
import { BLOCK_SIZE, mkfs, mount } from '../src/servers/fs.js';
import { LEDGER } from '../src/wire/registers.js';
import { RequestStream, fileSet, writeData, type Op } from '../src/workload/generate.js';
import { loadWorkload } from '../src/workload/load.js';
import { WorkloadSchema, type Workload, type WorkloadFile } from '../src/workload/schema.js';
import { spawnCli } from './support/cli.js';

type NfsOp = Extract<Op, { protocol: 'nfs' }>;
interface W {
  id: number;
  op: NfsOp;
}

/** The first `n` operations of `w`'s request stream. */
function opsOf(w: Workload, n = w.requests): Op[] {
  const s = new RequestStream(w);
  return Array.from({ length: n }, () => s.nextOp());
}

/** The WRITEs among `ops`, with their request ids. */
function writesOf(ops: Op[]): W[] {
  const out: W[] = [];
  ops.forEach((op, id) => {
    if (op.protocol === 'nfs' && op.op === 'WRITE') out.push({ id, op });
  });
  return out;
}

function overlaps(a: NfsOp, b: NfsOp): boolean {
  return a.path === b.path && a.offset < b.offset + b.length && b.offset < a.offset + a.length;
}

/** Byte offset on the image of each file's first byte. */
function starts(image: SharedArrayBuffer): Map<string, number> {
  return new Map(mount(image).inodes.map((i) => [i.path, i.startBlock * BLOCK_SIZE]));
}

/** Put write `wr`'s bytes on `image`, as the disk does. */
function applyWrite(w: Workload, image: SharedArrayBuffer, wr: W): void {
  const at = starts(image).get(wr.op.path)!;
  new Uint8Array(image, at + wr.op.offset, wr.op.length).set(writeData(w.seed, wr.id, wr.op.length));
}

/** The image bytes of write `wr`'s range. */
function rangeOf(image: SharedArrayBuffer, wr: W): Uint8Array {
  return new Uint8Array(image, starts(image).get(wr.op.path)! + wr.op.offset, wr.op.length);
}

/** File offsets of write k's bytes that no later non-refused write touches (its own bytes). */
function ownBytes(writes: W[], k: number, code: (id: number) => number): number[] {
  const wr = writes[k];
  const later = writes.slice(k + 1).filter((x) => code(x.id) !== LEDGER.refused && x.op.path === wr.op.path);
  const out: number[] = [];
  for (let b = wr.op.offset; b < wr.op.offset + wr.op.length; b++) {
    if (!later.some((x) => b >= x.op.offset && b < x.op.offset + x.op.length)) out.push(b);
  }
  return out;
}

/** What the check should find, worked out the slow and obvious way, byte by byte. */
function model(writes: W[], code: (id: number) => number): { acked: number; verified: number; superseded: number; bytes: number } {
  const out = { acked: 0, verified: 0, superseded: 0, bytes: 0 };
  writes.forEach((wr, k) => {
    if (code(wr.id) !== LEDGER.done) return;
    out.acked++;
    const mine = ownBytes(writes, k, code).length;
    out.bytes += mine;
    if (mine > 0 || wr.op.length === 0) out.verified++;
    else out.superseded++;
  });
  return out;
}

/** A ledger of `n` entries, entry id set to code(id). */
function ledgerOf(n: number, code: (id: number) => number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, id) => code(id));
}

function loss(wr: W, fileOffset: number): string {
  return `request ${wr.id}: WRITE ${wr.op.path} ${wr.op.offset} ${wr.op.length}, first wrong byte at file offset ${fileOffset}`;
}

function workload(file: Omit<WorkloadFile, 'name' | 'clients'>): Workload {
  return WorkloadSchema.parse({ name: 'durability', clients: 1, ...file });
}

// ---------------------------------------------------------------------------
describe('checkDurability, with a ledger and an image made by hand', () => {
  // three files of one to four blocks, two transfer sizes: writes overlap, partly and wholly
  const w = workload({
    seed: 'ledger-1',
    requests: 80,
    fileSet: { directories: 1, classes: [{ name: 'f', weight: 1, sizes: [3 * 4096 + 100, 5000, 4096] }] },
    popularity: { kind: 'zipf', exponent: 0 },
    services: [{ protocol: 'nfs', writeFraction: 0.7, ioSizes: [1024, 4096] }],
  });
  const ops = opsOf(w);
  const writes = writesOf(ops);
  const all = (_id: number) => LEDGER.done;
  const fresh = () => mkfs(fileSet(w), w.seed);
  /** The image after every write of `ws`, in request order. */
  const written = (ws: W[]) => {
    const img = fresh();
    for (const wr of ws) applyWrite(w, img, wr);
    return img;
  };

  it('the fixture has writes that are verified, writes later ones wholly cover, and reads', () => {
    const m = model(writes, all);
    expect(writes.length).toBeGreaterThan(20);
    expect(writes.length).toBeLessThan(ops.length);
    expect(m.verified).toBeGreaterThan(3);
    expect(m.superseded).toBeGreaterThan(3);
  });

  it('every acknowledged write on the image: verified or superseded, none lost, each byte compared once', () => {
    const d = checkDurability(w, written(writes), ledgerOf(w.requests, all));
    const m = model(writes, all);
    expect(d).toEqual({ ackedWrites: writes.length, verified: m.verified, superseded: m.superseded, lost: 0, bytesChecked: m.bytes, firstLoss: null });
    // each byte any write touched, compared once: against its last writer
    const touched = new Set(writes.flatMap((wr) => Array.from({ length: wr.op.length }, (_, i) => `${wr.op.path}:${wr.op.offset + i}`)));
    expect(d.bytesChecked).toBe(touched.size);
  });

  it('nothing written at all: every write with bytes of its own is lost, and the first loss is the earliest', () => {
    const img = fresh();
    const d = checkDurability(w, img, ledgerOf(w.requests, all));
    const m = model(writes, all);
    expect(d.ackedWrites).toBe(writes.length);
    expect(d.lost).toBe(m.verified);
    expect(d.verified).toBe(0);
    expect(d.superseded).toBe(m.superseded);
    // the earliest write with bytes of its own, at the first of them the fresh image does not hold
    const k = writes.findIndex((_wr, i) => ownBytes(writes, i, all).length > 0);
    const first = writes[k];
    const there = rangeOf(img, first);
    const want = writeData(w.seed, first.id, first.op.length);
    const bad = ownBytes(writes, k, all).find((b) => there[b - first.op.offset] !== want[b - first.op.offset])!;
    expect(d.firstLoss).toBe(loss(first, bad));
  });

  it('one corrupted byte of an acknowledged write: lost 1, named with the byte', () => {
    // a write of which some bytes are its own: corrupt its last own byte
    const k = writes.findIndex((wr, i) => wr.op.length > 1 && !writes.slice(i + 1).some((x) => overlaps(x.op, wr.op)));
    expect(k).toBeGreaterThanOrEqual(0);
    const victim = writes[k];
    const img = written(writes);
    const bytes = rangeOf(img, victim);
    const at = victim.op.length - 1;
    bytes[at] ^= 0x5a;
    const d = checkDurability(w, img, ledgerOf(w.requests, all));
    const m = model(writes, all);
    expect(d.lost).toBe(1);
    expect(d.verified).toBe(m.verified - 1);
    expect(d.superseded).toBe(m.superseded);
    expect(d.ackedWrites).toBe(writes.length);
    expect(d.firstLoss).toBe(loss(victim, victim.op.offset + at));
    // the check compared the victim's bytes up to the bad one, all of them here
    expect(d.bytesChecked).toBe(m.bytes);
  });

  it('a corrupted byte in two writes: lost 2, and the first loss is the earlier request', () => {
    const own = writes.filter((wr, i) => wr.op.length > 0 && !writes.slice(i + 1).some((x) => overlaps(x.op, wr.op)));
    expect(own.length).toBeGreaterThanOrEqual(2);
    const [a, b] = [own[0], own[own.length - 1]];
    const img = written(writes);
    rangeOf(img, b)[0] ^= 1;
    rangeOf(img, a)[0] ^= 1;
    const d = checkDurability(w, img, ledgerOf(w.requests, all));
    expect(d.lost).toBe(2);
    expect(d.firstLoss).toBe(loss(a, a.op.offset));
  });

  it('the bytes of a superseded write are no longer on the image, and that is not a loss', () => {
    const img = written(writes);
    const superseded = writes.filter((wr, k) => wr.op.length > 0 && ownBytes(writes, k, all).length === 0);
    expect(superseded.length).toBeGreaterThan(0);
    for (const wr of superseded) expect(rangeOf(img, wr), `request ${wr.id}`).not.toEqual(writeData(w.seed, wr.id, wr.op.length));
    expect(checkDurability(w, img, ledgerOf(w.requests, all))).toMatchObject({ lost: 0, superseded: superseded.length });
  });

  it('refused and failed writes are not acknowledged: not counted, not checked', () => {
    const notDone = (id: number) => (id % 2 === 0 ? LEDGER.refused : LEDGER.failed);
    const d = checkDurability(w, fresh(), ledgerOf(w.requests, notDone));
    expect(d).toEqual({ ackedWrites: 0, verified: 0, superseded: 0, lost: 0, bytesChecked: 0, firstLoss: null });
  });

  it('a not-issued tail of the ledger is ignored: the check is that of the issued prefix', () => {
    const half = Math.floor(w.requests / 2);
    const prefix = writes.filter((wr) => wr.id < half);
    expect(prefix.length).toBeGreaterThan(5);
    expect(prefix.length).toBeLessThan(writes.length);
    const img = written(prefix);
    const m = model(prefix, all);
    const expected: Durability = { ackedWrites: prefix.length, verified: m.verified, superseded: m.superseded, lost: 0, bytesChecked: m.bytes, firstLoss: null };
    // the tail never issued: the writes it would have made do not cover anything
    expect(checkDurability(w, img, ledgerOf(w.requests, (id) => (id < half ? LEDGER.done : LEDGER.notIssued)))).toEqual(expected);
    // requests are issued in id order: whatever follows the first not-issued entry is not read
    expect(checkDurability(w, img, ledgerOf(w.requests, (id) => (id < half ? LEDGER.done : id === half ? LEDGER.notIssued : LEDGER.done)))).toEqual(expected);
    // and a shorter ledger is the same as a not-issued tail
    expect(checkDurability(w, img, ledgerOf(half, all))).toEqual(expected);
  });
});

describe('checkDurability: which later writes cover an earlier one', () => {
  // one 4 KiB file, every request a WRITE of all of it: each write covers every earlier one
  const w = workload({
    seed: 'cover',
    requests: 3,
    fileSet: { directories: 1, classes: [{ name: 'f', weight: 1, sizes: [4096] }] },
    services: [{ protocol: 'nfs', writeFraction: 1, ioSizes: [4096] }],
  });
  const writes = writesOf(opsOf(w));
  const [w0, w1] = writes;

  it('the fixture: three whole-file writes of /dir000/f_0', () => {
    expect(writes.map((x) => [x.id, x.op.path, x.op.offset, x.op.length])).toEqual([
      [0, '/dir000/f_0', 0, 4096],
      [1, '/dir000/f_0', 0, 4096],
      [2, '/dir000/f_0', 0, 4096],
    ]);
  });

  /** An image whose file holds garbage (or `with`'s bytes). */
  const image = (withWrite?: W) => {
    const img = mkfs(fileSet(w), w.seed);
    rangeOf(img, w0).fill(0xee);
    if (withWrite) applyWrite(w, img, withWrite);
    return img;
  };
  const ledger = (...codes: number[]) => Uint8Array.from(codes);

  it.each([
    ['in flight', LEDGER.inFlight],
    ['of unknown outcome', LEDGER.unknown],
    ['failed (5xx)', LEDGER.failed],
  ])('a later write %s covers an acknowledged one: superseded, not lost, though the image holds garbage', (_what, code) => {
    const d = checkDurability(w, image(), ledger(LEDGER.done, code, LEDGER.notIssued));
    expect(d).toEqual({ ackedWrites: 1, verified: 0, superseded: 1, lost: 0, bytesChecked: 0, firstLoss: null });
  });

  it('a later refused write does not cover: the garbage is a lost write', () => {
    const d = checkDurability(w, image(), ledger(LEDGER.done, LEDGER.refused, LEDGER.notIssued));
    expect(d).toEqual({ ackedWrites: 1, verified: 0, superseded: 0, lost: 1, bytesChecked: 1, firstLoss: loss(w0, 0) });
  });

  it('a later refused write does not cover: the acknowledged bytes on the image are verified', () => {
    const d = checkDurability(w, image(w0), ledger(LEDGER.done, LEDGER.refused, LEDGER.notIssued));
    expect(d).toEqual({ ackedWrites: 1, verified: 1, superseded: 0, lost: 0, bytesChecked: 4096, firstLoss: null });
  });

  it('a later acknowledged write: the earlier is superseded and the later one is checked', () => {
    expect(checkDurability(w, image(w1), ledger(LEDGER.done, LEDGER.done, LEDGER.notIssued))).toEqual({
      ackedWrites: 2,
      verified: 1,
      superseded: 1,
      lost: 0,
      bytesChecked: 4096,
      firstLoss: null,
    });
    // the earlier write's bytes are not what the later write should have left
    expect(checkDurability(w, image(w0), ledger(LEDGER.done, LEDGER.done, LEDGER.notIssued))).toMatchObject({ lost: 1, superseded: 1, firstLoss: loss(w1, 0) });
  });

  it('a covering write that was never issued covers nothing', () => {
    const d = checkDurability(w, image(), ledger(LEDGER.done, LEDGER.notIssued, LEDGER.inFlight));
    expect(d).toMatchObject({ ackedWrites: 1, lost: 1, superseded: 0, firstLoss: loss(w0, 0) });
  });

  it('a later unacknowledged write covering half of an acknowledged one: only the other half is checked', () => {
    // an 8 KiB file written in 8 KiB and 4 KiB pieces: find WRITE 0 8192, then (no write between) WRITE 4096 4096
    const w2 = workload({
      seed: 'halves',
      requests: 400,
      fileSet: { directories: 1, classes: [{ name: 'f', weight: 1, sizes: [8192] }] },
      services: [{ protocol: 'nfs', writeFraction: 0.5, ioSizes: [8192, 4096] }],
    });
    const ws = writesOf(opsOf(w2));
    const k = ws.findIndex((x, i) => x.op.offset === 0 && x.op.length === 8192 && ws[i + 1]?.op.offset === 4096);
    expect(k).toBeGreaterThanOrEqual(0);
    const [whole, half] = [ws[k], ws[k + 1]];
    const code = (id: number) => (id < whole.id ? LEDGER.refused : id < half.id ? LEDGER.done : id === half.id ? LEDGER.inFlight : LEDGER.notIssued);
    const img = mkfs(fileSet(w2), w2.seed);
    applyWrite(w2, img, whole);
    rangeOf(img, half).fill(0xee); // the unacknowledged write left garbage: not judged
    expect(checkDurability(w2, img, ledgerOf(w2.requests, code))).toEqual({ ackedWrites: 1, verified: 1, superseded: 0, lost: 0, bytesChecked: 4096, firstLoss: null });
    // garbage in the half that is its own is a loss, at the first bad byte
    new Uint8Array(img, starts(img).get(whole.op.path)! + 100, 1)[0] ^= 0xff;
    expect(checkDurability(w2, img, ledgerOf(w2.requests, code))).toMatchObject({ lost: 1, verified: 0, firstLoss: loss(whole, 100) });
  });
});

// ---------------------------------------------------------------------------
const NFS = loadWorkload('nfs');

/**
 * A lose fault that must hit write `k`: the disk loses its first write at or
 * after message N. Each request is a DISK_LOOKUP then (for nfs) one data
 * operation, and data operations reach the disk in request order, so write k
 * is at least message 2k+2; with `clients` requests in flight, up to
 * clients - 1 later lookups may come first, so the write before it, j, is at
 * most message 2j+2+clients-1. N = 2k+2 picks write k when 2(k-j) >= clients.
 * Write k must also have bytes and be covered by no later write of the run.
 */
function loseTarget(w: Workload, requests: number, clients: number, skipFirst: boolean): { victim: W; atMessage: number } {
  const writes = writesOf(opsOf(w, requests));
  for (let i = 0; i < writes.length; i++) {
    const wr = writes[i];
    if (wr.op.length === 0 || writes.slice(i + 1).some((x) => overlaps(x.op, wr.op))) continue;
    if (i === 0 ? !skipFirst : 2 * (wr.id - writes[i - 1].id) >= clients) return { victim: wr, atMessage: 2 * wr.id + 2 };
  }
  throw new Error('no write to aim a lose fault at');
}

/** The first byte of `victim`'s range that differs on the image the run leaves without it. */
function firstWrongByte(w: Workload, requests: number, victim: W): number {
  const img = mkfs(fileSet(w), w.seed);
  for (const wr of writesOf(opsOf(w, requests))) if (wr.id < victim.id) applyWrite(w, img, wr);
  const there = rangeOf(img, victim);
  const want = writeData(w.seed, victim.id, victim.op.length);
  const i = want.findIndex((b, j) => b !== there[j]);
  expect(i).toBeGreaterThanOrEqual(0);
  return victim.op.offset + i;
}

/** The problem line run() reports for one lost write. */
function lossProblem(acked: number, firstLoss: string): string {
  return `1 of ${acked} acknowledged writes are not on the disk image (${firstLoss})`;
}

describe('run(): the nfs workload checks clean in every kernel', () => {
  const REQUESTS = 600;
  const labels = [
    ['monolithic', {}],
    ['microkernel:copy', { transport: 'copy' }],
    ['microkernel:shared', { transport: 'shared' }],
    ['microkernel:shared:ring', { transport: 'shared', signal: 'ring' }],
  ] as const;
  const reports = new Map<string, RunReport>();
  beforeAll(async () => {
    for (const [label, opts] of labels) {
      reports.set(label, await run({ mode: label === 'monolithic' ? 'monolithic' : 'microkernel', ...opts, workload: NFS, requests: REQUESTS }));
    }
  });
  const writes = writesOf(opsOf(NFS, REQUESTS)).length;

  it.each(labels.map(([l]) => l))('%s: ok, every write acknowledged and checked, none lost', (label) => {
    const r = reports.get(label)!;
    expect(r.status, r.problems.join('; ')).toBe('ok');
    expect(r.outcomes).toEqual({ ok: REQUESTS, fail: 0, info: 0, pending: 0, notIssued: 0 });
    const d = r.durability!;
    expect(d).not.toBeNull();
    expect(d.ackedWrites).toBe(writes);
    expect(d.ackedWrites).toBeGreaterThan(0);
    expect(d.lost).toBe(0);
    expect(d.firstLoss).toBeNull();
    expect(d.verified + d.superseded).toBe(d.ackedWrites);
    expect(d.verified).toBeGreaterThan(0);
    expect(d.bytesChecked).toBeGreaterThan(0);
    expect(r.counters.diskWrites).toBe(writes);
  });

  it('the same durability figures and digest in every kernel', () => {
    const mono = reports.get('monolithic')!;
    for (const [label] of labels) {
      expect(reports.get(label)!.durability, label).toEqual(mono.durability);
      expect(reports.get(label)!.digest, label).toBe(mono.digest);
    }
  });
});

describe('run() with disk@N:lose: the lost write is found', () => {
  const REQUESTS = 600;
  const CLIENTS = 4;
  const { victim, atMessage } = loseTarget(NFS, REQUESTS, CLIENTS, true);
  const writes = writesOf(opsOf(NFS, REQUESTS)).length;

  it('the aim: a write after the first, none later on its bytes', () => {
    expect(victim.id).toBeGreaterThan(0);
    expect(atMessage).toBe(2 * victim.id + 2);
  });

  it.each([
    ['monolithic', undefined],
    ['microkernel', 'copy'],
    ['microkernel', 'shared'],
  ] as const)('%s %s: status failed, lost 1, the problem names the write', async (mode, transport) => {
    const r = await run({ mode, transport, workload: NFS, requests: REQUESTS, clients: CLIENTS, faults: [`disk@${atMessage}:lose`] });
    const firstLoss = loss(victim, firstWrongByte(NFS, REQUESTS, victim));
    // the disk acknowledged everything: the clients saw no error
    expect(r.outcomes).toEqual({ ok: REQUESTS, fail: 0, info: 0, pending: 0, notIssued: 0 });
    // the fault killed nothing: it is reported as struck and survived, at the write it lost
    const planned = `disk:lose@message=${atMessage}`;
    expect(r.faults).toEqual([
      {
        server: 'disk',
        kind: 'lose',
        message: `${planned} struck`,
        outcome: 'survived',
        planned,
        atMs: expect.any(Number),
        request: expect.any(Number),
        atMessage: expect.any(Number),
        noticedAtMs: null,
        incarnation: 0,
      },
    ]);
    // the first write at or after message N: with CLIENTS requests in flight, at most CLIENTS - 1 lookups come first
    expect(r.faults[0].atMessage).toBeGreaterThanOrEqual(atMessage);
    expect(r.faults[0].atMessage).toBeLessThan(atMessage + CLIENTS);
    expect(r.faultPlan).toEqual([{ spec: planned, struck: true, atMs: expect.any(Number), request: expect.any(Number), atMessage: r.faults[0].atMessage }]);
    for (const [name, s] of Object.entries(r.servers)) expect([s.crashed, s.restarts], name).toEqual([false, 0]);
    expect(r.durability).toMatchObject({ ackedWrites: writes, lost: 1, firstLoss });
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual([lossProblem(writes, firstLoss)]);
  });
});

describe('run() with a disk crash while writes are in flight', () => {
  const REQUESTS = 2000;
  const atMessage = 301;

  it('monolithic: a panic; the writes acknowledged before it are all on the image', async () => {
    const r = await run({ mode: 'monolithic', workload: NFS, requests: REQUESTS, callTimeoutMs: 20_000, faults: [`disk@${atMessage}`] });
    expect(r.status).toBe('failed');
    expect(r.faults.map((f) => [f.server, f.kind, f.outcome, f.atMessage])).toEqual([['disk', 'panic', 'system-down', atMessage]]);
    expect(r.countersByServer.disk.messagesHandled).toBe(atMessage);
    const d = r.durability!;
    expect(d).not.toBeNull();
    expect(d.ackedWrites).toBeGreaterThan(0);
    expect(d.lost).toBe(0);
    expect(d.firstLoss).toBeNull();
    // some writes were issued and never acknowledged: they were in flight at the crash
    const issued = REQUESTS - r.outcomes.notIssued;
    expect(issued).toBeLessThan(REQUESTS);
    const issuedWrites = writesOf(opsOf(NFS, issued)).length;
    expect(issuedWrites).toBeGreaterThan(d.ackedWrites);
    expect(r.problems.join('\n')).not.toContain('acknowledged writes');
  });

  it('microkernel: the disk is restarted, the calls in flight go again, and every write is acknowledged and on the image', async () => {
    const r = await run({ mode: 'microkernel', workload: NFS, requests: REQUESTS, callTimeoutMs: 20_000, faults: [`disk@${atMessage}`] });
    expect(r.faults.map((f) => [f.server, f.kind, f.outcome, f.atMessage, f.incarnation])).toEqual([['disk', 'crash', 'restarted', atMessage, 1]]);
    expect(r.servers.disk).toMatchObject({ crashed: true, incarnations: 2, restarts: 1, givenUp: false });
    expect(r.status, r.problems.join('; ')).toBe('ok');
    expect(r.outcomes).toEqual({ ok: REQUESTS, fail: 0, info: 0, pending: 0, notIssued: 0 });
    // the message the crash struck, at least, was repeated on the next incarnation
    expect(r.retries.calls).toBeGreaterThanOrEqual(1);
    expect(r.countersByServer.disk.messagesHandled).toBeGreaterThanOrEqual(2 * REQUESTS + 1);
    const d = r.durability!;
    expect(d).not.toBeNull();
    expect(d.ackedWrites).toBe(writesOf(opsOf(NFS, REQUESTS)).length);
    expect(d.lost).toBe(0);
    expect(d.firstLoss).toBeNull();
    expect(d.verified + d.superseded).toBe(d.ackedWrites);
  });
});

// ---------------------------------------------------------------------------
describe('the command line', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  const cli = (...args: string[]) => {
    const r = spawnCli(args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return r;
  };

  it('run -w nfs -n 400 --fault disk@N:lose: exit 1, and the lost write is named', () => {
    const REQUESTS = 400;
    const { victim, atMessage } = loseTarget(NFS, REQUESTS, NFS.clients, false);
    const firstLoss = loss(victim, firstWrongByte(NFS, REQUESTS, victim));
    const writes = writesOf(opsOf(NFS, REQUESTS)).length;
    const r = cli('run', '-w', 'nfs', '-n', String(REQUESTS), '--fault', `disk@${atMessage}:lose`, '--json');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.durability).toMatchObject({ ackedWrites: writes, lost: 1, firstLoss });
    expect(report.status).toBe('failed');
    // the text (on stderr with --json) says so too, and so does the one line of the verdict
    const verdict = r.stderr.split('\n').find((l) => l.startsWith('microlith: run failed: '));
    expect(verdict, r.stderr).toContain(lossProblem(writes, firstLoss));
    expect(r.stderr).toContain('1 LOST');
    expect(r.stderr).not.toContain('    at ');
  });

  it('--fault net@5:lose is bad usage: exit 2, one line saying only the disk can lose a write', () => {
    const r = cli('run', '-w', 'nfs', '-n', '10', '--fault', 'net@5:lose');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]).toBe("microlith: --fault 'net@5:lose': only the disk can lose a write (disk:lose@TRIGGER), not net");
    // one line is all
    expect(lines.slice(1)).toEqual([]);
  });
});
