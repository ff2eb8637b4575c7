/**
 * `campaign()`: a fault-injection campaign, in the manner of the fault-injection
 * studies of operating systems (Gu, Kalbarczyk and Iyer's error-injection
 * tables; MINIX 3's reliability experiments; Jepsen's outcome checks).
 *
 * Each of N schedules draws exactly one fault from its own seed
 * (`randomFaultPlan({ count: 1, seed: '<seed>:<i>', requests })`) and runs a
 * short workload with it under each mode, so the monolith's and the
 * microkernel's tables are paired: schedule i injects the same fault into both.
 * Every run is classified (injected, activated, survived, system crash, hang,
 * lost writes) and checked against what the design promises:
 *
 *   microkernel  every activated fault survived (no system-down, no server
 *                given up, no request left unsettled), 0 hangs, 0 lost writes
 *   monolithic   every activated fault is a system crash, 0 hangs, 0 lost writes
 *
 * A run that breaks the promise is listed with the `microlith run` command that
 * replays it. The library never prints; progress goes to `onSchedule`.
 */
import { ConfigError, MODES, type Mode } from '../config.js';
import { RANGES, inRange, rangeText } from '../limits.js';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { resolveRun, run, type RunReport } from '../run.js';
import { round } from '../metrics/stats.js';
import { formatFaultSpec, randomFaultPlan, RANDOM_KINDS, type FaultKind, type FaultSpec } from './plan.js';

/** The version of the JSON shape of a campaign report (`schemaVersion` in it). */
export const CAMPAIGN_SCHEMA_VERSION = 1;

/**
 * The settings of every run of a campaign: short, but long enough to be fair
 * (measured on a busy 2-core machine, mixed, 300 requests):
 *
 *   hangTimeoutMs  1000 (the default is 3000): a hang fault is noticed within a
 *                  second. At 500, 4 of 80 runs reported a hang of net that no
 *                  fault caused (net checksums a multi-MiB FTP file in one go),
 *                  which in the monolith is a system crash; at 1000, none of 80.
 *   callTimeoutMs  3000: a whole request takes up to 0.7 s there, and a call to
 *                  a server that hangs waits for the hang to be noticed and the
 *                  restart (0.3 to 0.8 s). A garbage reply that leaves its
 *                  caller waiting costs this much.
 *   heapLimitMb    64: the largest file (16 MiB) fits with room to spare, and an
 *                  oom fault reaches the limit within a second.
 */
export interface CampaignRunSettings {
  hangTimeoutMs: number;
  callTimeoutMs: number;
  heapLimitMb: number;
}

/** The run settings a campaign uses unless overridden: hangTimeoutMs 1000, callTimeoutMs 3000, heapLimitMb 64. */
export const DEFAULT_CAMPAIGN_SETTINGS: Readonly<CampaignRunSettings> = { hangTimeoutMs: 1000, callTimeoutMs: 3000, heapLimitMb: 64 };

/** The workload a campaign runs by default: it writes (NFS), so that a lost write can show. */
export const DEFAULT_CAMPAIGN_WORKLOAD = 'mixed';
/** Requests per run of a campaign by default; faults' triggers are drawn within them. */
export const DEFAULT_CAMPAIGN_REQUESTS = 300;
/** A campaign's seed by default: schedule i's fault is drawn from `'1:<i>'`. */
export const DEFAULT_CAMPAIGN_SEED = 1;
/** A run not done after this long is stopped and counted as a hang. */
export const DEFAULT_GUARD_MS = 60_000;

