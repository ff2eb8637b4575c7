/**
 * Event counters, counted where the events happen (DESIGN invariant 4).
 *
 * Each domain owns one slab of float64 cells, one per counter name. A slab may
 * live in a SharedArrayBuffer owned by the kernel, so the harness can still read
 * what a server counted after that server's worker died. One writer per slab: no
 * atomics needed; readers look only after the writer stopped or for progress.
 */

/** Every counter's name, in report order (each a count of events, or of bytes where the name says so). */
export const COUNTER_NAMES = [
  // inter-domain traffic (microkernel only)
  'ipcMessages',
  'crossings',
  'bytesCopied',
  'descriptorsRefused',
  /** Payload bytes carried by IPC messages, by value or by descriptor. */
  'ipcPayloadBytes',
  // kernel entries: a direct call (monolithic) or an IPC message (microkernel)
  'syscalls',
  // calls that stayed inside one domain (monolithic only)
  'directCalls',
  // work every mode does alike
  'messagesHandled',
  'enosys',
  'bytesChecksummed',
  'framesSent',
  'framesReceived',
  'bytesReceived',
  'rxBytesChecksummed',
  'wireBytes',
  'payloadBytes',
  'diskLookups',
  'diskReads',
  'diskBlocksRead',
  /** Disk positioning operations (seek + rotation): one per run of contiguous blocks a read misses, one per write. */
  'diskSeeks',
  'diskWrites',
  'diskBytesWritten',
  'diskBlocksWritten',
  'cacheHits',
  'cacheMisses',
  'appRequests',
  // isolation at work: refusals, retries and resets (they happen in fault runs)
  /** Calls refused because the caller holds no grant for them (ECALLDENIED). */
  'callsDenied',
  /** Messages refused at the receiving endpoint for their shape or size (EINVAL, E2BIG). */
  'messagesRefused',
  /** Calls repeated after the callee died or restarted (only what is safe to repeat). */
  'retries',
  /** Requests whose connection went down with the server holding it. */
  'connectionsReset',
] as const;

/** The name of one counter (one of COUNTER_NAMES). */
export type CounterName = (typeof COUNTER_NAMES)[number];
/** Counted events, one value per counter name: deterministic for a seed and configuration. */
export type CounterValues = Record<CounterName, number>;

/** Counters that exist in one mode only; the cross-mode equivalence ignores them. */
export const MODE_SPECIFIC_COUNTERS: readonly CounterName[] = [
  'ipcMessages',
  'crossings',
  'bytesCopied',
  'descriptorsRefused',
  'ipcPayloadBytes',
  'syscalls',
  'directCalls',
];

const INDEX = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as Record<CounterName, number>;

export const COUNTER_SLAB_BYTES = COUNTER_NAMES.length * Float64Array.BYTES_PER_ELEMENT;

export class Counters {
  readonly cells: Float64Array;

  /** Counters over `buffer` (a fresh private one by default). */
  constructor(buffer: ArrayBufferLike = new ArrayBuffer(COUNTER_SLAB_BYTES)) {
    this.cells = new Float64Array(buffer, 0, COUNTER_NAMES.length);
  }

  add(name: CounterName, n = 1): void {
    this.cells[INDEX[name]] += n;
  }

  get(name: CounterName): number {
    return this.cells[INDEX[name]];
  }

  snapshot(): CounterValues {
    return readCounters(this.cells);
  }
}

/** A plain object of every counter's value in `cells`. */
export function readCounters(cells: Float64Array): CounterValues {
  const out = {} as CounterValues;
  COUNTER_NAMES.forEach((n, i) => (out[n] = cells[i]));
  return out;
}

/** Sum of several counter snapshots. */
export function sumCounters(all: CounterValues[]): CounterValues {
  const out = {} as CounterValues;
  for (const n of COUNTER_NAMES) out[n] = all.reduce((s, c) => s + c[n], 0);
  return out;
}
