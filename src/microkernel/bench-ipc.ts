/**
 * `microlith bench ipc`: an lmbench-style microbenchmark of the kernel's own IPC
 * between this thread and one echo domain (echo-worker.ts), for each transport
 * and signalling choice and each message size. All figures are host-measured.
 *
 *   round trip   one call at a time: send `size` payload bytes, get them back
 *                (lat_pipe style); median and p99 of the per-call times.
 *   pipelined    `depth` calls in flight; wall time / calls = amortised round trip.
 *   bandwidth    one-way: `size`-byte payloads to a sink, `depth` in flight,
 *                payload bytes / wall time (bw_pipe style).
 */
import type { Signal, Transport } from '../config.js';
import { COUNTER_SLAB_BYTES, Counters } from '../metrics/counters.js';
import { median } from '../metrics/stats.js';
import { Endpoint } from './ipc.js';
import { newPoolMemory, PoolBlocks, PoolMapping } from './pool.js';
import { newDoorbell, newRingMemory, pow2AtLeast, Pump } from './ring.js';
import { newChannel, startDomain } from '../harness/domain.js';
import { openChannel } from './batch.js';
import { serveEcho, type EchoBoot } from './echo.js';
import { codecFor, type Held, release } from './transport.js';

/** What `benchIpc()` measures: every transport × signalling pair (but transfer with ring) at every message size in bytes, with spinUs for ring signalling. */
export interface IpcBenchOptions {
  transports: Transport[];
  signals: Signal[];
  sizes: number[];
  spinUs: number;
  /** Calls in flight for the pipelined and bandwidth figures. */
  depth: number;
  /** Scales the number of calls per figure (1 = default). */
  effort: number;
  /**
   * Serve the echo in this thread instead of a domain of its own: the same IPC
   * code at both ends with no thread between them, so what remains is what the
   * framework costs per message, without wake-ups, cross-core traffic or a second
   * core. Default false.
   */
  inThread?: boolean;
  onResult?: (r: IpcBenchResult) => void;
}

/** One transport, signalling and message size: its host-measured latency and bandwidth, and the counted bytes copied. */
export interface IpcBenchResult {
  transport: Transport;
  signal: Signal;
  sizeBytes: number;
  /** Host-measured round trip, one call at a time, µs. */
  roundTripUs: { median: number; p99: number; calls: number };
  /** Host-measured round trip amortised over `depth` calls in flight, µs per call. */
  pipelinedRoundTripUs: number;
  /** Host-measured one-way payload bandwidth, MB/s (10^6 bytes). */
  oneWayMBps: number;
  /** Counted bytes copied per round trip, by both domains, both directions. */
  bytesCopiedPerRoundTrip: number;
  /** The echo ran in this thread (`inThread`), not in a domain of its own. */
  inThread: boolean;
}

const SLOT = 4096;

/** Calls for a figure at `size`: fewer for big messages, at least a few. */
function callsFor(size: number, effort: number, base: number): number {
  return Math.max(8, Math.round((base * effort) / Math.max(1, size / 4096)));
}

/**
 * How long each pair warms up before it is measured (the JIT, both ends): 250 ms at
 * an effort of 0.2 or more, in proportion below that, and never under 25 ms. A quick
 * look (`--effort 0.02`, 40 calls a figure) had waited 250 ms a pair all the same,
 * longer than it measured.
 */
export function warmUpMs(effort: number): number {
  return Math.max(25, 250 * Math.min(1, effort / 0.2));
}

/**
 * Measure the kernel's IPC between this thread and an echo domain for each
 * transport, signalling and size (lmbench style, host-measured); the results
 * in order, each also passed to `onResult` as it is done.
 */
export async function benchIpc(opts: IpcBenchOptions): Promise<IpcBenchResult[]> {
  const out: IpcBenchResult[] = [];
  for (const transport of opts.transports) {
    for (const signal of opts.signals) {
      if (transport === 'transfer' && signal === 'ring') continue; // cannot move buffers through a ring
      const pair = await openPair(transport, signal, opts);
      try {
        for (const size of opts.sizes) {
          const r = await measure(pair, transport, signal, size, opts);
          opts.onResult?.(r);
          out.push(r);
        }
      } finally {
        await pair.close();
      }
    }
  }
  return out;
}

interface Pair {
  ep: Endpoint;
  /** This side's and the echo domain's counters, summed. */
  copied(): number;
  /** A payload of `size` bytes, and what to do once its call is over. */
  payload(size: number): { slices: Uint8Array[]; done(): void };
  close(): Promise<void>;
}

