/**
 * The options of `run()` and `compare()`: one zod schema for the library and the
 * command line alike, with every default and every range stated once (ranges in
 * `limits.ts`). A bad option is a `ConfigError` naming the field and the reason,
 * thrown before any work starts; never a TypeError from deep inside a run.
 *
 * Entry points: `parseRunOptions`, `parseCompareOptions`.
 */
import { z } from 'zod';
import { ConfigError, DEFAULT_KERNEL_CONFIG, MODES, SIGNALS, TRANSPORTS, type Mode, type Signal, type Transport } from './config.js';
import { SERVER_NAMES, type ServerName } from './protocol.js';
import { RANGES, zRange } from './limits.js';
import {
  FAULT_KINDS,
  FAULT_SPEC_FORM,
  TRIGGER_KINDS,
  expandFaults,
  faultApplies,
  FaultSpecError,
  parseFaultText,
  triggerMin,
  type FaultSpec,
  type RandomPlan,
} from './faults/plan.js';
import type { Workload } from './workload/schema.js';
import { DEFAULT_PROFILE, type Profile } from './costmodel/profile.js';

/** The workload `run()` and `compare()` use when none is given: the shipped specweb96. */
export const DEFAULT_WORKLOAD = 'specweb96';
/** The kernel `run()` boots when no mode is given: the monolith. */
export const DEFAULT_MODE: Mode = 'monolithic';

/** What `run()` accepts. Every field is optional; the defaults are the CLI's. */
export interface RunOptions {
  /** Which kernel (default monolithic). */
  mode?: Mode;
  /** A shipped workload's name, a path to a workload file, or a parsed workload (default specweb96). */
  workload?: string | Workload;
  /** How payloads cross domains (microkernel only; default copy). */
  transport?: Transport;
  /** How a domain learns a message waits (microkernel only; default message). */
  signal?: Signal;
  /** Requests to send (default: the workload's; with a duration and no count, no cap). */
  requests?: number;
  clients?: number;
  /** Replaces the workload's arrival model (closed loop with think time, or open loop at a rate; maxInFlight defaults to 4096). */
  arrival?: z.input<typeof ArrivalOption>;
  /** Stop sending new requests after this long (the request count is then an upper bound). */
  durationMs?: number;
  seed?: number | string;
  cacheBlocks?: number;
  /** Shared pool size in 4 KiB slots (default: the cache plus what the clients can have in flight). */
  poolBlocks?: number;
  mtu?: number;
  /** Ring signalling only: µs a domain polls after its last message before it sleeps. */
  spinUs?: number;
  /** Bytes per ring (default: room for two of the largest messages the workload makes). */
  ringBytes?: number;
  checksumOffload?: boolean;
  callTimeoutMs?: number;
  hangTimeoutMs?: number;
  /**
   * Faults to inject (default none), each a FaultSpec or its text: a fault
   * (`'disk:crash@message=1000'`, `'app@500:hang'`) or a random plan
   * (`'random:count=5,seed=7'`), drawn for a run of `requests` requests (1000
   * when `requests` is not given). See faults/plan.ts for the kinds and triggers.
   */
  faults?: Array<FaultSpec | string>;
  /** Microkernel only: restarts the supervisor allows a server within `restartWindowMs` before it gives it up (default 3). */
  maxRestarts?: number;
  /** Microkernel only: the window of `maxRestarts`, ms (default 5000). */
  restartWindowMs?: number;
  /**
   * Microkernel only, run() only: a module file (.js, or .ts under tsx) whose
   * default or named export `policy` decides the supervisor's restarts instead
   * of the shipped policy; see microkernel/policy-module.ts (RestartPolicyFunction).
   */
  restartPolicy?: string;
  /** JS heap limit of each domain, MiB (default 256). */
  heapLimitMb?: number;
  /** The cost profile that prices the counted events: a shipped name, a file, or a loaded profile (default pentium-pro-1996). */
  profile?: string | Profile;
  /** Stop sending new requests when this aborts; the requests in flight finish and the report says `endedBy: 'stop'`. */
  abortSignal?: AbortSignal;
  /**
   * A server module of one's own (the CLI's `--server-module NAME=FILE`): boot
   * a server from this module file instead of the shipped one, in either kernel
   * (default {}: none). The file's default or named export `server` is a
   * ServerModule named for the server it replaces; see KernelConfig.serverModules.
   */
  serverModules?: Partial<Record<ServerName, string>>;
  /**
   * Microkernel only: payloads cross through the transport in this module file
   * (.js, or .ts through tsx) instead of a shipped one; not with `transport`
   * other than 'copy' (the default). Its default or named export `transport`
   * is a TransportModule: grants and safecopy (see microkernel/transport-module.ts).
   */
  transportModule?: string;
  /**
   * Trace the first `requests` requests by request id (1..1000): their
   * messages, handlers and flows in every domain, in the report's `trace`
   * (Chrome Trace Events and per-request message sequences). Counted work is
   * the same with and without it.
   */
  trace?: { requests: number };
}