/** What `campaign()` accepts: the number of schedules, and optionally the modes, workload, seed, requests, run settings and guard. */
export interface CampaignOptions {
  /** Schedules to run, each one fault (an integer from 1 to 10000). */
  schedules: number;
  /** The modes each schedule runs under, in this order (default both, monolithic first). */
  modes?: readonly Mode[];
  /** A shipped workload's name or a workload file's path (default mixed). */
  workload?: string;
  /**
   * The campaign's seed (default 1): schedule i's fault is drawn from
   * `'<seed>:<i>'`, and every run uses it as the workload's seed. As in the
   * CLI, a string of digits is better given as a number.
   */
  seed?: number | string;
  /** Requests per run (default 300); faults' triggers are drawn within it. */
  requests?: number;
  /** Overrides of the run settings (DEFAULT_CAMPAIGN_SETTINGS). */
  settings?: Partial<CampaignRunSettings>;
  /**
   * A run that has not reported after this many ms is stopped and counted a
   * hang (default 60000); one that still has not reported after as long again
   * (at least two call timeouts and a hang timeout) is given up on.
   */
  guardMs?: number;
  /** Called after each schedule, with its runs and their reports. */
  onSchedule?: (progress: CampaignProgress) => void;
  /** Stop after the schedule in progress (which is dropped): the report says `complete: false`. */
  abortSignal?: AbortSignal;
}

/** What became of one run (one schedule under one mode). */
export interface CampaignRun {
  /** The schedule, from 1. */
  schedule: number;
  mode: Mode;
  /** The fault injected, canonical text. */
  spec: string;
  server: ServerName;
  kind: FaultKind;
  /** The fault struck (`faultPlan[0].struck`); false if the run never reported. */
  activated: boolean;
  /**
   * Activated, and the system carried on: no fault with outcome system-down or
   * given-up, no request left pending, no acknowledged write lost, no abort.
   */
  survived: boolean;
  /** A fault with outcome system-down (the monolith's panic). */
  systemCrash: boolean;
  /** No report within the guard, a stop forced by it, or requests left pending. */
  hang: boolean;
  /** Acknowledged writes not on the disk image (0 if the workload does not write). */
  lostWrites: number;
  requests: RequestTally;
  /** The run's own status, or null if it never reported. */
  status: RunReport['status'] | null;
  /** Why this run breaks the expectation of its mode; null if it does not. */
  problem: string | null;
  /** Host-measured wall time of the run, boot and shutdown included, ms. */
  wallMs: number;
}

/** Request outcomes: `ok` (it happened and its response reached the client), `fail` (known not to have happened) and `info` (outcome unknown). */
export interface RequestTally {
  ok: number;
  fail: number;
  info: number;
}

/** One row of a mode's table: the schedules whose fault was `kind` on `server`. */
export interface CampaignRow {
  mode: Mode;
  server: ServerName;
  kind: FaultKind;
  /** Runs (one fault each). */
  injected: number;
  /** Of them, runs whose fault struck. */
  activated: number;
  /** Activated faults the system survived. */
  survived: number;
  /** Runs that ended in a system crash. */
  systemCrashes: number;
  /** Runs that hung (of every run, activated or not). */
  hangs: number;
  /** Acknowledged writes lost, over every run. */
  lostWrites: number;
  /** Request outcomes, summed over every run. */
  requests: RequestTally;
}

/** One mode's rows of a campaign summed over its servers and kinds, and whether the mode met its expectation. */
export interface CampaignTotals extends Omit<CampaignRow, 'server' | 'kind'> {
  /** Whether the mode met its expectation: no schedule of it is in `broken`. */
  met: boolean;
}

/** Host-measured recovery times of one server, ms. */
export interface RecoveryQuantiles {
  p50: number;
  p99: number;
  max: number;
  /** Runs in which the server was restarted. */
  count: number;
}

/** A run that breaks its mode's expectation, and how to replay it. */
export interface BrokenSchedule {
  schedule: number;
  mode: Mode;
  spec: string;
  problem: string;
  /** The `microlith run` command that runs it again, alone. */
  replay: string;
}

/** The campaign's options as run, with every default filled in. */
export interface CampaignConfig {
  schedules: number;
  modes: Mode[];
  workload: string;
  seed: number | string;
  requests: number;
  settings: CampaignRunSettings;
  guardMs: number;
}