async function openPair(transport: Transport, signal: Signal, opts: IpcBenchOptions): Promise<Pair> {
  const maxSize = Math.max(...opts.sizes);
  const slotsPerMsg = Math.ceil(maxSize / SLOT);
  const pool = transport === 'shared' ? newPoolMemory(0, slotsPerMsg * (opts.depth + 2), SLOT) : null;
  const { port1, port2 } = newChannel();
  const ringBytes = pow2AtLeast(2 * (maxSize + 64 * 1024 + slotsPerMsg * 128));
  const [ab, ba, myBell, peerBell] =
    signal === 'ring' ? [newRingMemory(ringBytes), newRingMemory(ringBytes), newDoorbell(), newDoorbell()] : [];
  const echoCounters = new Counters(new SharedArrayBuffer(COUNTER_SLAB_BYTES));
  const boot: EchoBoot = {
    port: port2,
    counters: echoCounters.cells.buffer as SharedArrayBuffer,
    transport,
    signal,
    spinUs: opts.spinUs,
    pool,
    rings: ab && ba && myBell && peerBell ? { tx: ba, rx: ab, peerBell: myBell, bell: peerBell } : null,
  };
  const echo = opts.inThread ? serveEcho(boot) : null;
  const worker = echo ? null : startDomain<never, EchoBoot>({ module: 'microkernel/echo-worker', name: 'microlith-echo', boot, transfer: [port2] });
  const counters = new Counters();
  const pump = ab && ba && myBell && peerBell ? new Pump(myBell, opts.spinUs) : null;
  const port = openChannel(signal, port1, pump && ab && ba && peerBell ? { rings: { tx: ab, rx: ba, peerBell }, pump, counters } : null);
  const mapping = pool ? new PoolMapping(pool) : null;
  const blocks = mapping ? new PoolBlocks(mapping) : null;
  const ep = new Endpoint(port, {
    counters,
    codec: codecFor(transport, mapping ? [mapping] : []),
    deadlineMs: 60_000,
    onCall: null,
    onCrash: (e) => {
      throw e;
    },
    label: 'bench<->echo',
  });
  // distinct buffers for the calls in flight: a batch clones a buffer shared by two of its frames only once
  const heap = new Map<number, Uint8Array[]>();
  let turn = 0;
  const none = () => {};
  return {
    ep,
    copied: () => counters.get('bytesCopied') + echoCounters.get('bytesCopied'),
    payload(size) {
      if (blocks) {
        // slices of pool slots, as the disk's cache hands them out
        const slots: Uint8Array[] = [];
        for (let at = 0; at < size; at += SLOT) slots.push(blocks.alloc(SLOT));
        const slices = slots.map((b, i) => b.subarray(0, Math.min(SLOT, size - i * SLOT)));
        return { slices, done: () => slots.forEach((b) => blocks.free(b)) };
      }
      if (transport === 'transfer') return { slices: [new Uint8Array(size)], done: none }; // moved away: a fresh one per call
      let ring = heap.get(size);
      if (!ring) heap.set(size, (ring = Array.from({ length: opts.depth + 1 }, () => new Uint8Array(size).fill(7))));
      return { slices: [ring[turn++ % ring.length]], done: none };
    },
    async close() {
      ep.close();
      pump?.stop();
      echo?.close();
      await worker?.stop();
    },
  };
}

async function measure(pair: Pair, transport: Transport, signal: Signal, size: number, opts: IpcBenchOptions): Promise<IpcBenchResult> {
  const { ep } = pair;
  const call = async (type: string) => {
    const held: Held = [];
    const p = pair.payload(size);
    const r = await ep.call({ type, data: p.slices } as { type: string }, held);
    release(held);
    p.done();
    if (!r.ok) throw new Error(`bench ipc: ${type} failed: ${r.errno} ${r.detail ?? ''}`);
  };
  // warm up the JIT and both domains: for warmUpMs, or enough calls
  const warm = performance.now() + warmUpMs(opts.effort);
  for (let i = 0; i < callsFor(size, 1, 5000) && performance.now() < warm; i++) await call('IPC_ECHO');

  const n = callsFor(size, opts.effort, 2000);
  const times: number[] = [];
  const copied0 = pair.copied();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call('IPC_ECHO');
    times.push((performance.now() - t0) * 1000);
  }
  const copiedPerCall = (pair.copied() - copied0) / n;
  times.sort((a, b) => a - b);

  const inFlight = async (type: string, total: number) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(opts.depth, total) }, async () => {
        while (next++ < total) await call(type);
      }),
    );
    return performance.now() - t0;
  };
  const np = callsFor(size, opts.effort, 5000);
  const pipelinedMs = await inFlight('IPC_ECHO', np);
  const nb = callsFor(size, opts.effort, 3000);
  const sinkMs = await inFlight('IPC_SINK', nb);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    transport,
    signal,
    sizeBytes: size,
    roundTripUs: { median: round(median(times)), p99: round(times[Math.floor(times.length * 0.99)]), calls: n },
    pipelinedRoundTripUs: round((pipelinedMs * 1000) / np),
    oneWayMBps: round((size * nb) / (sinkMs * 1000)),
    bytesCopiedPerRoundTrip: Math.round(copiedPerCall),
    inThread: opts.inThread === true,
  };
}
