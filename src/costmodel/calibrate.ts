/**
 * `microlith calibrate`: measure what each counted event costs in this program
 * on this machine, and write it as the `host` cost profile; `--check` then
 * prices every shipped workload's counted events with a profile and compares
 * the modelled throughput with the host-measured one.
 *
 * Each parameter is the median of several timed loops of the code the event
 * stands for (the same functions the servers call), so the host profile says
 * what this simulator's events cost here, not what an OS would.
 */
import os from 'node:os';
import { crc32 } from 'node:zlib';
import { median, round } from '../metrics/stats.js';
import { benchIpc } from '../microkernel/bench-ipc.js';
import { InetChecksum } from '../servers/inet-checksum.js';
import { cutFrames } from '../servers/net.js';
import { heapBlocks, ok } from '../servers/server.js';
import { BLOCK_SIZE } from '../servers/fs.js';
import { shippedWorkloads, loadWorkload } from '../workload/load.js';
import { largestFile, writeData } from '../workload/generate.js';
import { parseLabel } from '../compare.js';
import { run } from '../run.js';
import { resolveProfile, type Param, type Profile, type ProfileFile } from './profile.js';
import { priceCpu } from './price.js';
import type { Mode } from '../config.js';
import { WorkloadSchema, type Workload } from '../workload/schema.js';

/** Median over `trials` of the µs per iteration of `body` run `n` times. */
function timeSync(n: number, trials: number, body: (i: number) => void): number {
  const per: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) body(i);
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return median(per);
}

async function timeAsync(n: number, trials: number, body: (i: number) => Promise<unknown>): Promise<number> {
  const per: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await body(i);
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return median(per);
}

const KIB_64 = 64 * 1024;

/**
 * Memory-to-memory copies of each payload byte in one message of the copy
 * transport here: a structured clone through postMessage, whose sender's V8
 * ValueSerializer writes each ArrayBuffer's bytes into the serialised message
 * and whose receiver's ValueDeserializer copies them into a new ArrayBuffer.
 * The host's copyUsPerKiB is per KiB and copy, as every profile's is.
 */
const CLONE_COPIES = 2;