/** What `campaign()` returns: per mode, server and fault kind, what the faults did, and every run that broke its mode's expectation. */
export interface CampaignReport {
  schemaVersion: number;
  kind: 'fault-campaign';
  config: CampaignConfig;
  /** False when stopped by `abortSignal`: the figures are of the schedules that finished. */
  complete: boolean;
  /** Schedules that finished under every mode. */
  schedulesRun: number;
  /** Per mode, server and kind (the modes in the order run, then servers and kinds in their usual order); only those injected. */
  rows: CampaignRow[];
  /** Per mode run: its rows summed, and whether it met its expectation. */
  totals: Partial<Record<Mode, CampaignTotals>>;
  /**
   * Microkernel only (null without it): per server, host-measured ms from a
   * failure to the restarted server's first served call, over the runs that
   * restarted it (each run counts its slowest restart of the server; with one
   * fault per run that is nearly always its only one). null for a server never
   * restarted.
   */
  recoveryMs: Record<ServerName, RecoveryQuantiles | null> | null;
  /** Every run that broke its mode's expectation. */
  broken: BrokenSchedule[];
  /** Every mode met its expectation, and the campaign ran to the end. */
  expectationsMet: boolean;
  /** Every run, in the order run. */
  runs: CampaignRun[];
  /** Host-measured wall time of the whole campaign, ms. */
  elapsedMs: number;
}

/** Passed to `onSchedule` after each schedule. */
export interface CampaignProgress {
  /** The schedule that finished, from 1. */
  schedule: number;
  schedules: number;
  spec: string;
  /** Its runs, one per mode, and each one's report (null if it never reported). */
  runs: CampaignRun[];
  reports: (RunReport | null)[];
  /** Host-measured ms since the campaign started. */
  elapsedMs: number;
}

/** The fault schedule `i` (from 1) of a campaign with `seed` injects, drawn for a run of `requests`. */
export function scheduleFault(seed: number | string, i: number, requests: number): FaultSpec {
  return randomFaultPlan({ count: 1, seed: `${seed}:${i}`, requests })[0];
}

/** A word as a POSIX shell reads it: as it is when it is safe, else in single quotes. */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The `microlith run` command that replays one run of a campaign, alone. */
export function replayCommand(c: Pick<CampaignConfig, 'workload' | 'seed' | 'requests' | 'settings'>, mode: Mode, spec: string): string {
  const s = c.settings;
  const words = [
    'microlith', 'run',
    '--mode', mode,
    '--workload', c.workload,
    '--seed', String(c.seed),
    '-n', String(c.requests),
    '--fault', spec,
    '--hang-timeout-ms', String(s.hangTimeoutMs),
    '--call-timeout-ms', String(s.callTimeoutMs),
    '--heap-limit-mb', String(s.heapLimitMb),
  ];
  return words.map(shellWord).join(' ');
}