/** `o` without its undefined fields: options as given, so that defaults apply to the rest. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const workloadOption = z.union([z.string().min(1), z.custom<Workload>((v) => isObject(v) && typeof v.name === 'string' && Array.isArray(v.services))], {
  error: 'must be a shipped workload name, a path to a workload file, or a parsed workload',
});
const profileOption = z.union([z.string().min(1), z.custom<Profile>((v) => isObject(v) && typeof v.name === 'string' && isObject(v.params))], {
  error: 'must be a shipped profile name, a path to a profile file, or a loaded profile',
});
const oneOf = <T extends string>(choices: readonly T[]) =>
  z.custom<T>((v) => choices.includes(v as T), { error: `must be one of ${choices.join(', ')}` });

const ArrivalOption = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('closed'), thinkTimeMs: zRange(RANGES.thinkTimeMs).default(0) }),
    z.strictObject({
      kind: z.literal('open'),
      ratePerSec: zRange(RANGES.ratePerSec),
      maxInFlight: zRange(RANGES.maxInFlight).default(4096),
    }),
  ],
  { error: "must be { kind: 'closed', thinkTimeMs } or { kind: 'open', ratePerSec, maxInFlight }" },
);

/** A FaultSpec given as an object: the same checks as its text gets. */
const FaultObject = z
  .strictObject({
    server: oneOf(SERVER_NAMES),
    kind: oneOf(FAULT_KINDS),
    trigger: z.strictObject({
      on: oneOf(TRIGGER_KINDS),
      at: z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0, { error: 'must be an integer >= 0' }),
    }),
  })
  .superRefine((f, ctx) => {
    if (f.trigger.at < triggerMin(f.trigger.on)) {
      ctx.addIssue({ code: 'custom', path: ['trigger', 'at'], message: `must be an integer >= ${triggerMin(f.trigger.on)} for a ${f.trigger.on} trigger` });
    }
    if (!faultApplies(f.server, f.kind)) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `cannot be '${f.kind}' for ${f.server}: only the disk can lose a write`, params: { quoted: true } });
    }
  });

/**
 * One entry of `faults`: a FaultSpec, a fault's text or a random plan's text.
 * A text that does not parse is refused with the FaultSpecError's message (which
 * quotes it, so it is not echoed again).
 */
const FaultEntry = z.unknown().transform((v, ctx): FaultSpec | RandomPlan => {
  if (typeof v === 'string') {
    try {
      return parseFaultText(v);
    } catch (e) {
      if (!(e instanceof FaultSpecError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message, params: { quoted: true } });
      return z.NEVER;
    }
  }
  if (!isObject(v)) {
    ctx.addIssue({ code: 'custom', message: `must be a fault's text, ${FAULT_SPEC_FORM}, a random plan, random:count=K[,seed=S], or { server, kind, trigger: { on, at } }` });
    return z.NEVER;
  }
  const r = FaultObject.safeParse(v);
  if (r.success) return r.data;
  // the object's own issues, at their paths inside it (a stray key named as one)
  for (const issue of r.error.issues) {
    const params = { ...(issue as { params?: object }).params, ...(issue.code === 'unrecognized_keys' ? { unrecognized: issue.keys } : {}) };
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, params });
  }
  return z.NEVER;
});