function filled(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

/** What `calibrate()` accepts: how long to measure, and a callback named for each step as it starts. */
export interface CalibrateOptions {
  /** Scales the loop counts (1 = default, ~10 s). */
  effort?: number;
  onStep?: (what: string) => void;
}

/** Measure the host profile. */
export async function calibrate(opts: CalibrateOptions = {}): Promise<ProfileFile> {
  const e = opts.effort ?? 1;
  const n = (x: number) => Math.max(1, Math.round(x * e));
  const step = opts.onStep ?? (() => {});
  const how = (what: string) => `measured by \`microlith calibrate\` on this machine: ${what}`;
  const param = (value: number, unit: string, source: string, derivation?: string): Param => ({
    value: round(value, 4),
    unit,
    source,
    ...(derivation ? { derivation } : {}),
  });

  step('a direct call (monolithic system call)');
  // the monolith's call path: an async call that dispatches to a handler and awaits its reply
  const handler = (m: { type: string }) => ok({ echoed: m.type });
  const dispatch = async (m: { type: string }) => handler(m);
  const call = async (m: { type: string }) => {
    const r = await dispatch(m);
    return r;
  };
  const syscallUs = await timeAsync(n(100_000), 5, () => call({ type: 'X' }));

  step('IPC messages between two domains (bench ipc, copy, message signalling, 8 B, pipelined)');
  const [ipc] = await benchIpc({ transports: ['copy'], signals: ['message'], sizes: [8], spinUs: 0, depth: 64, effort: e });
  const ipcBenchUs = ipc.pipelinedRoundTripUs;

  // Per-byte costs are measured on data that is not in the processor's caches,
  // as a workload's files mostly are: 64 KiB at a time, walking through 32 MiB.
  const POOL = 512; // 64 KiB pieces: 32 MiB
  const pool = filled(POOL * KIB_64);
  const piece = (i: number) => pool.subarray((i % POOL) * KIB_64, ((i % POOL) + 1) * KIB_64);
  // cache blocks are separate 4 KiB buffers, and a payload is an array of them
  const blocks = Array.from({ length: 2048 }, (_, k) => pool.slice(k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE));
  const payload = (i: number) => Array.from({ length: 16 }, (_, k) => blocks[(i * 16 + k) % blocks.length]);

  step('copies (structured clone of a payload of 16 separate 4 KiB blocks)');
  const copyUsPerKiB = timeSync(n(2_000), 5, (i) => structuredClone(payload(i))) / 64 / CLONE_COPIES;

  step('the Internet checksum (64 KiB at a time over 32 MiB)');
  const checksumUsPerKiB =
    timeSync(n(2_000), 5, (i) => {
      const c = new InetChecksum();
      c.update(piece(i));
      c.digest();
    }) / 64;

  step('framing (64 KiB cut into 1460-byte frames)');
  const body = [filled(41), ...Array.from({ length: 16 }, () => filled(BLOCK_SIZE))];
  const frames = cutFrames(body, 1460).length;
  const frameUs = timeSync(n(20_000), 5, () => cutFrames(body, 1460)) / frames;

  step("the simulated clients' digest (CRC-32, 64 KiB at a time over 32 MiB)");
  const wireUsPerKiB = timeSync(n(2_000), 5, (i) => crc32(piece(i))) / 64;

  step("the simulated clients' WRITE data (seeded bytes, 32 KiB)");
  const wireRequestUsPerKiB = timeSync(n(1_000), 5, (i) => writeData(1, i, 32 * 1024)) / 32;

  step('a disk block read into the cache (the image is memory here)');
  const image = new Uint8Array(new SharedArrayBuffer(8192 * BLOCK_SIZE)); // 32 MiB
  image.set(pool);
  const blockUs = timeSync(n(50_000), 5, (i) => {
    const k = i % 8192;
    const b = heapBlocks.alloc(BLOCK_SIZE);
    b.set(image.subarray(k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE));
  });
  const diskTransferMBps = BLOCK_SIZE / blockUs; // bytes per µs = MB/s

  const cpus = os.cpus();
  const measured: ProfileFile = {
    name: 'host',
    description:
      "This machine running microlith itself, measured by `microlith calibrate`: what each counted event costs in this simulator here (Node's direct calls, postMessage between worker threads, structured clones, the servers' own JavaScript). The image is memory, so a disk read is a copy on the disk server's thread. Two parameters are fitted on a tiny workload (one 100-byte file) run end to end, whose time is almost all per-request and per-message overhead: appRequestUs from the monolith's processor time per request, ipcOneWayUs from the microkernel's extra processor time per message. Use it to check the cost model against host-measured runs (`microlith calibrate --check`), not as an operating system's costs.",
    measured: { date: new Date().toISOString(), node: process.version, cpuModel: cpus[0]?.model ?? 'unknown', cpus: cpus.length },
    params: {
      cores: param(cpus.length, 'count', how('os.cpus().length')),
      syscallUs: param(syscallUs, 'µs', how("an async call that dispatches to a handler and awaits its reply, the monolithic kernel's call path; median of 5 loops")),
      ipcEntryUs: param(0, 'µs', how('none: postMessage needs no kernel entry of its own'), 'the thread hand-off is part of ipcOneWayUs'),
      contextSwitchUs: param(0, 'µs', how('none measured apart'), "the wake-up of the receiving thread is part of ipcOneWayUs (its processor time) or latency (its waiting)"),
      ipcOneWayUs: param(ipcBenchUs, 'µs', how('`microlith bench ipc --transports copy --signals message --sizes 8`, pipelined round trip with 64 in flight (replaced below by the fit)')),
      ipcCopiesPerMessage: param(
        CLONE_COPIES,
        'copies',
        "set by `microlith calibrate`, not timed: the copy transport's structured clone through postMessage copies each payload byte twice, once when the sender's V8 ValueSerializer writes an ArrayBuffer's bytes into the serialised message (WriteRawBytes) and once when the receiver's ValueDeserializer copies them into a new ArrayBuffer (memcpy) (V8, src/objects/value-serializer.cc)",
      ),
      copyUsPerKiB: param(copyUsPerKiB, 'µs/KiB', how(`structuredClone of an array of 16 separate 4 KiB blocks (as a file read's payload is), blocks taken in turn from 8 MiB, per KiB and copy (${CLONE_COPIES} copies a clone)`)),
      checksumUsPerKiB: param(checksumUsPerKiB, 'µs/KiB', how('InetChecksum (src/servers/inet-checksum.ts) over 64 KiB pieces walking through 32 MiB, per KiB')),
      frameUs: param(frameUs, 'µs', how(`cutFrames (src/servers/net.ts) on a 64 KiB reply of 17 slices into ${frames} frames of 1460 bytes, per frame`)),
      appRequestUs: param(0, 'µs', how('fitted below')),
      wireUsPerKiB: param(wireUsPerKiB, 'µs/KiB', how("zlib crc32 over 64 KiB pieces walking through 32 MiB, per KiB: the simulated clients' digest of each response, which runs in the net server's domain")),
      wireRequestUsPerKiB: param(wireRequestUsPerKiB, 'µs/KiB', how("writeData (src/workload/generate.ts) making a WRITE's 32 KiB of seeded bytes, per KiB: the simulated clients make them in the net server's domain")),
      diskPositionMs: param(0, 'ms', how('none: the image is memory')),
      diskRotationMs: param(0, 'ms', how('none: the image is memory')),
      diskTransferMBps: param(diskTransferMBps, 'MB/s', how('a 4 KiB block copied from a 32 MiB image into a new cache block, as a cache miss does')),
      diskOnCpu: param(1, 'flag', how('the disk server copies each missed block on its own thread')),
    },
  };

  // Fit the per-request and per-message overheads on a tiny workload, where
  // they are nearly all the time: processor time of the whole process per
  // request, less what the measured parameters already price.
  const requests = n(10_000);
  const fitRun = async (mode: Mode, profile: Profile, workload = TINY) => {
    const r = await run({ mode, workload, requests, profile });
    const again = await run({ mode, workload, requests, profile }); // the first pays for compiling
    const best = (again.cpu.userMs + again.cpu.systemMs) < (r.cpu.userMs + r.cpu.systemMs) ? again : r;
    const cpuUs = ((best.cpu.userMs + best.cpu.systemMs) * 1000) / requests;
    const priced = Object.values(priceCpu(best.counters, mode, profile)).reduce((a, b) => a + b, 0) / requests;
    return { cpuUs, priced, perRequest: best.perRequest, requestsPerSec: best.throughput.requestsPerSec, counters: best.counters };
  };
  step('fitting the per-request overhead: a tiny workload under the monolith, processor time per request');
  const mono = await fitRun('monolithic', resolveProfile(measured, 'host (being measured)'));
  const appRequestUs = Math.max(0, mono.cpuUs - mono.priced);
  measured.params.appRequestUs = param(
    appRequestUs,
    'µs',
    how(`a tiny workload (GET of one 100-byte file, ${requests} requests, 16 clients) under the monolith: process processor time per request, less the priced direct calls, checksums, frames and client digest`),
    `${round(mono.cpuUs, 4)} µs of processor time per request - ${round(mono.priced, 4)} µs priced otherwise = ${round(appRequestUs, 4)} µs: the app's work and the rest of this simulator's per-request machinery (clients, dispatch, counters)`,
  );
  step('fitting the per-message cost: the same workload under the microkernel (copy transport)');
  const micro = await fitRun('microkernel', resolveProfile(measured, 'host (being measured)'));
  const msgs = micro.perRequest.ipcMessages;
  // what the provisional profile priced besides the messages themselves
  const otherUs = micro.priced - msgs * ipcBenchUs;
  const ipcOneWayUs = msgs > 0 ? Math.max(0, micro.cpuUs - otherUs) / msgs : ipcBenchUs;
  measured.params.ipcOneWayUs = param(
    ipcOneWayUs,
    'µs',
    how(`the tiny workload under the microkernel (copy transport, message signalling): process processor time per request, less everything else priced, per IPC message (${msgs} per request)`),
    `(${round(micro.cpuUs, 4)} µs per request - ${round(otherUs, 4)} µs priced otherwise) / ${msgs} messages = ${round(ipcOneWayUs, 4)} µs, sender and receiver together; for comparison the pipelined 8-byte round trip of \`bench ipc\` costs ${round(ipcBenchUs, 4)} µs`,
  );
  step('fitting the cost of copies across domains: a 64 KiB file under the microkernel (copy transport)');
  const copied = await fitRun('microkernel', resolveProfile(measured, 'host (being measured)'), BLOCKS);
  const kib = copied.perRequest.bytesCopied / 1024;
  const notCopies = copied.priced - kib * CLONE_COPIES * copyUsPerKiB;
  const fittedCopy = kib > 0 ? Math.max(0, copied.cpuUs - notCopies) / (kib * CLONE_COPIES) : copyUsPerKiB;
  measured.params.copyUsPerKiB = param(
    fittedCopy,
    'µs/KiB',
    how('GET of one 64 KiB file under the microkernel (copy transport): process processor time per request, less everything else priced, per KiB copied and copy'),
    `(${round(copied.cpuUs, 4)} µs per request - ${round(notCopies, 4)} µs priced otherwise) / (${round(kib, 4)} KiB copied x ${CLONE_COPIES} copies) = ${round(fittedCopy, 4)} µs per KiB and copy: a postMessage clone, serialised by the sender and deserialised by the receiver, with its garbage; for comparison structuredClone of 16 blocks in one thread costs ${round(copyUsPerKiB, 4)} µs per KiB and copy`,
  );

  // how many processors' worth of work the domains got done at once: on a
  // small machine, three busy domains, the harness and Node's own threads
  // share the cores, and waking a thread takes time no processor spends
  const busy = (micro.cpuUs * micro.requestsPerSec) / 1e6;
  const effective = Math.min(cpus.length, Math.max(1, busy));
  measured.params.cores = param(
    effective,
    'count',
    how(`os.cpus().length = ${cpus.length}; fitted on the tiny workload under the microkernel`),
    `${round(micro.cpuUs, 4)} µs of processor time per request x ${round(micro.requestsPerSec, 4)} requests/s = ${round(busy, 4)} processors busy on average, kept within 1..${cpus.length}`,
  );
  return measured;
}

/** A fitting workload: GET of one file of `size` bytes, 16 clients. */
function oneFile(size: number): Workload {
  return WorkloadSchema.parse({
    name: `calibrate-${size}`,
    description: `calibration: GET of one ${size}-byte file`,
    seed: 1,
    requests: 10_000,
    clients: 16,
    fileSet: { directories: 1, classes: [{ name: 'one', weight: 1, sizes: [size] }] },
    popularity: { kind: 'zipf', exponent: 0 },
  });
}

/** The fitting workloads: one 100-byte file, where per-request and per-message costs are nearly all; one 64 KiB file, where copies weigh. */
const TINY = oneFile(100);
const BLOCKS = oneFile(65536);

/** One workload under one label in `checkModel()`: its host-measured and modelled throughput and processor time, and the model's error. */
export interface CheckRow {
  workload: string;
  label: string;
  requests: number;
  /** Host-measured requests per second. */
  hostRequestsPerSec: number;
  /** The same run's counted events priced by the profile. */
  modelledRequestsPerSec: number;
  /** modelled / host − 1: positive when the model is too optimistic. */
  error: number;
  /** Host-measured processor time of the whole process per request, µs. */
  hostCpuUsPerRequest: number;
  /** Modelled processor time per request, µs. */
  modelledCpuUsPerRequest: number;
  bottleneck: string;
}

/** What `checkModel()` accepts: the profile to check, requests per run (default 10000), the labels (default monolithic and microkernel:copy), and a callback per row. */
export interface CheckOptions {
  profile: Profile;
  /** Requests per run (ftp-bulk gets a hundredth: at least 20, and never more than this). */
  requests?: number;
  labels?: string[];
  onRow?: (row: CheckRow) => void;
}

/**
 * Requests per run of `w` in `checkModel()`, when `asked` were asked for. Runs must be
 * long enough: every run starts new worker threads, whose code is compiled afresh, and
 * a short run is mostly that warm-up (3,000 requests of specweb96 under the microkernel
 * ran at 8,000 requests/s here, 10,000 at 11,000). A workload of nothing but large
 * whole-file transfers gets a hundredth of the requests: at least 20, but never more
 * than asked for (a check of 5 requests per run is a quick look, for it too). No
 * workload gets more than its own request count.
 */
export function checkRequests(w: Workload, asked: number): number {
  const bulk = w.services.every((s) => s.protocol === 'ftp') && largestFile(w) > 1 << 20;
  return Math.min(w.requests, bulk ? Math.min(asked, Math.max(20, Math.round(asked / 100))) : asked);
}

/** Run every shipped workload under each label and compare modelled with host-measured throughput. */
export async function checkModel(opts: CheckOptions): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const labels = (opts.labels ?? ['monolithic', 'microkernel:copy']).map(parseLabel);
  for (const name of shippedWorkloads()) {
    const w = loadWorkload(name);
    const requests = checkRequests(w, opts.requests ?? 10_000);
    for (const l of labels) {
      const base = { workload: w, requests, profile: opts.profile, mode: l.mode };
      const run1 = () => run({ ...base, ...(l.transport ? { transport: l.transport } : {}), ...(l.signal ? { signal: l.signal } : {}) });
      await run1(); // warm-up: the first run of a kind pays for compiling
      const r = await run1();
      const host = r.throughput.requestsPerSec;
      const row: CheckRow = {
        workload: name,
        label: l.label,
        requests,
        hostRequestsPerSec: host,
        modelledRequestsPerSec: r.modelled.requestsPerSec,
        error: host > 0 ? round(r.modelled.requestsPerSec / host - 1, 4) : NaN,
        hostCpuUsPerRequest: round(((r.cpu.userMs + r.cpu.systemMs) * 1000) / Math.max(1, r.outcomes.ok), 4),
        modelledCpuUsPerRequest: r.modelled.cpuUsPerRequest,
        bottleneck: r.modelled.bottleneck,
      };
      opts.onRow?.(row);
      rows.push(row);
    }
  }
  return rows;
}
