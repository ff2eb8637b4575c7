/**
 * The workload file format: a strict schema (unknown keys are refused) and the
 * resolved Workload type every other module reads.
 */
import { z } from 'zod';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const FileClassSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1-32 letters, digits, _ or -'),
  /** Share of requests that go to this class (relative weight, > 0). */
  weight: z.number().positive(),
  /** Size in bytes of each file of the class, in every directory. */
  sizes: z.array(z.number().int().min(0).max(64 * 1024 * 1024)).min(1).max(64),
});

/**
 * How requests arrive. Closed loop: `clients` clients, each sending its next
 * request `thinkTimeMs` after the reply to its last. Open loop: Poisson arrivals
 * at `ratePerSec`, whatever the replies do; latency counts from each request's
 * scheduled arrival, so queueing is not hidden (no coordinated omission). At most
 * `maxInFlight` requests are outstanding; later arrivals wait their turn, and
 * their wait counts in their latency.
 */
export const ArrivalSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('closed'),
    thinkTimeMs: z.number().min(0).max(60_000).default(0),
  }),
  z.strictObject({
    kind: z.literal('open'),
    ratePerSec: z.number().positive().max(10_000_000),
    maxInFlight: positiveInt(1_000_000).default(4096),
  }),
]);

export const WorkloadSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, _ . or -'),
  description: z.string().max(4000).default(''),
  seed: z.union([z.number().int(), z.string().min(1).max(64)]),
  /** Requests to send; with `durationMs`, at most this many. */
  requests: positiveInt(10_000_000),
  /** Closed-loop clients (the open loop ignores it). */
  clients: positiveInt(4096),
  arrival: ArrivalSchema.default({ kind: 'closed', thinkTimeMs: 0 }),
  /** Stop sending new requests this long after the first (host time, so the count is not deterministic). */
  durationMs: z.number().int().min(1).max(86_400_000).optional(),
  fileSet: z.strictObject({
    directories: positiveInt(1000),
    classes: z.array(FileClassSchema).min(1).max(16),
  }),
  popularity: z.strictObject({
    kind: z.literal('zipf'),
    /** Zipf exponent over the files of a class; 0 is uniform. */
    exponent: z.number().min(0).max(4),
  }),
});

export type WorkloadFile = z.input<typeof WorkloadSchema>;
export type Workload = z.output<typeof WorkloadSchema>;
export type FileClass = z.output<typeof FileClassSchema>;
export type Arrival = z.output<typeof ArrivalSchema>;