/** The request count a random fault plan is drawn for when the options give none. */
export const RANDOM_PLAN_REQUESTS = 1000;

/** A seed: an integer or a string of 1 to 64 characters. */
const seedOption = z.custom<number | string>((v) => Number.isSafeInteger(v) || (typeof v === 'string' && v.length >= 1 && v.length <= 64), {
  error: 'must be an integer or a string of 1 to 64 characters',
});

/** The fields run() and compare() share: everything but the kernel's choice. */
const commonShape = {
  workload: workloadOption.default(DEFAULT_WORKLOAD),
  requests: zRange(RANGES.requests).optional(),
  clients: zRange(RANGES.clients).optional(),
  arrival: ArrivalOption.optional(),
  durationMs: zRange(RANGES.durationMs).optional(),
  seed: seedOption.optional(),
  cacheBlocks: zRange(RANGES.cacheBlocks).default(DEFAULT_KERNEL_CONFIG.cacheBlocks),
  poolBlocks: zRange(RANGES.poolBlocks).optional(),
  mtu: zRange(RANGES.mtu).default(DEFAULT_KERNEL_CONFIG.mtu),
  spinUs: zRange(RANGES.spinUs).optional(),
  ringBytes: zRange(RANGES.ringBytes)
    .refine((v) => (v & (v - 1)) === 0, { error: 'must be a power of two' })
    .optional(),
  checksumOffload: z.boolean({ error: 'must be true or false' }).default(DEFAULT_KERNEL_CONFIG.checksumOffload),
  callTimeoutMs: zRange(RANGES.callTimeoutMs).default(DEFAULT_KERNEL_CONFIG.callTimeoutMs),
  hangTimeoutMs: zRange(RANGES.hangTimeoutMs).default(DEFAULT_KERNEL_CONFIG.hangTimeoutMs),
  faults: z.array(FaultEntry, { error: 'must be an array of faults' }).default([]),
  // microkernel only: left undefined here so that one given to the monolith can be refused
  maxRestarts: zRange(RANGES.maxRestarts).optional(),
  restartWindowMs: zRange(RANGES.restartWindowMs).optional(),
  heapLimitMb: zRange(RANGES.heapLimitMb).default(DEFAULT_KERNEL_CONFIG.heapLimitMb),
  profile: profileOption.default(DEFAULT_PROFILE),
  abortSignal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { error: 'must be an AbortSignal' }).optional(),
};

/** A module file path per server it replaces (run() and serve() only; an extension point). */
const ServerModulesOption = z.strictObject(
  Object.fromEntries(SERVER_NAMES.map((n) => [n, z.string({ error: 'must be a path to a module file' }).min(1, { error: 'must be a path to a module file' }).optional()])) as Record<
    ServerName,
    z.ZodOptional<z.ZodString>
  >,
  { error: `must be an object mapping server names (${SERVER_NAMES.join(', ')}) to module file paths` },
);

