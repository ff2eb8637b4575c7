/**
 * The monolith's limit: the work on a run's response bytes that no kernel can
 * avoid, done in one tight loop in one thread. For each request of a run (same
 * workload, seed and request count), in request-id order: the RFC 1071
 * checksum of every frame of its response, as the net server computes it
 * (the net server's own `checksumFrames`), and the response's hash, as the
 * NIC computes it (`responseHash`: CRC-32 over request id, status and every
 * payload byte), folded into a digest the way the simulated clients fold it.
 * What the loop leaves out is everything else a request costs: messages,
 * parsing, lookups, the buffer cache, scheduling, the clients.
 *
 * The responses are built once, before anything is timed, the way the servers
 * would build them: the request stream of the workload (RequestStream), the
 * file set laid out by mkfs, each file's bytes in 4 KiB blocks copied off the
 * image into blocks of their own (as the disk server's cache holds them, one
 * heap buffer per block), after the HTTP head the app writes, cut into frames
 * by the net server's `cutFrames`. A response is built once per distinct
 * request line and shared by the requests that ask for it. Only HTTP GET and
 * HEAD of files that exist are built (the bench's scenarios ask nothing else).
 *
 * The loop's digest equals the digest of a run of the same requests (the
 * run report's `digest`) when the bytes are the same: the bench checks it.
 */
import { performance } from 'node:perf_hooks';
import { resolveRun, type RunOptions } from '../dist/run.js';
import { contentType, httpHead, parseRequest } from '../dist/servers/app.js';
import { BLOCK_SIZE, mkfs, mount } from '../dist/servers/fs.js';
import { checksumFrames, cutFrames, FRAME_HEADER_BYTES, type Frame } from '../dist/servers/net.js';
import { responseHash } from '../dist/wire/link.js';
import { fileSet, RequestStream } from '../dist/workload/generate.js';

/** One response as it leaves the net server: its status and its frames (views of the body's slices). */
export interface LimitResponse {
  status: number;
  frames: Frame[];
  /** Payload bytes (head and data). */
  bytes: number;
}

/** What the loop runs over: the distinct responses, and which one each request (by id) gets. */
export interface LimitInput {
  responses: LimitResponse[];
  /** `sequence[id]`: the index in `responses` of request `id`'s response. */
  sequence: Uint32Array;
  /** The NIC computes the checksums: the loop only hashes. */
  checksumOffload: boolean;
}

/** One timing of the loop. */
export interface LimitResult {
  requests: number;
  /** Host-measured wall time of the loop, ms. */
  elapsedMs: number;
  /** Host-measured requests per second of the loop. */
  requestsPerSec: number;
  /** Host-measured CPU time of the process during the loop, ms (only this thread runs then). */
  cpuMs: number;
  /** Requests per CPU-second of the loop (host-measured). */
  requestsPerCpuSec: number;
  /** Payload bytes checksummed (counted; 0 with checksum offload). */
  bytesChecksummed: number;
  /** Payload bytes hashed (counted). */
  bytesHashed: number;
  /** The digest of the responses, in the run report's format (`<sum><mix>-<count>`). */
  digest: string;
}

const encoder = new TextEncoder();

/** The response bodies of a run with `options` (its workload, seed, request count, MTU), built once. */
export function buildLimitInput(options: RunOptions): LimitInput {
  const { workload: w, cfg } = resolveRun(options);
  const image = mkfs(fileSet(w), w.seed);
  const byPath = new Map(mount(image).inodes.map((i) => [i.path, i]));
  const mss = cfg.mtu - FRAME_HEADER_BYTES;
  const index = new Map<string, number>();
  const responses: LimitResponse[] = [];
  const sequence = new Uint32Array(w.requests);
  const stream = new RequestStream(w);
  for (let id = 0; id < w.requests; id++) {
    const req = stream.next();
    let at = index.get(req.line);
    if (at === undefined || req.body !== undefined) {
      if (req.body !== undefined) throw new Error(`limit: only reads are built, not '${req.line}'`);
      const r = parseRequest(req.line);
      if (r.protocol !== 'http' || !('method' in r)) throw new Error(`limit: only HTTP GET and HEAD are built, not '${req.line}'`);
      const ip = byPath.get(r.path);
      if (!ip) throw new Error(`limit: '${req.line}' names no file of the workload`);
      const body: Uint8Array[] = [encoder.encode(httpHead(r.version, 200, contentType(r.path), ip.size))];
      if (r.method === 'GET') {
        for (let pos = 0; pos < ip.size; pos += BLOCK_SIZE) {
          const block = new Uint8Array(BLOCK_SIZE);
          block.set(new Uint8Array(image, (ip.startBlock + pos / BLOCK_SIZE) * BLOCK_SIZE, BLOCK_SIZE));
          body.push(block.subarray(0, Math.min(BLOCK_SIZE, ip.size - pos)));
        }
      }
      at = responses.length;
      responses.push(responseOf(200, body, mss));
      index.set(req.line, at);
    }
    sequence[id] = at;
  }
  return { responses, sequence, checksumOffload: cfg.checksumOffload };
}

/** A response of `status` with `body`, cut into frames of at most `mss` payload bytes as the net server cuts them. */
export function responseOf(status: number, body: Uint8Array[], mss: number): LimitResponse {
  return { status, frames: cutFrames(body, mss), bytes: body.reduce((n, s) => n + s.length, 0) };
}

/**
 * The loop, timed: every request's frames checksummed (unless offloaded) and
 * its response hashed and folded into the digest, in request-id order. Each
 * frame's checksum is written into it, as the net server does.
 */
export function limitLoop(input: LimitInput): LimitResult {
  const { responses, sequence, checksumOffload } = input;
  let sum = 0;
  let mix = 0;
  let checksummed = 0;
  let hashed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let id = 0; id < sequence.length; id++) {
    const r = responses[sequence[id]];
    // each frame's checksum written into it, as the net server computes it
    if (!checksumOffload) checksummed += checksumFrames(r.frames, false);
    const h = responseHash(id, r.status, r.frames);
    hashed += r.bytes;
    // as the clients fold a response's hash into the run's digest
    sum = (sum + h) | 0;
    mix = (mix + Math.imul(h ^ 0x9e3779b9, 0x85ebca6b)) | 0;
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return {
    requests: sequence.length,
    elapsedMs,
    requestsPerSec: elapsedMs > 0 ? (sequence.length / elapsedMs) * 1000 : NaN,
    cpuMs,
    requestsPerCpuSec: cpuMs > 0 ? (sequence.length / cpuMs) * 1000 : NaN,
    bytesChecksummed: checksummed,
    bytesHashed: hashed,
    digest: `${hex(sum)}${hex(mix)}-${sequence.length}`,
  };
}
