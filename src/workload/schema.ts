/**
 * The workload file format: a strict schema (unknown keys are refused) and the
 * resolved Workload type every other module reads.
 */
import { z } from 'zod';
import { RANGES } from '../limits.js';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const className = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1-32 letters, digits, _ or -');

export const FileClassSchema = z.strictObject({
  name: className,
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
    thinkTimeMs: z.number().min(RANGES.thinkTimeMs.min).max(RANGES.thinkTimeMs.max).default(0),
  }),
  z.strictObject({
    kind: z.literal('open'),
    ratePerSec: z.number().positive().max(RANGES.ratePerSec.max),
    maxInFlight: positiveInt(RANGES.maxInFlight.max).default(4096),
  }),
]);

const serviceWeight = z.number().positive().max(1_000_000);
/** The file classes a file service serves (default: every class of the file set). */
const classRefs = z.array(className).min(1).max(16).optional();

/**
 * One service of the machine: which protocol its clients speak and what share of
 * the requests it gets (relative `weight`). Every service is the same app server
 * answering on a different protocol, so a mixed workload is one machine serving
 * several services.
 *
 *   http  GET a whole file (one request line, header + file in reply)
 *   ftp   RETR a whole file: a sequential whole-file transfer
 *   nfs   READ or WRITE `ioSizes` bytes at an aligned offset in a file; a WRITE
 *         is acknowledged only once its bytes are on the disk image (FILE_SYNC)
 *   dns   QUERY a name in the app's in-memory zone: no disk at all
 */
export const ServiceSchema = z.discriminatedUnion('protocol', [
  z.strictObject({ protocol: z.literal('http'), weight: serviceWeight.default(1), classes: classRefs }),
  z.strictObject({ protocol: z.literal('ftp'), weight: serviceWeight.default(1), classes: classRefs }),
  z.strictObject({
    protocol: z.literal('nfs'),
    weight: serviceWeight.default(1),
    classes: classRefs,
    /** Share of the service's requests that are WRITEs. */
    writeFraction: z.number().min(0).max(1),
    /** Transfer sizes in bytes (rsize/wsize), drawn uniformly; the offset is a multiple of the size drawn. */
    ioSizes: z.array(z.number().int().min(1).max(1024 * 1024)).min(1).max(16),
  }),
  z.strictObject({
    protocol: z.literal('dns'),
    weight: serviceWeight.default(1),
    zone: z.strictObject({
      /** The zone's origin, e.g. "example.com." (a fully qualified name). */
      origin: z.string().regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}$/, 'expected a domain name in lower case ending with a dot, e.g. "example.com."'),
      /** Names in the zone (host0.<origin> ... ), each with 1 to 4 A records. */
      names: positiveInt(200_000),
      /** Share of queries for names that are not in the zone (answered NXDOMAIN). */
      missRatio: z.number().min(0).max(1).default(0),
    }),
  }),
]);

const FILE_PROTOCOLS = new Set(['http', 'ftp', 'nfs']);

/** The zod schema of a workload file: strict (unknown keys refused), with its defaults and the checks across fields (class names, file services, one dns zone). */
export const WorkloadSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 letters, digits, _ . or -'),
    description: z.string().max(4000).default(''),
    /** Where the workload's numbers come from, one entry per source. */
    sources: z.array(z.string().min(1).max(400)).max(20).default([]),
    seed: z.union([z.number().int(), z.string().min(1).max(64)]),
    /** Requests to send; with `durationMs`, at most this many. */
    requests: positiveInt(RANGES.requests.max),
    /** Closed-loop clients (the open loop ignores it). */
    clients: positiveInt(RANGES.clients.max),
    arrival: ArrivalSchema.default({ kind: 'closed', thinkTimeMs: 0 }),
    /** Stop sending new requests this long after the first (host time, so the count is not deterministic). */
    durationMs: positiveInt(RANGES.durationMs.max).optional(),
    /** The files on the disk; needed by every http, ftp and nfs service. */
    fileSet: z
      .strictObject({
        directories: positiveInt(1000),
        classes: z.array(FileClassSchema).min(1).max(16),
      })
      .optional(),
    popularity: z
      .strictObject({
        kind: z.literal('zipf'),
        /** Zipf exponent over the files of a class (and the names of a zone); 0 is uniform. */
        exponent: z.number().min(0).max(4),
      })
      .default({ kind: 'zipf', exponent: 1 }),
    /** The services the machine runs and their shares of the requests (default: http alone). */
    services: z.array(ServiceSchema).min(1).max(8).default([{ protocol: 'http', weight: 1 }]),
  })
  .superRefine((w, ctx) => {
    const classes = w.fileSet?.classes ?? [];
    const seen = new Map<string, number>();
    classes.forEach((c, i) => {
      const first = seen.get(c.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['fileSet', 'classes', i, 'name'], message: `duplicate class name "${c.name}" (first at fileSet.classes[${first}])` });
      }
      seen.set(c.name, i);
    });
    let zones = 0;
    w.services.forEach((s, i) => {
      if (s.protocol === 'dns' && ++zones > 1) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'protocol'], message: 'at most one dns service: the app server holds one zone' });
      }
      if (!FILE_PROTOCOLS.has(s.protocol)) return;
      if (w.fileSet === undefined) {
        ctx.addIssue({ code: 'custom', path: ['fileSet'], message: `services[${i}] is ${s.protocol}, which serves files (http alone is the default when "services" is not given)` });
        return;
      }
      const refs = 'classes' in s ? (s.classes ?? []) : [];
      refs.forEach((name, j) => {
        if (!seen.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['services', i, 'classes', j], message: `no class named "${name}" in fileSet.classes (have: ${[...seen.keys()].join(', ')})` });
        }
      });
    });
  });

/** A workload as written in its file: fields with defaults may be left out. */
export type WorkloadFile = z.input<typeof WorkloadSchema>;
/** A workload as validated, with every default filled in: what runs read. */
export type Workload = z.output<typeof WorkloadSchema>;
export type FileClass = z.output<typeof FileClassSchema>;
/** How requests arrive: a closed loop with think time (ms), or an open loop of Poisson arrivals at a rate (requests/s) with at most `maxInFlight` outstanding. */
export type Arrival = z.output<typeof ArrivalSchema>;
/** One service of the machine, as validated: its protocol, its share of the requests, and what the protocol needs (file classes, NFS write share and I/O sizes, DNS zone). */
export type Service = z.output<typeof ServiceSchema>;
/** A service's protocol: http, ftp, nfs or dns. */
export type Protocol = Service['protocol'];
export type FileSet = NonNullable<Workload['fileSet']>;

/** Does any service of `w` write to the disk? */
export function writesToDisk(w: Workload): boolean {
  return w.services.some((s) => s.protocol === 'nfs' && s.writeFraction > 0);
}