/** `trace`: how many requests to trace, the first by request id. */
const TraceOption = z.strictObject(
  { requests: z.custom<number>((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000, { error: 'must be an integer from 1 to 1000' }) },
  { error: 'must be { requests: N }, N an integer from 1 to 1000' },
);

/**
 * The zod schema of run()'s options: fills in the defaults, checks every range,
 * and refuses options that cannot apply (a microkernel-only option given to the
 * monolith, spinUs without ring signalling). `parseRunOptions` uses it.
 */
export const RunOptionsSchema = z
  .strictObject({
    ...commonShape,
    mode: oneOf(MODES).default(DEFAULT_MODE),
    transport: oneOf(TRANSPORTS).optional(),
    signal: oneOf(SIGNALS).optional(),
    serverModules: ServerModulesOption.default({}),
    transportModule: z.string({ error: 'must be a path to a module file' }).min(1, { error: 'must be a path to a module file' }).optional(),
    trace: TraceOption.optional(),
    restartPolicy: z.string({ error: 'must be a path to a module file' }).min(1, { error: 'must be a path to a module file' }).optional(),
  })
  .superRefine((o, ctx) => {
    // an option that cannot apply is refused, not ignored
    if (o.mode === 'monolithic') {
      for (const field of ['transport', 'signal', 'spinUs', 'ringBytes', 'poolBlocks', 'maxRestarts', 'restartWindowMs', 'restartPolicy'] as const) {
        if (o[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'applies to the microkernel only', params: { rule: true, fix: { mode: 'microkernel' } } });
      }
    } else if (o.spinUs !== undefined && o.signal !== 'ring') {
      ctx.addIssue({ code: 'custom', path: ['spinUs'], message: 'applies to ring signalling only', params: { rule: true, fix: { signal: 'ring' } } });
    }
    if (o.mode === 'monolithic' && o.transportModule !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['transportModule'], message: 'applies to the microkernel only', params: { rule: true, fix: { mode: 'microkernel' } } });
    }
    if (o.mode === 'microkernel' && o.transportModule !== undefined && o.transport !== undefined && o.transport !== 'copy') {
      ctx.addIssue({
        code: 'custom',
        path: ['transportModule'],
        message: "cannot go with {transport} other than 'copy': the module is the transport",
        params: { rule: true },
      });
    }
    if (o.mode === 'microkernel' && o.signal === 'ring' && o.transport === 'transfer') {
      ctx.addIssue({
        code: 'custom',
        path: ['transport'],
        message: "'transfer' cannot go with ring signalling: buffers move only with postMessage (signal message or batch)",
        params: { rule: true, fix: { signal: 'message' } },
      });
    }
    if (o.arrival?.kind === 'open' && o.clients !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['clients'], message: 'applies to a closed loop only (an open loop bounds what is outstanding by {arrival.maxInFlight})', params: { rule: true } });
    }
  });

/**
 * run()'s options with every default filled in and every range checked; every
 * fault as a FaultSpec (random plans drawn for `requests`, or 1000 requests).
 */
export type ParsedRunOptions = Omit<z.output<typeof RunOptionsSchema>, 'faults' | 'maxRestarts' | 'restartWindowMs'> & {
  faults: FaultSpec[];
  maxRestarts: number;
  restartWindowMs: number;
};

/** What `compare()` accepts: run()'s options without the kernel's choice, which the labels make. */
export interface CompareOptions extends Omit<RunOptions, 'mode' | 'transport' | 'signal' | 'serverModules' | 'trace' | 'transportModule' | 'restartPolicy'> {
  /**
   * Trace the first N requests of each label's last measured run (under the
   * first seed): its report's `trace` then holds the Chrome trace events and
   * the message sequences (default: none traced). Tracing changes nothing
   * counted.
   */
  traceRequests?: number;
  /** Labels such as 'monolithic', 'microkernel:copy'; the first is the baseline. */
  labels?: string[];
  /**
   * Several seeds (instead of `seed`): every round runs every label under every
   * seed, seed by seed (seed 1: A B C, seed 2: A B C, ...), and each label's
   * figures are over all its rounds × seeds. Distinct; not with `seed`.
   */
  seeds?: (number | string)[];
  /** Measured rounds per label (default 3). */
  rounds?: number;
  /** Rounds before measuring (each label under each seed), not reported (default 1). */
  warmupRounds?: number;
  /** Called after every run, for progress display. */
  onRun?: (info: { label: string; round: number; warmup: boolean; seed: number | string; report: import('./run.js').RunReport }) => void;
}

/** The labels `compare()` runs when none are given: the monolith (the baseline) and the microkernel copying payloads. */
export const DEFAULT_LABELS = ['monolithic', 'microkernel:copy'] as const;

