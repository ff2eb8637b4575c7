/**
 * The one range of every numeric option, stated once: the library's option
 * schema, the CLI's flags and the workload file schema all read it from here, so
 * a limit is enforced and reported the same way wherever it is given.
 */
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from './protocol.js';

/** The allowed values of a numeric option: from `min` to `max`, both included unless `aboveMin`. */
export interface Range {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
  /** The minimum itself is out of range (a rate must be above 0). */
  aboveMin?: boolean;
}

const int = (min: number, max: number): Range => ({ min, max, integer: true });
const num = (min: number, max: number): Range => ({ min, max, integer: false });

/** A frame's headers take 40 bytes, so a frame must have room for one payload byte more. */
const MIN_MTU = 41;

/** The range of every numeric option, by option name: run, compare, campaign, serve, bench ipc and calibrate. */
export const RANGES = {
  requests: int(1, 10_000_000),
  clients: int(1, 4096),
  durationMs: int(1, 86_400_000),
  thinkTimeMs: num(0, 60_000),
  ratePerSec: { min: 0, max: 10_000_000, integer: false, aboveMin: true },
  maxInFlight: int(1, 1_000_000),
  cacheBlocks: int(1, 1 << 24),
  poolBlocks: int(1, 1 << 24),
  mtu: int(MIN_MTU, 65535),
  spinUs: num(0, 1_000_000),
  ringBytes: int(64, 2 ** 30),
  callTimeoutMs: int(1, 3_600_000),
  hangTimeoutMs: int(1, 3_600_000),
  maxRestarts: int(0, 1000),
  restartWindowMs: int(1, 3_600_000),
  heapLimitMb: int(16, 65536),
  /** Faults a random fault plan draws. */
  faultCount: int(1, 1000),
  rounds: int(1, 1000),
  /** Schedules (runs with one fault each, per mode) of a fault-injection campaign. */
  campaignSchedules: int(1, 10000),
  warmupRounds: int(0, 100),
  /** Requests a run traces (the first by request id). */
  traceRequests: int(1, 1000),
  // serve: the socket's port and the limits it holds real clients to
  port: int(0, 65535),
  maxConnections: int(1, 100_000),
  headersTimeoutMs: int(10, 3_600_000),
  idleTimeoutMs: int(10, 3_600_000),
  requestTimeoutMs: int(10, 3_600_000),
  maxHeaderBytes: int(1024, 1 << 20),
  // a request line crosses the kernel as a string of at most MAX_STRING_BYTES.requestLine (8 KiB) with its method and version
  maxUriBytes: int(16, 8000),
  drainTimeoutMs: int(0, 3_600_000),
  // the tools above the system: bench ipc and calibrate
  depth: int(1, 4096),
  effort: { min: 0, max: 100, integer: false, aboveMin: true },
  payloadBytes: int(0, MAX_PAYLOAD_BYTES),
  maxErrorPercent: num(0, 1_000_000),
} satisfies Record<string, Range>;

/** The name of an option with a range in RANGES. */
export type RangedOption = keyof typeof RANGES;

/** "an integer from 1 to 4096", "a number above 0, at most 10000000". */
export function rangeText(r: Range): string {
  const kind = r.integer ? 'an integer' : 'a number';
  return r.aboveMin ? `${kind} above ${r.min}, at most ${r.max}` : `${kind} from ${r.min} to ${r.max}`;
}

/** Whether `v` lies in `r`. */
export function inRange(r: Range, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (r.integer && !Number.isInteger(v)) return false;
  return (r.aboveMin ? v > r.min : v >= r.min) && v <= r.max;
}

/** A zod number in `r`, refused with "must be <rangeText>". */
export function zRange(r: Range) {
  const error = `must be ${rangeText(r)}`;
  return z.custom<number>((v) => inRange(r, v), { error });
}
