/**
 * The command line: argv -> options -> run/compare -> printing. The only module
 * that knows about argv, the terminal and exit codes (0 done, 1 the run failed
 * or was incomplete, 2 bad usage or bad input, 130 stopped by Ctrl-C).
 *
 * Flags map onto the library's options one to one and are checked by the same
 * schema (`options.ts`), before any work starts; a flag that cannot apply is a
 * usage error that says what to write instead.
 */
import yargs, { type Argv, type Options } from 'yargs';
import pc from 'picocolors';
import cliProgress from 'cli-progress';
import { accessSync, constants, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import os from 'node:os';
import { ConfigError, DEFAULT_KERNEL_CONFIG, MODES, SIGNALS, TRANSPORTS, type Mode, type OptionNamer } from '../config.js';
import { compare, LabelError, parseLabel, type Comparison } from '../compare.js';
import { defined, DEFAULT_LABELS, DEFAULT_MODE, DEFAULT_WORKLOAD, RANDOM_PLAN_REQUESTS, type CompareOptions, type RunOptions } from '../options.js';
import { inRange, RANGES, rangeText, type Range } from '../limits.js';
import { formatCheck, formatComparison, formatIpcBench, formatProfile, formatRun, formatServe } from '../report/text.js';
import { ListenError, serve, SERVE_DEFAULTS, type ServeOptions } from '../serve.js';
import { benchIpc } from '../microkernel/bench-ipc.js';
import { resolveRun, run, type RunReport } from '../run.js';
import { FAULT_SPEC_FORM, FaultSpecError, isRandomPlanText, parseFaultSpec, parseRandomPlan, RANDOM_MAX_MS, RANDOM_PLAN_FORM } from '../faults/plan.js';
import { loadWorkload, shippedWorkloads, WorkloadError } from '../workload/load.js';
import { DEFAULT_PROFILE, loadProfile, PROFILE_DIR, shippedProfiles } from '../costmodel/profile.js';
import { priceRoundTrip } from '../costmodel/price.js';
import { calibrate, checkModel } from '../costmodel/calibrate.js';
import { campaign, DEFAULT_CAMPAIGN_REQUESTS, DEFAULT_CAMPAIGN_SEED, DEFAULT_CAMPAIGN_WORKLOAD } from '../faults/campaign.js';
import { formatCampaign } from '../report/campaign.js';
import { toCsv, toMarkdown } from '../report/export.js';
import { toHtml } from '../report/html.js';
import { chromeTraceFile, chromeTraceOfRuns } from '../trace/chrome.js';
import { DEFAULT_SWEEP_SEED, parseSweepParam, shardFromEnv, sweep, sweepCells, writeAtomic, type Shard, type SweepValue } from '../sweep.js';
import { merge, MergeError, sweepComparison } from '../merge.js';
import { BaselineError, compareToBaseline, formatBaseline } from '../baseline.js';
import { ModuleError } from '../module-file.js';
import type { RequestSequence } from '../trace/types.js';
import { findLab, grade, labDir, LabError, LABS, selectedChecks, studentSeeds } from '../labs/index.js';
import { formatCheck as formatGradeCheck, formatScore } from '../labs/format.js';
import { normSeed } from '../labs/common.js';

/** A usage or input problem: one line on stderr, exit code 2. */
class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Where the CLI writes: data on `out` (stdout), everything else on `err` (stderr). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * One main() call's printing, each text ended by a newline. Made from that call's
 * streams and handed to whatever prints, so calls side by side (in one process)
 * keep their own; not an AsyncLocalStorage, whose promise hooks would tax every
 * promise in this thread (the microkernel's clients and kernel run in it).
 */
interface Print {
  out(text: string): void;
  err(text: string): void;
}
const printTo = (streams: CliIo): Print => ({
  out: (text) => streams.out(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => streams.err(text.endsWith('\n') ? text : `${text}\n`),
});

// ---------------------------------------------------------------- flags

/** Library fields whose flag is not the field's name in kebab case. */
const FLAG_OF_FIELD: Record<string, string> = {
  'arrival.ratePerSec': 'rate',
  'arrival.maxInFlight': 'max-in-flight',
  'arrival.thinkTimeMs': 'think-time-ms',
  labels: 'modes',
  warmupRounds: 'warmup',
  maxErrorPercent: 'max-error',
  payloadBytes: 'sizes',
  faults: 'fault',
  schedules: 'campaign',
  serverModules: 'server-module',
};

/** The CLI names an option by its flag: `--mode`, or `--mode microkernel` with a value. */
const flagName: OptionNamer = (field, value) => {
  // an entry of a list is named by the list's flag (faults.2 -> --fault)
  field = field.replace(/\.\d+$/, '');
  // a sweep's parameter is named by its --param (params.clients -> --param clients)
  if (field.startsWith('params.')) return `--param ${field.slice('params.'.length)}${value === undefined ? '' : `=${value}`}`;
  const flag = FLAG_OF_FIELD[field] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return value === undefined ? `--${flag}` : `--${flag} ${value}`;
};

/** A numeric flag: yargs leaves a value that is not a number as the string given, so it can be echoed. */
const numeric = (describe: string, range: Range, dflt?: number): Options => ({
  requiresArg: true,
  nargs: 1,
  describe: `${describe} (${rangeText(range)}${dflt === undefined ? '' : `; default ${dflt}`})`,
});

/**
 * --json [FILE]: JSON on stdout (the text then goes to stderr), or in FILE. yargs
 * cannot tell an optional value from a positional: `jsonArgv` decides which the
 * word after --json is, by the rule said here.
 */
const jsonFlag = (what: string, note?: string): Options => ({
  type: 'string',
  describe: `${what} as JSON: --json or --json - on stdout (the text then goes to stderr), --json FILE to FILE (the word after --json, unless it starts with - or is a directory)${note ? `; ${note}` : ''}`,
});

/** Flags of every command that runs a workload (run and compare). */
const WORKLOAD_FLAGS = {
  workload: { alias: 'w', type: 'string', requiresArg: true, describe: `shipped workload name or path to a .json file (default ${DEFAULT_WORKLOAD})` },
  requests: { alias: 'n', ...numeric("requests to send (default: the workload's; with --duration-ms, no cap)", RANGES.requests) },
  clients: { alias: 'c', ...numeric("closed-loop clients (default: the workload's)", RANGES.clients) },
  seed: { alias: 's', type: 'string', requiresArg: true, describe: "seed for files and requests (default: the workload's)" },
  rate: numeric('open loop: Poisson arrivals at this many requests/s (latency counts from each scheduled arrival)', RANGES.ratePerSec),
  'max-in-flight': numeric('open loop: most requests outstanding at once', RANGES.maxInFlight, 4096),
  'think-time-ms': numeric('closed loop: each client waits this long after a reply', RANGES.thinkTimeMs, 0),
  'duration-ms': numeric('stop sending new requests after this long', RANGES.durationMs),
  'cache-blocks': numeric('disk buffer cache size in 4 KiB blocks', RANGES.cacheBlocks, 4096),
  mtu: numeric('frame size in bytes, 40 bytes of headers included', RANGES.mtu, 1500),
  'checksum-offload': { type: 'boolean', describe: 'the NIC computes the Internet checksum' },
  'call-timeout-ms': numeric('deadline of every cross-domain call', RANGES.callTimeoutMs, 10_000),
  'hang-timeout-ms': numeric('a domain silent to heartbeats this long is hung', RANGES.hangTimeoutMs, 3000),
  fault: {
    type: 'string',
    requiresArg: true,
    describe:
      'inject a fault (repeatable; default none): SERVER:KIND@TRIGGER, e.g. disk:crash@message=1000. SERVER: disk, net or app. KIND (default crash): ' +
      'crash (throws), exit (its thread exits), hang (spins until its missed heartbeat is noticed), oom (outgrows --heap-limit-mb), garbage (answers ' +
      'with a malformed reply) or lose (disk only: acknowledges a write without putting it on the media). TRIGGER: message=N (its Nth message), ' +
      'request=N (once N requests were sent) or ms=T (T ms after the clients started). SERVER@N is SERVER:crash@message=N, SERVER@N:KIND the same ' +
      "with KIND. Any fault but lose: the monolith reports it as a kernel panic, the microkernel's supervisor restarts the server",
  },
  faults: {
    type: 'string',
    requiresArg: true,
    describe:
      `inject a random fault plan: ${RANDOM_PLAN_FORM} draws K faults (K from 1 to 1000) from seed S (an integer or a word; default 1): any server, ` +
      `any kind but lose, triggers message=N up to 4 x --requests, request=N up to --requests, ms=T up to ${RANDOM_MAX_MS} ` +
      `(--requests ${RANDOM_PLAN_REQUESTS} when not given). The same seed, the same plan`,
  },
  'max-restarts': numeric(
    'microkernel: restarts the supervisor allows a server within --restart-window-ms before it gives it up (calls to it then fail with ESERVERFAILED)',
    RANGES.maxRestarts,
    DEFAULT_KERNEL_CONFIG.maxRestarts,
  ),
  'restart-window-ms': numeric('microkernel: the window --max-restarts counts restarts in', RANGES.restartWindowMs, DEFAULT_KERNEL_CONFIG.restartWindowMs),
  'heap-limit-mb': numeric('JS heap limit of each domain, MiB: past it the domain dies out of memory', RANGES.heapLimitMb, DEFAULT_KERNEL_CONFIG.heapLimitMb),
  profile: { type: 'string', requiresArg: true, describe: `cost profile that prices the counted events (modelled figures): ${shippedProfiles().join(', ')}, or a .json file (default ${DEFAULT_PROFILE})` },
  'accept-incomplete': { type: 'boolean', describe: 'exit 0 even if some requests failed or have an unknown outcome (a server failure still exits 1)' },
  json: jsonFlag('the report'),
  wide: { type: 'boolean', describe: 'every detail in the tables (wider than 100 columns); --json has them all' },
  quiet: { alias: 'q', type: 'boolean', describe: 'no progress or summary text' },
} satisfies Record<string, Options>;

/** Exports of a report or comparison, each to a file or (`-`) stdout. */
const EXPORT_FLAGS = {
  csv: { type: 'string', requiresArg: true, describe: 'write one CSV row per run (units and kind in the column names) to FILE; - for stdout' },
  markdown: { type: 'string', requiresArg: true, describe: 'write a Markdown table, a row per label, to FILE; - for stdout' },
  html: { type: 'string', requiresArg: true, describe: 'write one self-contained HTML report (charts; no scripts, no network) to FILE; - for stdout' },
  'html-profiles': { type: 'string', requiresArg: true, describe: `with --html: price the counted events under these profiles too, comma-separated (a switcher picks one): ${shippedProfiles().join(', ')}` },
} satisfies Record<string, Options>;

const RUN_FLAGS = {
  ...WORKLOAD_FLAGS,
  ...EXPORT_FLAGS,
  trace: { type: 'string', requiresArg: true, describe: 'write a Chrome trace (Perfetto, chrome://tracing) of the first --trace-requests requests to FILE; - for stdout' },
  'trace-requests': numeric('with --trace: how many requests to trace, the first by request id', RANGES.traceRequests, 20),
  mode: { alias: 'm', choices: MODES, requiresArg: true, describe: `which kernel (default ${DEFAULT_MODE})` },
  transport: { alias: 't', choices: TRANSPORTS, requiresArg: true, describe: 'microkernel: how payloads cross domains (default copy)' },
  signal: { choices: SIGNALS, requiresArg: true, describe: 'microkernel: how a domain learns a message waits: a port event per message, per batch, or shared-memory rings it polls (default message)' },
  'spin-us': numeric('microkernel with --signal ring: µs a domain polls after its last message before it sleeps (see README)', RANGES.spinUs, 0),
  'server-module': { type: 'string', requiresArg: true, describe: 'place a server module of your own for a server, NAME=FILE (repeatable; NAME disk, net or app; a .ts or .js file whose export `server` is a ServerModule), in either kernel' },
  'transport-module': { type: 'string', requiresArg: true, describe: 'microkernel: a transport of your own, FILE (.ts or .js) whose export `transport` is a TransportModule (grants and safecopy), instead of the shipped transports' },
  'restart-policy': { type: 'string', requiresArg: true, describe: "microkernel: a module whose export `policy` decides the supervisor's restarts instead of the shipped policy (.js; .ts through tsx)" },
} satisfies Record<string, Options>;

/** Flags of the simulated clients: serve has real ones instead. */
const CLIENT_FLAGS = ['requests', 'clients', 'rate', 'max-in-flight', 'think-time-ms', 'duration-ms', 'accept-incomplete', 'trace', 'trace-requests'] as const;

const SERVE_FLAGS = {
  ...(Object.fromEntries(Object.entries(RUN_FLAGS).filter(([k]) => !(CLIENT_FLAGS as readonly string[]).includes(k))) as Omit<typeof RUN_FLAGS, (typeof CLIENT_FLAGS)[number]>),
  host: { type: 'string', requiresArg: true, describe: `address to listen on (default ${SERVE_DEFAULTS.host}: loopback only)` },
  port: { alias: 'p', ...numeric('TCP port; 0 picks a free one (the URL is printed on stderr)', RANGES.port, SERVE_DEFAULTS.port) },
  'max-connections': numeric('connections open at once; more are closed as they arrive', RANGES.maxConnections, SERVE_DEFAULTS.maxConnections),
  'headers-timeout-ms': numeric("a request's headers must be in within this long, or 408 (slow clients)", RANGES.headersTimeoutMs, SERVE_DEFAULTS.headersTimeoutMs),
  'idle-timeout-ms': numeric('a keep-alive connection idle this long between requests is closed', RANGES.idleTimeoutMs, SERVE_DEFAULTS.idleTimeoutMs),
  'request-timeout-ms': numeric('a whole request, and any silence on a connection, at most this long', RANGES.requestTimeoutMs, SERVE_DEFAULTS.requestTimeoutMs),
  'max-header-bytes': numeric('bytes of request line and headers; more is 431 (414 if the request line alone is longer)', RANGES.maxHeaderBytes, SERVE_DEFAULTS.maxHeaderBytes),
  'max-uri-bytes': numeric('bytes of the request target; more is 414', RANGES.maxUriBytes, SERVE_DEFAULTS.maxUriBytes),
  'drain-timeout-ms': numeric('on stop, how long responses in flight get to finish', RANGES.drainTimeoutMs, SERVE_DEFAULTS.drainTimeoutMs),
} satisfies Record<string, Options>;

const COMPARE_FLAGS = {
  ...WORKLOAD_FLAGS,
  ...EXPORT_FLAGS,
  trace: { type: 'string', requiresArg: true, describe: "write a Chrome trace (Perfetto, chrome://tracing) of each label's last run, its first --trace-requests requests, to FILE; - for stdout" },
  'trace-requests': numeric('with --trace: how many requests of each label to trace (with --html alone, 1 is traced for its message sequence)', RANGES.traceRequests, 20),
  modes: { type: 'string', requiresArg: true, describe: `comma-separated labels, monolithic or microkernel[:TRANSPORT[:SIGNAL]]; the first is the baseline (default ${DEFAULT_LABELS.join(',')})` },
  rounds: { alias: 'r', ...numeric('measured rounds per label', RANGES.rounds, 3) },
  seeds: { type: 'string', requiresArg: true, describe: 'several seeds, comma-separated: every round runs every label under each (instead of --seed)' },
  baseline: { type: 'string', requiresArg: true, describe: 'a saved comparison (--json) to show the change against, label by label' },
  'fail-above': numeric('with --baseline: exit 1 when a label regressed by more than this many percent (of --fail-on)', RANGES.maxErrorPercent),
  'fail-on': { choices: ['modelled', 'host'], requiresArg: true, describe: 'with --fail-above: judge modelled throughput (deterministic; default) or the host-measured ratio (noisy)' },
  warmup: numeric('unmeasured rounds per label first', RANGES.warmupRounds, 1),
  'spin-us': numeric('labels with ring signalling: µs a domain polls after its last message before it sleeps', RANGES.spinUs, 0),
  // run's kernel flags, accepted only to say what compare takes instead
  mode: { alias: 'm', hidden: true, requiresArg: true },
  transport: { alias: 't', hidden: true, requiresArg: true },
  signal: { hidden: true, requiresArg: true },
} satisfies Record<string, Options>;

const BENCH_FLAGS = {
  transports: { type: 'string', requiresArg: true, default: TRANSPORTS.join(','), describe: 'comma-separated transports' },
  signals: { type: 'string', requiresArg: true, default: SIGNALS.join(','), describe: 'comma-separated signalling choices' },
  sizes: { type: 'string', requiresArg: true, default: '8,64,512,4096,65536,1048576', describe: `message payload sizes in bytes, comma-separated (each ${rangeText(RANGES.payloadBytes)})` },
  'spin-us': numeric('ring signalling: µs to poll before sleeping (see README)', RANGES.spinUs, 0),
  depth: numeric('calls in flight for the pipelined and bandwidth figures', RANGES.depth, 64),
  effort: numeric('scale the number of calls per figure (and, below 0.2, the 250 ms warm-up of each pair)', RANGES.effort, 1),
  'in-thread': { type: 'boolean', describe: 'serve the echo in this thread, not in a domain of its own: the same IPC code with no thread between the ends (what the framework costs per message, without wake-ups or a second core)' },
  profile: { type: 'string', requiresArg: true, describe: `cost profile for the modelled round trip (default ${DEFAULT_PROFILE})` },
  json: jsonFlag('the results'),
  wide: { type: 'boolean', describe: 'every detail in the table (p99 and pipelined round trips)' },
  quiet: { alias: 'q', type: 'boolean', describe: 'no progress text' },
} satisfies Record<string, Options>;

const DEFAULT_CALIBRATION_FILE = 'microlith-host.json';

const CALIBRATE_FLAGS = {
  out: { type: 'string', requiresArg: true, describe: `where to write the measured profile (default ./${DEFAULT_CALIBRATION_FILE}; use it with --profile FILE)` },
  effort: numeric('scale the measuring loops', RANGES.effort, 1),
  check: { type: 'boolean', describe: "instead of measuring: run every shipped workload in both modes and print the modelled throughput's error against the host-measured one" },
  profile: { type: 'string', requiresArg: true, describe: 'with --check: the profile to check (default host)' },
  requests: { alias: 'n', ...numeric('with --check: requests per run (a workload of large files gets a hundredth, at least 20 and at most this)', RANGES.requests, 10_000) },
  modes: { type: 'string', requiresArg: true, describe: 'with --check: comma-separated labels (default monolithic,microkernel:copy)' },
  'max-error': numeric('with --check: exit 1 if any |error| exceeds this many percent', RANGES.maxErrorPercent),
  json: jsonFlag('the result (of measuring: the profile; of --check: its rows)'),
  wide: { type: 'boolean', describe: 'every detail in the tables' },
  quiet: { alias: 'q', type: 'boolean', describe: 'no progress text' },
} satisfies Record<string, Options>;

const FAULTS_FLAGS = {
  campaign: numeric('required: schedules to run, each one random fault under each mode', RANGES.campaignSchedules),
  mode: { alias: 'm', choices: MODES, requiresArg: true, describe: 'run the schedules under this kernel only (default both, the same fault in each)' },
  workload: { alias: 'w', type: 'string', requiresArg: true, describe: `shipped workload name or path to a .json file (default ${DEFAULT_CAMPAIGN_WORKLOAD}, which writes)` },
  seed: { alias: 's', type: 'string', requiresArg: true, describe: `seed of the campaign: schedule i's fault is drawn from SEED:i, and every run uses it as the workload's seed (default ${DEFAULT_CAMPAIGN_SEED})` },
  requests: { alias: 'n', ...numeric('requests per run', RANGES.requests, DEFAULT_CAMPAIGN_REQUESTS) },
  json: jsonFlag('the campaign report'),
  quiet: { alias: 'q', type: 'boolean', describe: 'no progress or summary text' },
} satisfies Record<string, Options>;

const SWEEP_FLAGS = {
  ...(Object.fromEntries(Object.entries(WORKLOAD_FLAGS).filter(([k]) => !['json', 'wide'].includes(k))) as Omit<typeof WORKLOAD_FLAGS, 'json' | 'wide'>),
  ...EXPORT_FLAGS,
  param: { type: 'string', requiresArg: true, describe: 'a parameter and its values, KEY=V1,V2,... (repeatable): the cells are their cartesian product; KEY is a run option (clients, requests, transport, signal, mode, cache-blocks as cacheBlocks, ...) or label (e.g. microkernel:shared:ring)' },
  seed: { alias: 's', type: 'string', requiresArg: true, describe: "the master seed: each cell's seed is derived from it and the cell's id (default 1)" },
  list: { type: 'boolean', describe: "print the cells' ids (of --shard, if given), their seeds and file names, and run nothing" },
  shard: { type: 'string', requiresArg: true, describe: 'run shard I of N (I/N, I from 0): the cells whose position modulo N is I; default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards' },
  shards: numeric('with JOB_COMPLETION_INDEX (a Kubernetes indexed job): how many shards there are', RANGES.rounds),
  dir: { type: 'string', requiresArg: true, describe: 'write each cell to DIR/<hash of its config>.json (atomically); cells already there are read back, not run again' },
  json: jsonFlag('the sweep'),
  wide: { type: 'boolean', describe: 'every detail in the tables' },
} satisfies Record<string, Options>;

const MERGE_FLAGS = {
  ...EXPORT_FLAGS,
  json: jsonFlag('the merged sweep', 'merge --json DIR merges DIR onto stdout'),
  wide: { type: 'boolean', describe: 'every detail in the tables' },
  quiet: { alias: 'q', type: 'boolean', describe: 'no summary text' },
} satisfies Record<string, Options>;

const WORKLOADS_FLAGS = {
  long: { alias: 'l', type: 'boolean', describe: 'the whole description and its sources' },
} satisfies Record<string, Options>;

const LAB_FLAGS = {
  seed: { alias: 's', type: 'string', requiresArg: true, describe: "show: the problem's seed (default: the lab's first default seed)" },
  compute: { alias: 'c', type: 'boolean', describe: 'show: print the answer too (worked out by running the simulator)' },
  student: { type: 'string', requiresArg: true, describe: "show: the problems of this student's seeds; init: a placeholder answers.json keyed by them" },
  force: { type: 'boolean', describe: 'init: write into a directory that is not empty (files of the same name are replaced)' },
} satisfies Record<string, Options>;

const GRADE_FLAGS = {
  dir: { type: 'string', requiresArg: true, describe: "the student's directory (default .)" },
  results: { type: 'string', requiresArg: true, describe: 'also write the results as JSON to FILE (for an autograder); - for stdout' },
  student: { type: 'string', requiresArg: true, describe: "grade with this student's seeds (derived from the id; default: the lab's default seeds)" },
  seeds: { type: 'string', requiresArg: true, describe: 'more seeds to grade with, comma-separated (e.g. hidden ones the student has not seen)' },
} satisfies Record<string, Options>;

/** Every command, its flags (for suggestions) and its summary. */
const COMMANDS = {
  run: RUN_FLAGS,
  serve: SERVE_FLAGS,
  compare: COMPARE_FLAGS,
  bench: BENCH_FLAGS,
  calibrate: CALIBRATE_FLAGS,
  faults: FAULTS_FLAGS,
  sweep: SWEEP_FLAGS,
  merge: MERGE_FLAGS,
  workloads: WORKLOADS_FLAGS,
  validate: {},
  lab: LAB_FLAGS,
  grade: GRADE_FLAGS,
} as const;
type CommandName = keyof typeof COMMANDS;
const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

type Args<F> = { [K in keyof F]?: unknown };

const plural = (n: number, one: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : `${one}s`}`;

// ---------------------------------------------------------------- from flags to options

/**
 * Every value of a repeatable flag, in order: yargs keeps only the last of a
 * repeated flag, so they are read off argv (`--flag V` and `--flag=V`, up to a
 * `--`). Called once yargs has parsed argv, so every `--flag` there has a value.
 */
function repeated(argv: string[], flag: string, last: unknown): string[] {
  if (last === undefined) return [];
  const values: string[] = [];
  const end = argv.indexOf('--');
  for (const [i, x] of (end < 0 ? argv : argv.slice(0, end)).entries()) {
    if (x === `--${flag}` && i + 1 < argv.length) values.push(argv[i + 1]);
    else if (x.startsWith(`--${flag}=`)) values.push(x.slice(flag.length + 3));
  }
  return values.length ? values : [String(last)];
}

/**
 * --fault SPEC (repeatable) and --faults random:count=K[,seed=S] -> the
 * library's `faults`, as text, each checked here so that a bad one is named by
 * its flag. The library draws the random plans.
 */
function faultsOf(a: Args<typeof WORKLOAD_FLAGS>, argv: string[]): string[] | undefined {
  const specs = repeated(argv, 'fault', a.fault);
  const plans = repeated(argv, 'faults', a.faults);
  for (const text of specs) {
    if (isRandomPlanText(text)) throw new UsageError(`--fault '${text}' is a random plan: use --faults ${text}`);
    try {
      parseFaultSpec(text);
    } catch (e) {
      throw e instanceof FaultSpecError ? new UsageError(`--fault ${e.message}`) : e;
    }
  }
  for (const text of plans) {
    if (!isRandomPlanText(text)) {
      let one = false;
      try {
        one = parseFaultSpec(text) !== undefined;
      } catch {
        // not a fault either: say what --faults takes
      }
      throw new UsageError(one ? `--faults '${text}' is one fault: use --fault ${text}` : `--faults '${text}': expected ${RANDOM_PLAN_FORM}; one fault is --fault ${FAULT_SPEC_FORM}`);
    }
    try {
      parseRandomPlan(text);
    } catch (e) {
      throw e instanceof FaultSpecError ? new UsageError(`--faults ${e.message}`) : e;
    }
  }
  const all = [...specs, ...plans];
  return all.length ? all : undefined;
}

/** A numeric flag's value checked against its range, echoed as given when it is not a number in it. */
function numberFlag(field: keyof typeof RANGES, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!inRange(RANGES[field], v)) throw new ConfigError(field, { reason: `must be ${rangeText(RANGES[field])}`, given: v });
  return v;
}

/** --rate (open loop) or --think-time-ms (closed loop) -> the arrival model, if either was given. */
function arrivalOf(a: Args<typeof WORKLOAD_FLAGS>): RunOptions['arrival'] {
  if (a.rate !== undefined) {
    if (a['think-time-ms'] !== undefined) throw new UsageError('--think-time-ms is for a closed loop and --rate makes an open one: give one of them');
    const maxInFlight = a['max-in-flight'];
    return { kind: 'open', ratePerSec: a.rate as number, ...(maxInFlight === undefined ? {} : { maxInFlight: maxInFlight as number }) };
  }
  if (a['max-in-flight'] !== undefined) throw new UsageError('--max-in-flight bounds an open loop: add --rate N');
  if (a['think-time-ms'] !== undefined) return { kind: 'closed', thinkTimeMs: a['think-time-ms'] as number };
  return undefined;
}

/** The options common to run and compare, as given (the library's schema checks them). */
function workloadOptions(a: Args<typeof WORKLOAD_FLAGS>, argv: string[]): Omit<RunOptions, 'mode' | 'transport' | 'signal'> {
  const seed = a.seed === undefined ? undefined : /^-?\d{1,15}$/.test(String(a.seed)) ? Number(a.seed) : String(a.seed);
  return defined({
    workload: a.workload as string | undefined,
    profile: a.profile as string | undefined,
    arrival: arrivalOf(a),
    durationMs: a['duration-ms'] as number | undefined,
    requests: a.requests as number | undefined,
    clients: a.clients as number | undefined,
    seed,
    cacheBlocks: a['cache-blocks'] as number | undefined,
    mtu: a.mtu as number | undefined,
    checksumOffload: a['checksum-offload'] as boolean | undefined,
    callTimeoutMs: a['call-timeout-ms'] as number | undefined,
    hangTimeoutMs: a['hang-timeout-ms'] as number | undefined,
    faults: faultsOf(a, argv),
    maxRestarts: a['max-restarts'] as number | undefined,
    restartWindowMs: a['restart-window-ms'] as number | undefined,
    heapLimitMb: a['heap-limit-mb'] as number | undefined,
  });
}

/** Comma-separated labels, each checked. */
function labelsOf(v: unknown): string[] {
  const labels = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  if (labels.length === 0) throw new UsageError('--modes names no label: e.g. --modes monolithic,microkernel:copy');
  for (const l of labels) parseLabel(l);
  return labels;
}

/** compare takes kernels as labels: a run flag that picks a kernel says what to write instead. */
function refuseKernelFlags(a: Args<typeof COMPARE_FLAGS>): void {
  const given = (['mode', 'transport', 'signal'] as const).filter((f) => a[f] !== undefined);
  if (given.length === 0) return;
  const kernel = a.mode === 'monolithic' ? 'monolithic' : `microkernel${a.transport || a.signal ? `:${a.transport ?? 'copy'}` : ''}${a.signal ? `:${a.signal}` : ''}`;
  const labels = kernel === 'monolithic' ? 'monolithic,microkernel:copy' : `monolithic,${kernel}`;
  throw new UsageError(`compare takes the kernels to compare as labels, not --${given[0]}: use --modes ${labels}`);
}

// ---------------------------------------------------------------- exports

type ExportKind = 'json' | 'csv' | 'markdown' | 'html' | 'trace';

/**
 * --json's target: undefined when not asked for (or --no-json, --json=false), `-` for
 * stdout (--json alone, --json -, --json=true), else a file, checked writable.
 */
function jsonTarget(v: unknown): string | undefined {
  if (v === undefined || v === false || v === 'false') return undefined;
  if (v === true || v === '' || v === 'true' || v === '-') return '-';
  if (typeof v !== 'string') throw new UsageError('--json takes one file (or - for stdout)');
  checkWritable(v, 'json');
  return v;
}

/**
 * Where each export asked for goes: a file, or `-` (stdout).
 * Checked before any work: at most one on stdout, and every file writable.
 */
function exportTargets(a: { json?: unknown } & Args<typeof EXPORT_FLAGS> & { trace?: unknown }): Partial<Record<ExportKind, string>> {
  const t: Partial<Record<ExportKind, string>> = {};
  const json = jsonTarget(a.json);
  if (json !== undefined) t.json = json;
  for (const k of ['csv', 'markdown', 'html', 'trace'] as const) {
    const v = a[k as keyof typeof a];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new UsageError(`--${k} needs a file (or - for stdout)`);
    if (v !== '-') checkWritable(v, k);
    t[k] = v;
  }
  const onStdout = Object.entries(t).filter(([, v]) => v === '-').map(([k]) => `--${k}`);
  if (onStdout.length > 1) throw new UsageError(`${onStdout.join(' and ')} would all go to stdout: send all but one to a file`);
  if (a['html-profiles'] !== undefined && t.html === undefined) throw new UsageError('--html-profiles goes with --html FILE');
  return t;
}

/** Some export takes stdout: the text report then goes to stderr. */
const usesStdout = (t: Partial<Record<ExportKind, string>>) => Object.values(t).includes('-');

/** Write `text` to `target` (`-`: stdout), saying where on stderr. */
function emit(io: Print, target: string, text: string, what: string, quiet: unknown): void {
  if (target === '-') return io.out(text);
  writeExport(target, text.endsWith('\n') ? text : `${text}\n`);
  if (!quiet) io.err(`wrote ${what} to ${target}`);
}

/**
 * An export into a file: atomically (a temp file beside it, then a rename, keeping
 * the old file's permissions), so a reader never sees half of it and a failed write
 * leaves the old one. In place when the target is not a regular file (a device, a
 * FIFO, a symlink: written through) or its directory takes no new file.
 */
function writeExport(file: string, text: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    st = undefined;
  }
  let dirWritable = true;
  try {
    accessSync(dirname(resolve(file)), constants.W_OK);
  } catch {
    dirWritable = false;
  }
  if ((st && !st.isFile()) || !dirWritable) writeFileSync(file, text);
  else writeAtomic(file, text, st?.mode);
}

/** The exports of `x` (a run report or a comparison) to their targets. */
function writeExports(io: Print, t: Partial<Record<ExportKind, string>>, x: RunReport | Comparison, a: Args<typeof EXPORT_FLAGS> & { quiet?: unknown }, sequence: RequestSequence | null = null): void {
  if (t.json) emit(io, t.json, JSON.stringify(x, null, 2), 'the JSON report', a.quiet);
  if (t.csv) emit(io, t.csv, toCsv(x), 'the CSV', a.quiet);
  if (t.markdown) emit(io, t.markdown, toMarkdown(x), 'the Markdown table', a.quiet);
  if (t.html) {
    const profiles = a['html-profiles'] === undefined ? undefined : String(a['html-profiles']).split(',').map((p) => loadProfile(p.trim()));
    emit(io, t.html, toHtml(x, { ...defined({ profiles }), sequence }), 'the HTML report', a.quiet);
  }
}

// ---------------------------------------------------------------- commands

/** The exit code of a run or comparison that ended: failed runs exit 1, incomplete ones too unless accepted. */
function exitCodeOf(statuses: RunReport['status'][], acceptIncomplete: boolean, digestsEqual = true): number {
  if (statuses.includes('failed') || !digestsEqual) return EXIT.failed;
  if (statuses.includes('incomplete') && !acceptIncomplete) return EXIT.failed;
  return EXIT.ok;
}

/** The kernel's choice as given: --mode, --transport, --signal, --spin-us, and the modules of one's own placed in it. */
function kernelOptions(a: Args<typeof RUN_FLAGS>, argv: string[]): Pick<RunOptions, 'mode' | 'transport' | 'signal' | 'spinUs' | 'serverModules' | 'transportModule' | 'restartPolicy'> {
  const placed: Record<string, string> = {};
  for (const text of repeated(argv, 'server-module', a['server-module'])) {
    const m = /^([a-z]+)=(.+)$/.exec(text);
    if (!m) throw new UsageError(`--server-module '${text}': expected NAME=FILE, e.g. disk=my-disk.ts`);
    if (placed[m[1]] !== undefined) throw new UsageError(`--server-module ${m[1]} is given twice`);
    placed[m[1]] = m[2];
  }
  return defined({
    mode: a.mode as RunOptions['mode'],
    transport: a.transport as RunOptions['transport'],
    signal: a.signal as RunOptions['signal'],
    spinUs: a['spin-us'] as number | undefined,
    serverModules: Object.keys(placed).length ? (placed as RunOptions['serverModules']) : undefined,
    transportModule: a['transport-module'] as string | undefined,
    restartPolicy: a['restart-policy'] as string | undefined,
  });
}

/** "the monolithic kernel", or "the microkernel (shared transport, ring signalling)". */
function kernelText(k: { mode: Mode; transport?: string; signal?: string }): string {
  return k.mode === 'monolithic' ? 'the monolithic kernel' : `the microkernel (${k.transport ?? 'copy'} transport, ${k.signal ?? 'message'} signalling)`;
}

async function runCommand(io: Print, a: Args<typeof RUN_FLAGS>, argv: string[], stop: AbortController): Promise<number> {
  const targets = exportTargets(a);
  const traceRequests = numberFlag('traceRequests', a['trace-requests']);
  if (traceRequests !== undefined && !targets.trace) throw new UsageError('--trace-requests goes with --trace FILE');
  const opts: RunOptions = { ...workloadOptions(a, argv), ...kernelOptions(a, argv), ...(targets.trace ? { trace: { requests: traceRequests ?? 20 } } : {}) };
  const { workload, cfg } = resolveRun(opts); // every option checked before any work
  if (!a.quiet) io.err(`running ${workload.name} under ${kernelText(cfg)}...`);
  const report = await run({ ...opts, abortSignal: stop.signal });
  writeExports(io, targets, report, a, report.trace?.sequences[0] ?? null);
  if (targets.trace && report.trace) {
    const file = chromeTraceFile(report.trace, { tool: report.tool, mode: report.mode, transport: report.transport, signal: report.signal, workload: report.workload.name, seed: report.workload.seed });
    emit(io, targets.trace, JSON.stringify(file), `a trace of ${plural(report.trace.requests.length, 'request')} (open it in Perfetto or chrome://tracing)`, a.quiet);
  }
  if (!a.quiet) (usesStdout(targets) ? io.err : io.out)(formatRun(report, { wide: a.wide === true }));
  if (report.status !== 'ok') io.err(`microlith: run ${report.status}: ${report.problems.join('; ')}`);
  if (stop.signal.aborted) return EXIT.interrupted;
  return exitCodeOf([report.status], a['accept-incomplete'] === true);
}

async function serveCommand(io: Print, a: Args<typeof SERVE_FLAGS>, argv: string[], stop: AbortController): Promise<number> {
  const targets = exportTargets(a);
  const opts: ServeOptions = {
    ...workloadOptions(a, argv),
    ...kernelOptions(a, argv),
    ...defined({
      host: a.host as string | undefined,
      port: a.port as number | undefined,
      maxConnections: a['max-connections'] as number | undefined,
      headersTimeoutMs: a['headers-timeout-ms'] as number | undefined,
      idleTimeoutMs: a['idle-timeout-ms'] as number | undefined,
      requestTimeoutMs: a['request-timeout-ms'] as number | undefined,
      maxHeaderBytes: a['max-header-bytes'] as number | undefined,
      maxUriBytes: a['max-uri-bytes'] as number | undefined,
      drainTimeoutMs: a['drain-timeout-ms'] as number | undefined,
    }),
  };
  let report;
  try {
    report = await serve({
      ...opts,
      abortSignal: stop.signal,
      onListening: (url) => {
        // the URL is always said: with --port 0 it is the only way to know it
        io.err(`microlith: serving ${opts.workload ?? DEFAULT_WORKLOAD} under ${kernelText({ mode: opts.mode ?? DEFAULT_MODE, ...opts })} at ${url} (Ctrl-C or SIGTERM stops and prints the report)`);
      },
    });
  } catch (e) {
    if (e instanceof ListenError) {
      io.err(`microlith: ${e.message}`);
      return EXIT.failed;
    }
    throw e;
  }
  writeExports(io, targets, report, a);
  if (!a.quiet) (usesStdout(targets) ? io.err : io.out)(formatServe(report, { wide: a.wide === true }));
  if (report.status === 'failed') io.err(`microlith: serve failed: ${report.problems.join('; ')}`);
  // a stop is how serving ends: only a failure of the system is an error
  return report.status === 'failed' ? EXIT.failed : EXIT.ok;
}

async function compareCommand(io: Print, a: Args<typeof COMPARE_FLAGS>, argv: string[], stop: AbortController): Promise<number> {
  refuseKernelFlags(a);
  const targets = exportTargets(a);
  const labels = a.modes === undefined ? [...DEFAULT_LABELS] : labelsOf(a.modes);
  if (a['fail-above'] !== undefined && a.baseline === undefined) throw new UsageError('--fail-above goes with --baseline OLD.json');
  if (a['fail-on'] !== undefined && a['fail-above'] === undefined) throw new UsageError('--fail-on goes with --fail-above PCT');
  const failAbove = numberFlag('maxErrorPercent', a['fail-above']);
  // the saved result is read before any work, so a bad one costs nothing
  let old: unknown;
  if (a.baseline !== undefined) {
    try {
      old = JSON.parse(readFileSync(String(a.baseline), 'utf8'));
    } catch (e) {
      throw new UsageError(`--baseline ${String(a.baseline)}: ${e instanceof SyntaxError ? `not JSON (${e.message})` : 'cannot be read'}`);
    }
  }
  const seeds = a.seeds === undefined ? undefined : String(a.seeds).split(',').map((x) => seedOf(x.trim()) as number | string);
  const traceFlag = numberFlag('traceRequests', a['trace-requests']);
  if (traceFlag !== undefined && !targets.trace) throw new UsageError('--trace-requests goes with --trace FILE');
  // the HTML report draws one request's message sequence: trace one if nothing more is asked
  const traceRequests = targets.trace ? (traceFlag ?? 20) : targets.html ? 1 : undefined;
  const opts: CompareOptions = {
    ...workloadOptions(a, argv),
    labels,
    ...defined({ seeds, traceRequests }),
    ...defined({ rounds: a.rounds as number | undefined, warmupRounds: a.warmup as number | undefined, spinUs: a['spin-us'] as number | undefined }),
  };
  const rounds = opts.rounds ?? 3;
  const shown = labels.map((l) => parseLabel(l).label);
  const width = Math.max(...shown.map((l) => l.length));
  // on a terminal a bar with an ETA; elsewhere (a log) one line per run
  const bar = progressBar((rounds + (opts.warmupRounds ?? 1)) * labels.length * (seeds?.length ?? 1), a.quiet);
  let runs = 0;
  const result: Comparison = await compare({
    ...opts,
    abortSignal: stop.signal,
    onRun: ({ label, round, warmup, report }) => {
      if (a.quiet) return;
      const tag = warmup ? 'warm-up' : `round ${round + 1}/${rounds}`;
      const rps = Math.round(report.throughput.requestsPerSec).toLocaleString('en-US');
      if (bar) return bar.update(++runs, `${tag} ${label} ${rps} req/s (host-measured)`);
      io.err(`  ${tag.padEnd(`round ${rounds}/${rounds}`.length)}  ${label.padEnd(width)}  ${rps.padStart(9)} req/s (host-measured)${report.status === 'ok' ? '' : `  ${report.status.toUpperCase()}`}`);
    },
  });
  bar?.stop();
  if (!result.complete) io.err(`microlith: stopped: ${result.rounds} of ${result.roundsPlanned} rounds finished; the results below are of those rounds (marked incomplete)`);
  if (result.results.length) {
    const traced = result.results.flatMap((r) => {
      const sample = r.reports[r.reports.length - 1]?.trace;
      return sample ? [{ label: r.label, sample }] : [];
    });
    // the sequence drawn: of the first microkernel label (its messages cross domains), else the baseline's
    const shown = traced.find((t) => t.label.startsWith('microkernel')) ?? traced[0];
    writeExports(io, targets, result, a, shown?.sample.sequences[0] ?? null);
    if (targets.trace && traced.length) {
      emit(io, targets.trace, JSON.stringify(chromeTraceOfRuns(traced, { tool: result.results[0].reports[0].tool, workload: result.workload.name, seed: result.workload.seed })), `a trace of ${traced.length} labels' last runs (open it in Perfetto or chrome://tracing)`, a.quiet);
    }
  }
  if (!a.quiet && result.results.length) (usesStdout(targets) ? io.err : io.out)(formatComparison(result, { wide: a.wide === true }));
  let regressed = false;
  if (old !== undefined && result.results.length) {
    let diff;
    try {
      diff = compareToBaseline(result, old, { ...defined({ failAbovePct: failAbove }), on: (a['fail-on'] as 'modelled' | 'host' | undefined) ?? 'modelled' });
    } catch (e) {
      if (e instanceof BaselineError) throw new UsageError(`--baseline ${String(a.baseline)}: ${e.message}`);
      throw e;
    }
    (usesStdout(targets) ? io.err : io.out)(formatBaseline(diff));
    if (diff.regressed.length) io.err(`microlith: ${diff.regressed.join(', ')} regressed by more than ${failAbove}% against ${String(a.baseline)}`);
    regressed = diff.regressed.length > 0;
  }
  const statuses = result.results.flatMap((r) => r.reports.map((x) => x.status));
  const bad = result.results.flatMap((r) => r.reports.filter((x) => x.status !== 'ok').map((x) => `${r.label}: ${x.problems.join('; ')}`));
  if (bad.length) io.err(`microlith: ${bad.length} runs not ok: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`);
  if (!result.digestsEqual) io.err('microlith: the response digests differ between runs that ended ok');
  if (stop.signal.aborted) return EXIT.interrupted;
  if (regressed) return EXIT.failed;
  return exitCodeOf(statuses, a['accept-incomplete'] === true, result.digestsEqual);
}

/** --shard I/N, or the batch system's environment; null: every cell. */
function shardOf(a: Args<typeof SWEEP_FLAGS>): Shard | null {
  if (a.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(String(a.shard));
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard '${String(a.shard)}': expected I/N with 0 <= I < N, e.g. 0/4`);
    return { index: Number(m[1]), count: Number(m[2]) };
  }
  try {
    return shardFromEnv(process.env, a.shards as number | undefined);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

async function sweepCommand(io: Print, a: Args<typeof SWEEP_FLAGS>, argv: string[], stop: AbortController): Promise<number> {
  const targets = exportTargets(a);
  const texts = repeated(argv, 'param', a.param);
  if (texts.length === 0) throw new UsageError('sweep: give at least one --param KEY=V1,V2,... (e.g. --param clients=8,32,128)');
  const params: Record<string, SweepValue[]> = {};
  for (const t of texts) {
    const [k, v] = parseSweepParam(t);
    if (params[k]) throw new UsageError(`--param ${k} is given twice: list all its values in one --param ${k}=...`);
    params[k] = v;
  }
  const { seed: _seed, ...base } = workloadOptions(a, argv);
  const shard = shardOf(a);
  const options = { params, base, seed: seedOf(a.seed) ?? DEFAULT_SWEEP_SEED, ...(shard ? { shard } : {}), ...defined({ dir: a.dir as string | undefined }) };
  const cells = sweepCells(options); // every cell checked before anything runs
  if (a.list) {
    for (const c of cells) {
      const done = options.dir !== undefined && existsSync(join(options.dir, `${c.hash}.json`));
      io.out(`${c.id}\tseed ${c.seed}\t${c.hash}.json${options.dir === undefined ? '' : done ? '\tdone' : '\tto run'}`);
    }
    return EXIT.ok;
  }
  const bar = progressBar(cells.length, a.quiet);
  const result = await sweep({
    ...options,
    abortSignal: stop.signal,
    onCell: (p) => {
      if (a.quiet) return;
      const what = `${p.id}${p.skipped ? ' (read back)' : `  ${Math.round(p.report.throughput.requestsPerSec).toLocaleString('en-US')} req/s (host-measured)`}`;
      if (bar) bar.update(p.i, what);
      else io.err(`  cell ${p.i}/${p.n}  ${what}`);
    },
  });
  bar?.stop();
  if (!result.complete) io.err(`microlith: sweep stopped: ${result.cells.length} of ${cells.length} cells finished`);
  if (result.cells.length === 0) return stop.signal.aborted ? EXIT.interrupted : EXIT.ok;
  const c = sweepComparison(result);
  if (targets.json) emit(io, targets.json, JSON.stringify(result, null, 2), 'the sweep as JSON', a.quiet);
  writeExports(io, { ...targets, json: undefined }, c, a);
  if (!a.quiet) (usesStdout(targets) ? io.err : io.out)(formatComparison(c, { wide: a.wide === true }));
  if (stop.signal.aborted) return EXIT.interrupted;
  return result.cells.some((x) => x.report.status === 'failed') ? EXIT.failed : EXIT.ok;
}

function mergeCommand(io: Print, a: Args<typeof MERGE_FLAGS> & { dir?: unknown }): number {
  const targets = exportTargets(a);
  let result;
  try {
    result = merge(String(a.dir));
  } catch (e) {
    if (e instanceof MergeError) throw new UsageError(e.message);
    throw e;
  }
  const c = sweepComparison(result);
  if (targets.json) emit(io, targets.json, JSON.stringify(result, null, 2), 'the merged sweep as JSON', a.quiet);
  writeExports(io, { ...targets, json: undefined }, c, a);
  if (!a.quiet) (usesStdout(targets) ? io.err : io.out)(formatComparison(c, { wide: a.wide === true }));
  if (result.missing.length) {
    io.err(`microlith: merge: ${result.missing.length} of ${result.missing.length + result.cells.length} cells are missing (${result.missing.slice(0, 3).join('; ')}${result.missing.length > 3 ? '; ...' : ''}): run their shards again`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

/** A comma-separated list, each item one of `allowed`. */
function listFlag<T extends string>(flag: string, v: unknown, allowed: readonly T[]): T[] {
  return String(v)
    .split(',')
    .map((x) => {
      if (!allowed.includes(x as T)) throw new UsageError(`--${flag}: unknown '${x}' (expected ${allowed.join(', ')})`);
      return x as T;
    });
}

async function benchCommand(io: Print, a: Args<typeof BENCH_FLAGS>): Promise<number> {
  const json = jsonTarget(a.json);
  const sizes = String(a.sizes).split(',').map((x) => {
    const n = x.trim() === '' ? NaN : Number(x);
    if (!inRange(RANGES.payloadBytes, n)) throw new UsageError(`--sizes: '${x}' is not a byte count (${rangeText(RANGES.payloadBytes)})`);
    return n;
  });
  const opts = {
    transports: listFlag('transports', a.transports, TRANSPORTS),
    signals: listFlag('signals', a.signals, SIGNALS),
    sizes,
    spinUs: numberFlag('spinUs', a['spin-us']) ?? 0,
    depth: numberFlag('depth', a.depth) ?? 64,
    effort: numberFlag('effort', a.effort) ?? 1,
    inThread: a['in-thread'] === true,
  };
  const profile = loadProfile((a.profile as string | undefined) ?? DEFAULT_PROFILE);
  const progress = a.quiet ? () => {} : io.err;
  progress(`bench ipc: this thread <-> ${opts.inThread ? 'an echo in this same thread' : 'one echo domain'}; spin ${opts.spinUs} µs; ${opts.depth} in flight for pipelined/bandwidth`);
  const width = Math.max(...opts.transports.flatMap((t) => opts.signals.map((s) => `${t}:${s}`.length)));
  const measured = await benchIpc({
    ...opts,
    onResult: (r) => progress(`  ${`${r.transport}:${r.signal}`.padEnd(width)}  ${String(r.sizeBytes).padStart(8)} B  round trip ${r.roundTripUs.median} µs (host-measured, median)`),
  });
  const results = measured.map((r) => ({ ...r, modelled: priceRoundTrip(profile, r.bytesCopiedPerRoundTrip) }));
  const env = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' };
  if (json) emit(io, json, JSON.stringify({ schemaVersion: 1, kind: 'bench-ipc', env, options: { ...opts, profile: profile.name }, results }, null, 2), 'the results as JSON', a.quiet);
  (json === '-' ? io.err : io.out)(formatIpcBench(results, { wide: a.wide === true }));
  return EXIT.ok;
}

/** Refuse, before any measuring, a file that cannot be written. */
function checkWritable(file: string, flag = 'out'): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--${flag} ${file}: the directory ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--${flag} ${file}: is a directory`);
  try {
    accessSync(existsSync(file) ? file : dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag} ${file}: not writable`);
  }
}

async function calibrateCommand(io: Print, a: Args<typeof CALIBRATE_FLAGS>): Promise<number> {
  if (a.check) return calibrateCheck(io, a);
  for (const f of ['profile', 'modes', 'max-error'] as const) {
    if (a[f] !== undefined) throw new UsageError(`--${f} goes with --check: add --check, or leave --${f} out`);
  }
  const effort = numberFlag('effort', a.effort) ?? 1;
  const file = (a.out as string | undefined) ?? DEFAULT_CALIBRATION_FILE;
  checkWritable(file);
  const json = jsonTarget(a.json);
  const profile = await calibrate({ effort, onStep: (s) => a.quiet || io.err(`  measuring ${s}...`) });
  const $schema = relative(dirname(resolve(file)), join(PROFILE_DIR, '../schema/profile.schema.json'));
  writeFileSync(file, `${JSON.stringify({ $schema, ...profile }, null, 2)}\n`);
  const written = loadProfile(resolve(file)); // what was written must load
  if (json) emit(io, json, JSON.stringify(profile, null, 2), 'the profile as JSON', a.quiet);
  io.err(`wrote ${file}: price runs with it by --profile ${file}`);
  (json === '-' ? io.err : io.out)(formatProfile(written, { wide: a.wide === true }));
  return EXIT.ok;
}

async function calibrateCheck(io: Print, a: Args<typeof CALIBRATE_FLAGS>): Promise<number> {
  if (a.out !== undefined || a.effort !== undefined) throw new UsageError(`--${a.out !== undefined ? 'out' : 'effort'} goes with measuring, not with --check`);
  const profile = loadProfile((a.profile as string | undefined) ?? 'host');
  const json = jsonTarget(a.json);
  const requests = numberFlag('requests', a.requests) ?? 10_000;
  const labels = a.modes === undefined ? ['monolithic', 'microkernel:copy'] : labelsOf(a.modes);
  const limit = numberFlag('maxErrorPercent', a['max-error']);
  const progress = a.quiet ? () => {} : io.err;
  progress(`calibrate --check: modelled (${profile.name}) against host-measured throughput, ${requests} requests per run`);
  const width = Math.max(...labels.map((l) => parseLabel(l).label.length));
  const rows = await checkModel({
    profile,
    requests,
    labels,
    onRow: (r) =>
      progress(`  ${r.workload.padEnd(10)} ${r.label.padEnd(width)}  host ${Math.round(r.hostRequestsPerSec).toLocaleString('en-US').padStart(8)} req/s, modelled ${Math.round(r.modelledRequestsPerSec).toLocaleString('en-US').padStart(8)} req/s`),
  });
  if (json) emit(io, json, JSON.stringify({ schemaVersion: 1, kind: 'calibrate-check', profile: profile.name, rows }, null, 2), 'the check as JSON', a.quiet);
  (json === '-' ? io.err : io.out)(formatCheck(profile.name, rows, { wide: a.wide === true }));
  return limit !== undefined && rows.some((r) => !(Math.abs(r.error) * 100 <= limit)) ? EXIT.failed : EXIT.ok;
}

/** A seed flag's value: an integer as a number, anything else as the string given. */
const seedOf = (v: unknown) => (v === undefined ? undefined : /^-?\d{1,15}$/.test(String(v)) ? Number(v) : String(v));

async function faultsCommand(io: Print, a: Args<typeof FAULTS_FLAGS>, stop: AbortController): Promise<number> {
  if (a.campaign === undefined) throw new UsageError(`faults: --campaign N is required: the schedules to run (${rangeText(RANGES.campaignSchedules)})`);
  const json = jsonTarget(a.json);
  const bar = progressBar(a.campaign as number, a.quiet);
  const report = await campaign({
    schedules: a.campaign as number,
    ...defined({
      modes: a.mode === undefined ? undefined : [a.mode as Mode],
      workload: a.workload as string | undefined,
      seed: seedOf(a.seed),
      requests: a.requests as number | undefined,
    }),
    abortSignal: stop.signal,
    ...(bar ? { onSchedule: (p) => bar.update(p.schedule, p.spec) } : {}),
  });
  bar?.stop();
  if (!report.complete) io.err(`microlith: stopped: ${report.schedulesRun} of ${report.config.schedules} schedules finished; the figures are of those (marked incomplete)`);
  if (json) emit(io, json, JSON.stringify(report, null, 2), 'the campaign report as JSON', a.quiet);
  if (!a.quiet) (json === '-' ? io.err : io.out)(formatCampaign(report));
  if (stop.signal.aborted) return EXIT.interrupted;
  if (report.broken.length) io.err(`microlith: ${report.broken.length} runs broke the expectation: ${report.broken[0].problem} (replay: ${report.broken[0].replay})`);
  return report.expectationsMet ? EXIT.ok : EXIT.failed;
}

/** `text` wrapped at `width` columns, the first line indented by `first`, the rest by `rest`. */
function wrapText(text: string, width: number, first: string, rest = first): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const indent = lines.length === 0 ? first : rest;
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else line += (line.length > indent.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines.join('\n');
}

function workloadsCommand(io: Print, a: Args<typeof WORKLOADS_FLAGS>): number {
  for (const name of shippedWorkloads()) {
    const w = loadWorkload(name);
    const services = w.services.map((s) => s.protocol).join('+');
    if (!a.long) {
      io.out(`${name.padEnd(10)} ${services.padEnd(16)} ${w.description.split('. ')[0].replace(/\.$/, '')}.`);
      continue;
    }
    io.out(`${name} (${services}; ${w.requests.toLocaleString('en-US')} requests, ${w.clients} clients, seed ${w.seed})`);
    io.out(wrapText(w.description, 78, '  '));
    for (const s of w.sources) io.out(wrapText(`source: ${s}`, 78, '  ', '    '));
    io.out('');
  }
  return EXIT.ok;
}

// ---------------------------------------------------------------- labs

/** Seeds as given: comma-separated, each a number if it is digits, else a word. */
function seedsOf(v: unknown, flag: string): (number | string)[] {
  const seeds = String(v).split(',').map((x) => x.trim()).filter(Boolean).map(normSeed);
  if (seeds.length === 0) throw new UsageError(`--${flag} names no seed: e.g. --${flag} 11,12`);
  return seeds;
}

function labCommand(io: Print, a: Args<typeof LAB_FLAGS> & { action?: unknown; name?: unknown; dir?: unknown }): Promise<number> | number {
  const action = String(a.action);
  if (action === 'list') {
    if (a.name !== undefined) throw new UsageError(`lab list takes no lab name (microlith lab show ${a.name})`);
    io.out(`${'lab'.padEnd(16)} ${'difficulty'.padEnd(10)} ${'kind'.padEnd(14)} title`);
    for (const l of LABS) io.out(`${l.name.padEnd(16)} ${l.difficulty.padEnd(10)} ${l.kind.padEnd(14)} ${l.title}`);
    return EXIT.ok;
  }
  if (a.name === undefined) throw new UsageError(`lab ${action}: name the lab: microlith lab ${action} NAME${action === 'init' ? ' DIR' : ''} (labs: ${LABS.map((l) => l.name).join(', ')})`);
  const lab = findLab(String(a.name));
  if (action === 'show') return labShow(io, lab, a);
  return labInit(io, lab, a);
}

async function labShow(io: Print, lab: (typeof LABS)[number], a: Args<typeof LAB_FLAGS> & { dir?: unknown }): Promise<number> {
  if (a.dir !== undefined) throw new UsageError(`lab show: unexpected argument '${a.dir}'`);
  if (a.force !== undefined) throw new UsageError('--force goes with lab init');
  if (a.seed !== undefined && a.student !== undefined) throw new UsageError('lab show: give --seed or --student, not both');
  if (a.seed !== undefined && String(a.seed).trim() === '') throw new UsageError('--seed needs a value');
  const seeds = a.student !== undefined ? studentSeeds(lab, String(a.student)) : [a.seed === undefined ? lab.defaultSeeds[0] : normSeed(String(a.seed))];
  const args = a.student !== undefined ? `student ${a.student} (seeds ${seeds.join(', ')})` : `seed ${seeds[0]}`;
  io.out(`ARG lab ${lab.name}, ${args}${a.compute ? ', compute' : ''}`);
  if (!lab.problem) {
    io.out('');
    io.out(`${lab.name} is an implementation lab: its handout is labs/${lab.name}/README.md.`);
    io.out(`Start with: microlith lab init ${lab.name} DIR, then: microlith grade ${lab.name} --dir DIR`);
    return EXIT.ok;
  }
  for (const seed of seeds) {
    const p = await lab.problem(seed);
    io.out('');
    if (seeds.length > 1) io.out(`Seed ${seed}:`);
    io.out(p.text);
    io.out('');
    if (a.compute) io.out(`Answer:\n${p.answer}`);
    else io.out(`(microlith lab show ${lab.name} ${a.student !== undefined ? `--student ${a.student}` : `-s ${seed}`} -c prints the answer)`);
  }
  return EXIT.ok;
}

async function labInit(io: Print, lab: (typeof LABS)[number], a: Args<typeof LAB_FLAGS> & { dir?: unknown }): Promise<number> {
  if (a.seed !== undefined || a.compute !== undefined) throw new UsageError(`--${a.seed !== undefined ? 'seed' : 'compute'} goes with lab show`);
  if (a.dir === undefined || String(a.dir) === '') throw new UsageError(`lab init: say where: microlith lab init ${lab.name} DIR`);
  const dir = String(a.dir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`lab init: ${dir} is a file, not a directory`);
    if (readdirSync(dir).length > 0 && !a.force) throw new UsageError(`lab init: ${dir} is not empty: choose a new directory, or add --force to write into it`);
  }
  const src = labDir(lab.name);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  cpSync(join(src, 'README.md'), join(dir, 'README.md'));
  written.push('README.md');
  const starter = join(src, 'starter');
  if (existsSync(starter)) {
    cpSync(starter, dir, { recursive: true, force: true });
    const walk = (d: string, prefix: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
        else written.push(`${prefix}${e.name}`);
      }
    };
    walk(starter, '');
  }
  const answers = join(dir, 'answers.json');
  if (a.student !== undefined && lab.problem && existsSync(answers)) {
    // the placeholder keyed by this student's seeds, each with the keys its problem asks for
    const mine: Record<string, Record<string, null>> = {};
    for (const seed of studentSeeds(lab, String(a.student))) {
      const p = await lab.problem(seed);
      mine[String(seed)] = Object.fromEntries(Object.keys(p.expected).map((k) => [k, null]));
    }
    writeFileSync(answers, `${JSON.stringify(mine, null, 2)}\n`);
  }
  io.out(`lab ${lab.name}: wrote ${written.join(', ')} to ${dir}`);
  if (lab.kind === 'problem') {
    const who = a.student !== undefined ? ` --student ${a.student}` : '';
    io.out(`next: microlith lab show ${lab.name}${who || ' -s SEED'}, fill in ${join(dir, 'answers.json')}, then microlith grade ${lab.name} --dir ${dir}${who}`);
  } else {
    io.out(`next: read ${join(dir, 'README.md')}, then microlith grade ${lab.name} --dir ${dir}`);
  }
  return EXIT.ok;
}

async function gradeCommand(io: Print, a: Args<typeof GRADE_FLAGS> & { lab?: unknown; filter?: unknown }): Promise<number> {
  const lab = findLab(String(a.lab));
  const dir = a.dir === undefined ? '.' : String(a.dir);
  if (!existsSync(dir)) throw new UsageError(`grade: no directory ${dir} (--dir names the student's directory; default .)`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`grade: ${dir} is a file, not a directory`);
  const filter = a.filter === undefined ? undefined : String(a.filter);
  if (selectedChecks(lab, filter).length === 0) throw new UsageError(`grade: no check of lab ${lab.name} matches '${filter}' (checks: ${lab.checks.map((c) => c.name).join(', ')})`);
  const results = a.results === undefined ? undefined : String(a.results);
  if (results !== undefined && results !== '-') checkWritable(results, 'results');
  const seeds = a.seeds === undefined ? undefined : seedsOf(a.seeds, 'seeds');
  const say = results === '-' ? io.err : io.out;
  const r = await grade(lab, { dir, ...defined({ student: a.student === undefined ? undefined : String(a.student), seeds, filter }), onCheck: (c) => say(formatGradeCheck(c)) });
  say(formatScore(r));
  if (results !== undefined) emit(io, results, JSON.stringify(r, null, 2), 'the grade results', false);
  return r.score === r.max && r.max > 0 ? EXIT.ok : EXIT.failed;
}

// ---------------------------------------------------------------- usage errors

/** Edit distance, for suggestions: a swap of two neighbours counts as one edit (`mdoe` is one from `mode`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The nearest of `candidates` to `word`, if it is near enough to be a typo. */
function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** The command named in argv, if it is one. */
function commandOf(argv: string[]): CommandName | undefined {
  const first = argv.find((x) => !x.startsWith('-'));
  return COMMAND_NAMES.find((c) => c === first);
}

/** yargs' own complaints, as one line that says what to write. */
function usageMessage(msg: string, argv: string[]): string {
  const command = commandOf(argv);
  const flags = command ? (Object.entries(COMMANDS[command]) as [string, Options][]).filter(([, o]) => !o.hidden).map(([k]) => k) : [];
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const words = unknown[1].split(', ');
    if (!command) {
      const word = argv.find((x) => !x.startsWith('-')) ?? words[0];
      const hint = nearest(word, COMMAND_NAMES);
      return `unknown command '${word}'${hint ? `: did you mean ${hint}?` : ''} (commands: ${COMMAND_NAMES.join(', ')})`;
    }
    const word = words[0];
    const dashed = argv.find((x) => x.replace(/^-+/, '').split('=')[0] === word);
    if (!dashed?.startsWith('-')) return `${command}: unexpected argument '${word}'`;
    const hint = nearest(word, flags);
    return `${command}: unknown flag ${dashed.split('=')[0]}${hint ? `: did you mean --${hint}?` : ` (microlith ${command} --help lists the flags)`}`;
  }
  const invalid = /Argument: ([\w-]+), Given: "([^"]*)", Choices: (.+)$/s.exec(msg);
  if (invalid) return `--${invalid[1]} '${invalid[2]}' is not one of ${invalid[3].replace(/"/g, '').split(', ').join(', ')}`;
  const missingValue = /^Not enough arguments following: (.+)$/.exec(msg);
  if (missingValue) return `--${missingValue[1]} needs a value`;
  if (/^Not enough non-option arguments/.test(msg)) {
    const took = jsonWord(argv);
    const hint = (usage: string) => (took === undefined ? '' : ` (--json took '${took}' as its FILE: write microlith ${usage} --json [FILE])`);
    if (command === 'merge') return `merge: name the sweep's directory: microlith merge DIR${hint('merge DIR')}`;
    if (command === 'bench') return `bench: say what to measure: microlith bench ipc${hint('bench ipc')}`;
    if (command === 'validate') return 'validate: name the workload file to check: microlith validate FILE';
    if (command === 'lab') return 'lab: say what to do: microlith lab list, lab show NAME, lab init NAME DIR';
    if (command === 'grade') return `grade: name the lab: microlith grade NAME --dir DIR (labs: ${LABS.map((l) => l.name).join(', ')})`;
  }
  return msg.replace(/\s*\n\s*/g, ' ');
}

// ---------------------------------------------------------------- main

/** Examples of each command, shown first in its --help. */
const COMMAND_EXAMPLES: Partial<Record<CommandName, [string, string][]>> = {
  run: [
    ['$0 run --mode microkernel --transport shared -n 5000', 'one run under the microkernel, zero-copy'],
    ['$0 run --mode microkernel --fault disk@1000', 'crash the disk server on purpose: it is restarted'],
    ['$0 run --rate 5000 --requests 20000 --json > report.json', 'open loop at 5000 requests/s, the report as JSON'],
  ],
  serve: [
    ['$0 serve --mode microkernel --transport shared', 'serve on http://127.0.0.1:8080/ until Ctrl-C, then the report'],
    ['$0 serve --port 0 --json > serve.json', 'a free port (its URL on stderr); the report as JSON after the stop'],
    ['$0 serve --mode microkernel --fault net:crash@request=2000', 'kill net under load: its connections reset, it is restarted'],
  ],
  compare: [
    ['$0 compare --workload specweb96 --rounds 5', 'the monolith against the microkernel, interleaved'],
    ['$0 compare --modes monolithic,microkernel:copy,microkernel:shared --seeds 1,2,3', 'three labels over three seeds'],
  ],
  bench: [['$0 bench ipc --sizes 8,4096,1048576', "the kernel's own IPC, lmbench style"]],
  calibrate: [
    ['$0 calibrate', 'measure this machine into a host cost profile'],
    ['$0 calibrate --check', 'the cost model against host-measured runs'],
  ],
  faults: [['$0 faults --campaign 200', '200 random faults, each under both kernels, each checked']],
  sweep: [
    ['$0 sweep --param clients=8,32,128 --param transport=copy,shared -n 5000', 'six cells, one run each'],
    ['$0 sweep --param clients=8,32 --list', "the cells' ids, seeds and file names"],
    ['$0 sweep --param clients=8,32,128 --shard 0/3 --dir out', 'one shard of three, each cell a file in out/'],
  ],
  merge: [['$0 merge out --csv sweep.csv --html sweep.html', 'the shards merged into one comparison']],
  workloads: [['$0 workloads --long', 'the shipped workloads, with sources']],
  validate: [['$0 validate my-workload.json', 'check a workload file']],
  lab: [
    ['$0 lab list', 'the labs, their difficulty and kind'],
    ['$0 lab show copies -s 7', "the problem of seed 7 (-c: with its answer)"],
    ['$0 lab init copies my-copies', "the handout and starter files in my-copies/"],
  ],
  grade: [
    ['$0 grade copies --dir my-copies', 'grade a directory: a line per check, the parts, the score'],
    ['$0 grade copies --dir sub/alice --student alice --seeds 11,12 --results alice.json', "a student's seeds plus hidden ones, results as JSON"],
  ],
};

/** A command's usage line and summary; its examples, which yargs lists last, are moved first (`examplesFirst`). */
function usageOf(command: CommandName, summary: string, args = '[options]'): string {
  return `microlith ${command} ${args}\n\n${summary}`;
}

/** Help text with its Examples section moved up, right after the usage and summary. */
function examplesFirst(help: string): string {
  const at = help.indexOf('\nExamples:\n');
  if (at < 0) return help;
  const rest = help.slice(at + 1);
  const end = rest.search(/\n\n(?!\s)/);
  const examples = end < 0 ? rest : rest.slice(0, end);
  const without = help.slice(0, at) + (end < 0 ? '' : rest.slice(end));
  const firstSection = without.search(/\n\n(Commands|Options|Positionals):/);
  if (firstSection < 0) return without + '\n\n' + examples;
  return `${without.slice(0, firstSection)}\n\n${examples.trimEnd()}${without.slice(firstSection)}`;
}

const EXAMPLES: [string, string][] = [
  ['$0 compare --workload specweb96', 'both kernels on the same requests, interleaved rounds'],
  ['$0 run --mode microkernel --transport shared -n 5000', 'one run under the microkernel, zero-copy'],
  ['$0 run --mode microkernel --fault disk@1000', 'crash the disk server on purpose'],
  ['$0 run --mode microkernel --fault net:exit@request=2000 --fault app:hang@ms=300', 'two faults: the net thread exits, the app server hangs'],
  ['$0 serve --mode microkernel --transport shared --port 0', 'serve the files over HTTP on a free loopback port; curl or wrk it, Ctrl-C for the report'],
  ['$0 bench ipc --sizes 8,4096,1048576', "the kernel's own IPC, lmbench style"],
  ['$0 faults --campaign 200', 'a fault-injection campaign: 200 random faults, each under both kernels'],
];

/**
 * Run the command line `argv` (without node and the script), writing to `streams`;
 * `stop` aborting (Ctrl-C) stops the work in progress, which then prints what
 * finished. Resolves to the exit code; never throws.
 */
export async function main(argv: string[], streams: CliIo, stop: AbortController = new AbortController()): Promise<number> {
  const io = printTo(streams);
  useColor(argv);
  try {
    return await parse(io, argv, stop);
  } catch (e) {
    return reportError(io, e);
  }
}

/**
 * Whether to color by default: stdout is a terminal (not TERM=dumb), or FORCE_COLOR
 * asks for it. Not picocolors' own default, which also colors a pipe whenever `CI` is
 * set: a report piped to a file under CI would then carry escape codes.
 */
const COLOR_BY_DEFAULT =
  (!!process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0' && process.env.FORCE_COLOR !== 'false') ||
  (process.stdout.isTTY === true && process.env.TERM !== 'dumb');

/** --no-color turns color off and --color on; else the default (NO_COLOR honoured). Every report module shares picocolors' object. */
function useColor(argv: string[]): void {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  const last = flags.findLast((x) => x === '--color' || x === '--no-color' || x === '--color=false' || x === '--color=true');
  const on = last === undefined ? COLOR_BY_DEFAULT && !process.env.NO_COLOR : last === '--color' || last === '--color=true';
  Object.assign(pc, pc.createColors(on));
}

/**
 * A progress bar with an ETA on stderr, for long work: only when stderr is a
 * terminal and not --quiet (else null, and the caller prints nothing or plain lines).
 */
function progressBar(total: number, quiet: unknown): { update(done: number, what: string): void; stop(): void } | null {
  if (quiet || !process.stderr.isTTY || total < 2) return null;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '  {bar} {value}/{total}  ETA {eta_formatted}  {what}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { what: '' });
  return { update: (done, what) => bar.update(done, { what }), stop: () => bar.stop() };
}

/** The one line for what went wrong, and its exit code. */
function reportError(io: Print, e: unknown): number {
  if (e instanceof ConfigError) {
    io.err(`microlith: ${e.describe(flagName)}`);
    return EXIT.usage;
  }
  if (e instanceof UsageError || e instanceof WorkloadError || e instanceof LabelError || e instanceof LabError || e instanceof ModuleError) {
    io.err(`microlith: ${e.message}`);
    return EXIT.usage;
  }
  io.err(`microlith: internal error: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env.MICROLITH_DEBUG) io.err(e instanceof Error ? (e.stack ?? '') : '');
  return EXIT.failed;
}

/**
 * argv with --json's optional FILE made explicit for yargs, which would take any
 * word after --json as its value and never `-`: the word after --json is its FILE
 * unless it starts with `-` (`--json -` is stdout, as for the other exports; any
 * other is the next flag) or is a directory, which no export is written to (it is
 * the command's own argument: `merge --json DIR` merges DIR onto stdout).
 */
function jsonArgv(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv.length : end;
  const isDir = (p: string) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--json' && i + 1 < flags && (next === '-' || (!next.startsWith('-') && isDir(next)))) {
      out.push('--json=-');
      if (next === '-') i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** The word --json took as its FILE in argv, if any (for hints when a command then lacks its own argument). */
function jsonWord(argv: string[]): string | undefined {
  const end = argv.indexOf('--');
  const at = argv.indexOf('--json');
  const next = argv[at + 1];
  return at < 0 || (end >= 0 && at + 1 >= end) || next === undefined || next.startsWith('-') ? undefined : next;
}

async function parse(io: Print, argv: string[], stop: AbortController): Promise<number> {
  let code: number = EXIT.ok;
  const args = jsonArgv(argv);
  const cli = yargs(args)
    .scriptName('microlith')
    .usage('$0 <command> [options]\n\nThe same disk, net and app servers under a monolithic kernel and a microkernel.')
    .option('color', { type: 'boolean', global: true, describe: 'color in the text output (default: on a terminal; --no-color or NO_COLOR turns it off)' })
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .command('run', 'run a workload under one kernel', (y: Argv) => y.usage(usageOf('run', 'Run a workload under one kernel and print its report.')).example(COMMAND_EXAMPLES.run ?? []).options(RUN_FLAGS), async (a) => {
      code = await runCommand(io, a, argv, stop);
    })
    .command(
      'serve',
      'serve the workload\'s files over HTTP/1.1 to real clients (curl, a browser, wrk, ab) through either kernel, until Ctrl-C or SIGTERM; then the run report',
      (y: Argv) => y.usage(usageOf('serve', "Serve the workload's files over HTTP/1.1 to real clients through either kernel, until Ctrl-C.")).example(COMMAND_EXAMPLES.serve ?? []).options(SERVE_FLAGS),
      async (a) => {
        code = await serveCommand(io, a, argv, stop);
      },
    )
    .command('compare', 'run several kernels on the same workload and seed, interleaved, and compare', (y: Argv) => y.usage(usageOf('compare', 'Run several kernels on the same workload and seed, interleaved, and compare them.')).example(COMMAND_EXAMPLES.compare ?? []).options(COMPARE_FLAGS), async (a) => {
      code = await compareCommand(io, a, argv, stop);
    })
    .command(
      'bench <what>',
      "microbenchmarks: `bench ipc` measures the kernel's own IPC (round trip, pipelined, one-way bandwidth)",
      (y: Argv) => y.usage(usageOf('bench', "Microbenchmarks: `bench ipc` measures the kernel's own IPC.")).example(COMMAND_EXAMPLES.bench ?? []).positional('what', { choices: ['ipc'] as const, demandOption: true }).options(BENCH_FLAGS),
      async (a) => {
        code = await benchCommand(io, a);
      },
    )
    .command(
      'calibrate',
      'measure what each counted event costs here and write a host cost profile; --check compares the model with host-measured runs',
      (y: Argv) => y.usage(usageOf('calibrate', 'Measure what each counted event costs here, or check the cost model.')).example(COMMAND_EXAMPLES.calibrate ?? []).options(CALIBRATE_FLAGS),
      async (a) => {
        code = await calibrateCommand(io, a);
      },
    )
    .command(
      'faults',
      'a fault-injection campaign: --campaign N schedules of one random fault each, under both kernels, each run checked against what the design promises (exit 1 if one breaks it)',
      (y: Argv) => y.usage(usageOf('faults', 'A fault-injection campaign under both kernels.')).example(COMMAND_EXAMPLES.faults ?? []).options(FAULTS_FLAGS),
      async (a) => {
        code = await faultsCommand(io, a, stop);
      },
    )
    .command(
      'sweep',
      'run the cartesian product of --param values as cells, one JSON file each (--dir), shardable over a batch cluster (--shard I/N)',
      (y: Argv) => y.usage(usageOf('sweep', 'Sweep parameters: every combination of the --param values is a cell, run once with its own seed.')).example(COMMAND_EXAMPLES.sweep ?? []).options(SWEEP_FLAGS),
      async (a) => {
        code = await sweepCommand(io, a, argv, stop);
      },
    )
    .command(
      'merge <dir>',
      "merge a sweep's cell files (from any number of shards) into one comparison: table, --csv, --markdown, --html",
      (y: Argv) => y.usage(usageOf('merge', "Merge a sweep's cell files into one comparison (order-independent, idempotent).")).example(COMMAND_EXAMPLES.merge ?? []).positional('dir', { type: 'string', demandOption: true }).options(MERGE_FLAGS),
      (a) => {
        code = mergeCommand(io, a);
      },
    )
    .command('workloads', 'list the shipped workloads (--long: with descriptions and sources)', (y: Argv) => y.usage(usageOf('workloads', 'List the shipped workloads.')).example(COMMAND_EXAMPLES.workloads ?? []).options(WORKLOADS_FLAGS), (a) => {
      code = workloadsCommand(io, a);
    })
    .command('validate <file>', 'check a workload file and say what is wrong with it', (y: Argv) => y.usage(usageOf('validate', 'Check a workload file and say what is wrong with it.')).example(COMMAND_EXAMPLES.validate ?? []).positional('file', { type: 'string', demandOption: true }), (a) => {
      const w = loadWorkload(String(a.file));
      io.out(`${a.file}: ok (workload '${w.name}', ${w.requests} requests, ${w.clients} clients)`);
    })
    .command(
      'lab <action> [name] [dir]',
      'coursework labs: `lab list`, `lab show NAME [-s SEED] [-c]` (a problem, -c with its answer), `lab init NAME DIR` (the handout and starter files)',
      (y: Argv) =>
        y
          .usage(usageOf('lab', 'Coursework labs: list them, show a problem (and its answer) for a seed, copy a handout and its starter files.', '<list | show NAME | init NAME DIR> [options]'))
          .example(COMMAND_EXAMPLES.lab ?? [])
          .positional('action', { choices: ['list', 'show', 'init'] as const, demandOption: true })
          .positional('name', { type: 'string', describe: 'the lab (microlith lab list names them)' })
          .positional('dir', { type: 'string', describe: 'init: the directory to write into' })
          .options(LAB_FLAGS),
      async (a) => {
        code = await labCommand(io, a);
      },
    )
    .command(
      'grade <lab> [filter]',
      "grade a student's directory against a lab, gradelib style: a line per check, the parts and the score (exit 0 only with full marks)",
      (y: Argv) =>
        y
          .usage(usageOf('grade', "Grade a student's directory against a lab: exit 0 only with full marks, 1 otherwise.", 'NAME [FILTER] [options]'))
          .example(COMMAND_EXAMPLES.grade ?? [])
          .positional('lab', { type: 'string', demandOption: true, describe: 'the lab (microlith lab list names them)' })
          .positional('filter', { type: 'string', describe: "run only the checks whose name or title matches (a regular expression, or a substring)" })
          .options(GRADE_FLAGS),
      async (a) => {
        code = await gradeCommand(io, a);
      },
    )
    .example(EXAMPLES)
    .demandCommand(1, '')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, e) => {
      if (e && e.name !== 'YError') throw e;
      msg = msg || e?.message || '';
      if (!commandOf(argv) && argv.every((x) => x.startsWith('-'))) throw new BareCommand();
      throw new UsageError(usageMessage(msg, argv));
    });
  try {
    // --help and --version come back as text (never through console.log or process.exit)
    let shown = '';
    skipHelpCache(cli);
    await cli.exitProcess(false).parseAsync(args, {}, (_e, _a, output) => {
      shown = output;
    });
    if (shown) io.out(examplesFirst(shown));
  } catch (e) {
    if (!(e instanceof BareCommand)) throw e;
    io.err((await cli.getHelp()).trimEnd());
    io.err('\nmicrolith: name a command');
    return EXIT.usage;
  }
  return code;
}

/** `microlith` with no command: the help, which lists every command. */
class BareCommand extends Error {}

/**
 * yargs renders a command's whole help text before it runs the command's handler
 * (its usage instance's cacheHelpMessage), so that a handler could show it later.
 * No handler here does (--help and usage errors are rendered when they happen), and
 * the rendering, all string-width and wrap-ansi, was half the CPU of a short
 * `microlith run` (about 85 of 170 ms in-process here). Left as it is when a yargs
 * without that internal hook is installed.
 */
function skipHelpCache(cli: Argv): void {
  const internal = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}