/**
 * The zod schema of compare()'s options: run()'s shared fields, the labels
 * (default DEFAULT_LABELS), rounds (default 3), warm-up rounds (default 1) and
 * seeds (distinct; not with `seed`). `parseCompareOptions` uses it.
 */
export const CompareOptionsSchema = z
  .strictObject({
    ...commonShape,
    seeds: z.array(seedOption, { error: 'must be an array of seeds' }).min(1, { error: 'must name at least one seed' }).optional(),
    labels: z.array(z.string(), { error: 'must be an array of labels' }).min(1, { error: 'must name at least one label' }).default([...DEFAULT_LABELS]),
    rounds: zRange(RANGES.rounds).default(3),
    warmupRounds: zRange(RANGES.warmupRounds).default(1),
    traceRequests: zRange(RANGES.traceRequests).optional(),
    onRun: z.custom<NonNullable<CompareOptions['onRun']>>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.seeds === undefined) return;
    if (o.seed !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'cannot go with {seed}: use one of them ({seed} for one seed, {seeds} for several)', params: { rule: true } });
    }
    // a seed is a key of the digests per seed: 5 and '5' would be one
    const seen = new Set<string>();
    for (const [i, s] of o.seeds.entries()) {
      if (seen.has(String(s))) ctx.addIssue({ code: 'custom', path: ['seeds', i], message: 'repeats a seed: each seed once', params: { quoted: false } });
      seen.add(String(s));
    }
  });

/**
 * compare()'s options checked and completed; every fault as a FaultSpec, as in
 * ParsedRunOptions. `maxRestarts` and `restartWindowMs` stay undefined unless
 * given: they go to the microkernel's labels alone.
 */
export type ParsedCompareOptions = Omit<z.output<typeof CompareOptionsSchema>, 'faults'> & { faults: FaultSpec[] };

/** Check and complete run()'s options; throws a ConfigError naming the first bad field. */
export function parseRunOptions(opts: unknown): ParsedRunOptions {
  const o = parseWith(RunOptionsSchema, opts);
  return {
    ...o,
    faults: expandFaults(o.faults, o.requests ?? RANDOM_PLAN_REQUESTS),
    maxRestarts: o.maxRestarts ?? DEFAULT_KERNEL_CONFIG.maxRestarts,
    restartWindowMs: o.restartWindowMs ?? DEFAULT_KERNEL_CONFIG.restartWindowMs,
  };
}

/** Check and complete compare()'s options; throws a ConfigError naming the first bad field. */
export function parseCompareOptions(opts: unknown): ParsedCompareOptions {
  const o = parseWith(CompareOptionsSchema, opts);
  return { ...o, faults: expandFaults(o.faults, o.requests ?? RANDOM_PLAN_REQUESTS) };
}

function parseWith<S extends z.ZodType>(schema: S, opts: unknown): z.output<S> {
  if (opts === undefined) opts = {};
  if (!isObject(opts)) throw new ConfigError('options', { reason: 'must be an object' });
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const params = (issue as { params?: { rule?: boolean; quoted?: boolean; unrecognized?: string[]; fix?: Record<string, string> } }).params;
  const path = issue.path.map(String);
  const unrecognized = issue.code === 'unrecognized_keys' ? issue.keys : params?.unrecognized;
  if (unrecognized) {
    // a nested object's stray key is named with its path
    throw new ConfigError([...path, unrecognized[0]].join('.'), { reason: 'is not an option' });
  }
  const field = path.join('.') || 'options';
  const given = valueAt(opts, path);
  // a rule across options names them, and a message may quote the value itself; any other bad value is echoed as given
  throw new ConfigError(field, { reason: issue.message, given: params?.rule || params?.quoted ? undefined : given, fix: params?.fix });
}

function valueAt(o: unknown, path: string[]): unknown {
  let v = o;
  for (const k of path) v = isObject(v) || Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