/** What the harness got of one run: its report (null if none came), and whether the guard had to stop it. */
export interface GuardedRun {
  report: RunReport | null;
  /** The guard stopped the run: it had not reported in time. */
  aborted: boolean;
  /** run() threw (an internal error), with this message. */
  error?: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Classify one run of `spec` under `mode` from what the harness got of it, and
 * say why it breaks the mode's expectation (`problem`), if it does. Pure: the
 * campaign's classifier, exported so that it can be checked on any report.
 */
export function classifyRun(mode: Mode, spec: FaultSpec, got: GuardedRun): Omit<CampaignRun, 'schedule' | 'wallMs'> {
  const r = got.report;
  const activated = r?.faultPlan[0]?.struck === true;
  const systemCrash = r?.faults.some((f) => f.outcome === 'system-down') === true;
  const givenUp = r ? r.faults.filter((f) => f.outcome === 'given-up').map((f) => f.server) : [];
  const pending = r?.outcomes.pending ?? 0;
  const hang = got.error === undefined && (r === null || got.aborted || pending > 0);
  const lostWrites = r?.durability?.lost ?? 0;
  const survived = activated && !systemCrash && givenUp.length === 0 && pending === 0 && lostWrites === 0 && !got.aborted && got.error === undefined;
  const problems: string[] = [];
  if (got.error !== undefined) problems.push(`the run failed: ${got.error}`);
  if (r === null && got.error === undefined) problems.push('hang: no report came, even after the run was stopped');
  else if (got.aborted) problems.push('hang: the run had to be stopped by the campaign\'s guard');
  if (pending > 0) problems.push(`hang: ${plural(pending, 'request')} never settled`);
  if (lostWrites > 0) problems.push(`lost ${plural(lostWrites, 'acknowledged write')}${r?.durability?.firstLoss ? ` (${r.durability.firstLoss})` : ''}`);
  if (mode === 'microkernel') {
    if (systemCrash) problems.push(activated ? 'system crash' : 'system crash although the fault never struck');
    for (const s of new Set(givenUp)) problems.push(`the supervisor gave up on ${s}`);
  } else if (activated && !systemCrash && r !== null && !got.aborted) {
    problems.push('the monolith did not go down: an activated fault is expected to crash it');
  } else if (!activated && systemCrash) {
    problems.push('system crash although the fault never struck');
  }
  return {
    mode,
    spec: formatFaultSpec(spec),
    server: spec.server,
    kind: spec.kind,
    activated,
    survived,
    systemCrash,
    hang,
    lostWrites,
    requests: { ok: r?.outcomes.ok ?? 0, fail: r?.outcomes.fail ?? 0, info: r?.outcomes.info ?? 0 },
    status: r?.status ?? null,
    problem: problems.length ? problems.join('; ') : null,
  };
}

/**
 * One run, guarded: stopped (its clients stop sending) if it has not reported
 * after `guardMs`, and given up on if it still has not reported `graceMs`
 * later (time for what is in flight to settle). A run given up on keeps
 * whatever threads it has; the harness is built so that this does not happen
 * (every run ends with a report).
 */
async function guardedRun(options: Parameters<typeof run>[0], guardMs: number, graceMs: number, outer?: AbortSignal): Promise<GuardedRun> {
  const stop = new AbortController();
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;
  const onOuter = () => stop.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  const gaveUp = Symbol('gave up');
  try {
    const ran = run({ ...options, abortSignal: stop.signal });
    // a run given up on may still settle later: never as an unhandled rejection
    ran.catch(() => {});
    const deadline = new Promise<typeof gaveUp>((resolve) => {
      timer = setTimeout(() => {
        aborted = true;
        stop.abort();
        timer = setTimeout(() => resolve(gaveUp), graceMs);
      }, guardMs);
    });
    const report = await Promise.race([ran, deadline]);
    return { report: report === gaveUp ? null : report, aborted };
  } catch (e) {
    return { report: null, aborted, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** The q-quantile of sorted `xs` (nearest rank). */
function quantile(xs: number[], q: number): number {
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
}

const emptyTally = (): RequestTally => ({ ok: 0, fail: 0, info: 0 });

function addRun(into: Omit<CampaignRow, 'mode' | 'server' | 'kind'>, x: CampaignRun): void {
  into.injected++;
  if (x.activated) into.activated++;
  if (x.survived) into.survived++;
  if (x.systemCrash) into.systemCrashes++;
  if (x.hang) into.hangs++;
  into.lostWrites += x.lostWrites;
  into.requests.ok += x.requests.ok;
  into.requests.fail += x.requests.fail;
  into.requests.info += x.requests.info;
}

/** The options checked and completed; throws a ConfigError (or the workload's own error) before any run. */
function resolveCampaign(opts: CampaignOptions): CampaignConfig {
  if (typeof opts !== 'object' || opts === null) throw new ConfigError('options', { reason: 'must be an object' });
  const known = ['schedules', 'modes', 'workload', 'seed', 'requests', 'settings', 'guardMs', 'onSchedule', 'abortSignal'];
  const stray = Object.keys(opts).find((k) => !known.includes(k));
  if (stray !== undefined) throw new ConfigError(stray, { reason: 'is not an option' });
  const ranged = (field: string, r: typeof RANGES.requests, v: unknown) => {
    if (!inRange(r, v)) throw new ConfigError(field, { reason: `must be ${rangeText(r)}`, given: v });
    return v;
  };
  const schedules = ranged('schedules', RANGES.campaignSchedules, opts.schedules);
  const modes = opts.modes ?? [...MODES];
  if (!Array.isArray(modes) || modes.length === 0 || modes.some((m) => !MODES.includes(m)) || new Set(modes).size !== modes.length) {
    throw new ConfigError('modes', { reason: `must list one or both of ${MODES.join(', ')}, each once`, given: modes });
  }
  const workload = opts.workload ?? DEFAULT_CAMPAIGN_WORKLOAD;
  if (typeof workload !== 'string' || workload === '') throw new ConfigError('workload', { reason: "must be a shipped workload's name or a workload file's path", given: workload });
  const requests = ranged('requests', RANGES.requests, opts.requests ?? DEFAULT_CAMPAIGN_REQUESTS);
  const seed = opts.seed ?? DEFAULT_CAMPAIGN_SEED;
  const s = opts.settings ?? {};
  if (typeof s !== 'object' || s === null) throw new ConfigError('settings', { reason: 'must be an object' });
  const settingStray = Object.keys(s).find((k) => !(k in DEFAULT_CAMPAIGN_SETTINGS));
  if (settingStray !== undefined) throw new ConfigError(`settings.${settingStray}`, { reason: 'is not an option' });
  const settings: CampaignRunSettings = { ...DEFAULT_CAMPAIGN_SETTINGS, ...s };
  const guardMs = ranged('guardMs', RANGES.callTimeoutMs, opts.guardMs ?? DEFAULT_GUARD_MS);
  for (const f of ['onSchedule'] as const) {
    if (opts[f] !== undefined && typeof opts[f] !== 'function') throw new ConfigError(f, { reason: 'must be a function' });
  }
  if (opts.abortSignal !== undefined && !(opts.abortSignal instanceof AbortSignal)) throw new ConfigError('abortSignal', { reason: 'must be an AbortSignal' });
  const config: CampaignConfig = { schedules, modes: [...modes], workload, seed, requests, settings, guardMs };
  // every run's options checked as run() checks them (the seed, the settings' ranges, the workload), before any work
  for (const mode of config.modes) resolveRun(runOptions(config, mode, scheduleFault(seed, 1, requests)));
  return config;
}

function runOptions(c: CampaignConfig, mode: Mode, spec: FaultSpec) {
  return { mode, workload: c.workload, seed: c.seed, requests: c.requests, faults: [spec], ...c.settings };
}

/**
 * Run a fault-injection campaign: `schedules` schedules, each with one fault
 * drawn from its own seed, under each of `modes`, one run at a time. Throws a
 * ConfigError (or a WorkloadError) for bad options before any run; otherwise
 * resolves with the report, also when stopped by `abortSignal`.
 */
export async function campaign(opts: CampaignOptions): Promise<CampaignReport> {
  const config = resolveCampaign(opts);
  // a stopped run's calls in flight settle within a deadline each, a hung callee's once its hang is noticed
  const graceMs = Math.max(config.guardMs, 2 * config.settings.callTimeoutMs + config.settings.hangTimeoutMs);
  const t0 = performance.now();
  const runs: CampaignRun[] = [];
  const recovery = Object.fromEntries(SERVER_NAMES.map((s) => [s, [] as number[]])) as Record<ServerName, number[]>;
  let schedulesRun = 0;
  for (let i = 1; i <= config.schedules && !opts.abortSignal?.aborted; i++) {
    const spec = scheduleFault(config.seed, i, config.requests);
    const these: CampaignRun[] = [];
    const reports: (RunReport | null)[] = [];
    for (const mode of config.modes) {
      const r0 = performance.now();
      const got = await guardedRun(runOptions(config, mode, spec), config.guardMs, graceMs, opts.abortSignal);
      if (opts.abortSignal?.aborted) break;
      these.push({ schedule: i, ...classifyRun(mode, spec, got), wallMs: round(performance.now() - r0, 1) });
      reports.push(got.report);
    }
    if (opts.abortSignal?.aborted) break;
    runs.push(...these);
    schedulesRun = i;
    for (const r of reports) {
      if (r?.mode !== 'microkernel') continue;
      for (const s of SERVER_NAMES) {
        const rec = r.servers[s]?.recoveryMs;
        if (rec) recovery[s].push(rec.max);
      }
    }
    opts.onSchedule?.({ schedule: i, schedules: config.schedules, spec: formatFaultSpec(spec), runs: these, reports, elapsedMs: round(performance.now() - t0, 1) });
  }
  return summariseCampaign(config, runs, { schedulesRun, recoveryMs: recovery, elapsedMs: performance.now() - t0 });
}

/**
 * The report of a campaign from its classified runs: rows, totals, the broken
 * runs with their replay commands, and the recovery times' quantiles of
 * `recoveryMs` (per server, one host-measured sample per microkernel run that
 * restarted it). Pure: `campaign()` ends with it.
 */
export function summariseCampaign(
  config: CampaignConfig,
  runs: CampaignRun[],
  measured: { schedulesRun: number; recoveryMs: Record<ServerName, number[]>; elapsedMs: number },
): CampaignReport {
  const { schedulesRun, recoveryMs: recovery, elapsedMs } = measured;
  const rows: CampaignRow[] = [];
  const totals: Partial<Record<Mode, CampaignTotals>> = {};
  const broken: BrokenSchedule[] = [];
  for (const mode of config.modes) {
    const mine = runs.filter((x) => x.mode === mode);
    for (const server of SERVER_NAMES) {
      for (const kind of RANDOM_KINDS) {
        const of = mine.filter((x) => x.server === server && x.kind === kind);
        if (of.length === 0) continue;
        const row: CampaignRow = { mode, server, kind, injected: 0, activated: 0, survived: 0, systemCrashes: 0, hangs: 0, lostWrites: 0, requests: emptyTally() };
        for (const x of of) addRun(row, x);
        rows.push(row);
      }
    }
    const total: CampaignTotals = { mode, injected: 0, activated: 0, survived: 0, systemCrashes: 0, hangs: 0, lostWrites: 0, requests: emptyTally(), met: true };
    for (const x of mine) {
      addRun(total, x);
      if (x.problem === null) continue;
      total.met = false;
      broken.push({ schedule: x.schedule, mode, spec: x.spec, problem: x.problem, replay: replayCommand(config, mode, x.spec) });
    }
    totals[mode] = total;
  }
  const complete = schedulesRun === config.schedules;
  return {
    schemaVersion: CAMPAIGN_SCHEMA_VERSION,
    kind: 'fault-campaign',
    config,
    complete,
    schedulesRun,
    rows,
    totals,
    recoveryMs: config.modes.includes('microkernel')
      ? (Object.fromEntries(
          SERVER_NAMES.map((s) => {
            const xs = [...(recovery[s] ?? [])].sort((a, b) => a - b);
            return [s, xs.length ? { p50: round(quantile(xs, 0.5), 3), p99: round(quantile(xs, 0.99), 3), max: round(xs[xs.length - 1], 3), count: xs.length } : null];
          }),
        ) as Record<ServerName, RecoveryQuantiles | null>)
      : null,
    broken,
    expectationsMet: complete && broken.length === 0,
    runs,
    elapsedMs: round(elapsedMs, 1),
  };
}
