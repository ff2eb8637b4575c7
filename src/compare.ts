/**
 * `compare()`: several kernel configurations ("labels") on the same workload and
 * seed, in interleaved rounds (A B A B ...) after a warm-up, so that drift of a
 * shared machine hits every label alike. Ratios are paired round by round.
 */
import { ConfigError, MODES, SIGNALS, TRANSPORTS, type Mode, type Signal, type Transport } from './config.js';
import { median, round, stats, type Stats } from './metrics/stats.js';
import type { CpuPart } from './costmodel/price.js';
import { resolveRun, run, SCHEMA_VERSION, type RunReport } from './run.js';
import { loadProfile } from './costmodel/profile.js';
import { loadWorkload } from './workload/load.js';
import { defined, parseCompareOptions, type CompareOptions } from './options.js';

export { DEFAULT_LABELS, type CompareOptions } from './options.js';

/** Counted events per completed request that a label's extra time is made of. */
export interface CountedPerRequest {
  bytesCopied: number;
  ipcMessages: number;
  crossings: number;
  bytesChecksummed: number;
  directCalls: number;
}

export interface CompareResult extends Label {
  /** Host-measured throughput over the rounds: mean ± σ, median, min…max, rounds. */
  requestsPerSec: Stats;
  /** This label's throughput over the baseline's, paired by round. */
  ratio: Stats;
  /**
   * Against the baseline, as hyperfine says it: `factor` ± `stdev` times
   * slower (baseline throughput / this label's, paired by round) or faster
   * (the inverse), host-measured. The baseline itself: 'baseline', factor 1.
   */
  relative: { factor: number; stdev: number; direction: 'slower' | 'faster' | 'baseline' };
  /**
   * Where this label's extra time per request went against the baseline's:
   * the modelled µs per request by part (this label's minus the baseline's;
   * priced, not measured) and the counted events per request behind them
   * (this label's, and the baseline's).
   */
  extra: { modelledUsPerRequest: Record<CpuPart | 'disk', number>; counted: CountedPerRequest; baselineCounted: CountedPerRequest };
  /** Medians over the rounds of each round's host-measured p50 and p99. */
  latencyUs: { p50: number; p99: number } | null;
  /**
   * The counted events priced by the cost profile: modelled requests/s (the
   * same every round, the events being deterministic) and its ratio to the
   * baseline's modelled requests/s.
   */
  modelled: { label: string; profile: string; requestsPerSec: number; ratio: number; bottleneck: string; cpuUsPerRequest: number };
  reports: RunReport[];
}

export interface Comparison {
  schemaVersion: number;
  baseline: string;
  workload: RunReport['workload'];
  /** Measured rounds that finished for every label (fewer than planned if stopped). */
  rounds: number;
  roundsPlanned: number;
  /** False when the comparison was stopped (aborted) before its last round: the results are of the rounds that finished. */
  complete: boolean;
  /** True when every run that ended ok, of every label and round, produced the same response digest. */
  digestsEqual: boolean;
  results: CompareResult[];
}

export class LabelError extends Error {}

export interface Label {
  label: string;
  mode: Mode;
  transport: Transport | null;
  signal: Signal | null;
}

/** 'monolithic' | 'microkernel[:<transport>[:<signal>]]' -> mode, transport and signalling. */
export function parseLabel(label: string): Label {
  const [mode, transport, signal, ...rest] = label.split(':');
  const usage = `expected monolithic or microkernel[:${TRANSPORTS.join('|')}[:${SIGNALS.join('|')}]]`;
  if (!MODES.includes(mode as Mode) || rest.length) throw new LabelError(`unknown label '${label}' (${usage})`);
  if (mode === 'monolithic') {
    if (transport !== undefined) throw new LabelError(`label '${label}': the monolithic kernel has no transport (${usage})`);
    return { label, mode, transport: null, signal: null };
  }
  const t = (transport ?? 'copy') as Transport;
  if (!TRANSPORTS.includes(t)) throw new LabelError(`label '${label}': unknown transport '${transport}' (${usage})`);
  const g = (signal ?? 'message') as Signal;
  if (!SIGNALS.includes(g)) throw new LabelError(`label '${label}': unknown signalling '${signal}' (${usage})`);
  return { label: `microkernel:${t}${g === 'message' ? '' : `:${g}`}`, mode: 'microkernel', transport: t, signal: g };
}

/**
 * Run every label on the same workload and seed, `warmupRounds` unmeasured
 * rounds and then `rounds` measured ones, interleaved. An abort stops the run in
 * progress (it is not counted) and returns the rounds that finished, with
 * `complete: false`.
 */
export async function compare(options: CompareOptions = {}): Promise<Comparison> {
  const opts = parseCompareOptions(options);
  const labels = opts.labels.map(parseLabel);
  if (opts.spinUs !== undefined && !labels.some((l) => l.signal === 'ring')) {
    throw new ConfigError('spinUs', { reason: 'applies to ring signalling only', fix: { labels: 'microkernel:copy:ring' } });
  }
  // the supervisor's restart intensity is the microkernel's alone
  if (!labels.some((l) => l.mode === 'microkernel')) {
    for (const field of ['maxRestarts', 'restartWindowMs'] as const) {
      if (opts[field] !== undefined) throw new ConfigError(field, { reason: 'applies to the microkernel only', fix: { labels: `${opts.labels.join(',')},microkernel:copy` } });
    }
  }
  // load the workload and profile once, so a bad one stops the comparison before any run
  const workload = typeof opts.workload === 'object' ? opts.workload : loadWorkload(opts.workload);
  const profile = typeof opts.profile === 'object' ? opts.profile : loadProfile(opts.profile);
  const { labels: _labels, rounds, warmupRounds: warmup, onRun, abortSignal, spinUs, poolBlocks, ringBytes, maxRestarts, restartWindowMs, ...common } = opts;
  // options of the microkernel's alone go to its labels alone
  const microkernelOnly = defined({ poolBlocks, ringBytes, maxRestarts, restartWindowMs });
  const reports = labels.map(() => [] as RunReport[]);
  let finished = 0;
  outer: for (let r = 0 - warmup; r < rounds; r++) {
    for (const [i, l] of labels.entries()) {
      if (abortSignal?.aborted) break outer;
      const report = await run({
        ...common,
        workload,
        profile,
        abortSignal,
        mode: l.mode,
        ...(l.mode === 'microkernel' ? microkernelOnly : {}),
        ...(l.transport ? { transport: l.transport } : {}),
        ...(l.signal ? { signal: l.signal } : {}),
        ...(l.signal === 'ring' && spinUs !== undefined ? { spinUs } : {}),
      });
      if (abortSignal?.aborted) break outer; // cut short: not a measurement
      onRun?.({ label: l.label, round: r, warmup: r < 0, report });
      if (r >= 0) reports[i].push(report);
    }
    if (r >= 0) finished++;
  }
  // a round the abort cut short counts for no label
  for (const rs of reports) rs.length = finished;
  const w = resolveRun({ ...common, workload, profile }).workload;
  const planned = { name: w.name, seed: w.seed, requests: w.requests, clients: w.clients, arrival: w.arrival, durationMs: w.durationMs ?? null };
  return summarise(labels, reports, rounds, finished, reports[0][0]?.workload ?? planned);
}

/** The comparison of `finished` rounds of reports per label. */
function summarise(labels: Label[], reports: RunReport[][], roundsPlanned: number, finished: number, workload: RunReport['workload']): Comparison {
  const rps = reports.map((rs) => rs.map((x) => x.throughput.requestsPerSec));
  const digests = new Set(reports.flat().filter((x) => x.status === 'ok').map((x) => x.digest));
  return {
    schemaVersion: SCHEMA_VERSION,
    baseline: labels[0].label,
    workload,
    rounds: finished,
    roundsPlanned,
    complete: finished === roundsPlanned,
    digestsEqual: digests.size <= 1,
    results: finished === 0 ? [] : labels.map((l, i) => resultOf(l, reports[i], rps[i], rps[0], reports[0])),
  };
}

/** One label's figures over its rounds, paired with the baseline's. */
function resultOf(l: Label, reports: RunReport[], rps: number[], baseRps: number[], baseReports: RunReport[]): CompareResult {
  const last = reports[reports.length - 1];
  const baseLast = baseReports[baseReports.length - 1];
  const modelled = last.modelled;
  const baseModelled = baseLast.modelled;
  const isBase = reports === baseReports;
  const slower = stats(rps.map((x, r) => baseRps[r] / x));
  const faster = stats(rps.map((x, r) => x / baseRps[r]));
  const parts = Object.keys(modelled.perRequestUs) as (CpuPart | 'disk')[];
  return {
    ...l,
    requestsPerSec: stats(rps),
    ratio: roundStats(faster),
    relative: isBase
      ? { factor: 1, stdev: 0, direction: 'baseline' }
      : slower.mean >= 1
        ? { factor: round(slower.mean, 4), stdev: round(slower.stdev, 4), direction: 'slower' }
        : { factor: round(faster.mean, 4), stdev: round(faster.stdev, 4), direction: 'faster' },
    extra: {
      modelledUsPerRequest: Object.fromEntries(parts.map((p) => [p, round(modelled.perRequestUs[p] - (baseModelled.perRequestUs[p] ?? 0), 5)])) as Record<CpuPart | 'disk', number>,
      counted: countedPerRequest(last),
      baselineCounted: countedPerRequest(baseLast),
    },
    latencyUs: reports.every((x) => x.latencyUs)
      ? { p50: median(reports.map((x) => x.latencyUs!.p50)), p99: median(reports.map((x) => x.latencyUs!.p99)) }
      : null,
    modelled: {
      label: modelled.label,
      profile: modelled.profile,
      requestsPerSec: modelled.requestsPerSec,
      ratio: baseModelled.requestsPerSec > 0 ? round(modelled.requestsPerSec / baseModelled.requestsPerSec, 4) : 0,
      bottleneck: modelled.bottleneck,
      cpuUsPerRequest: modelled.cpuUsPerRequest,
    },
    reports,
  };
}

function roundStats(s: Stats): Stats {
  return { median: round(s.median, 4), min: round(s.min, 4), max: round(s.max, 4), mean: round(s.mean, 4), stdev: round(s.stdev, 4), n: s.n };
}

/** The counted events per completed request of one run. */
function countedPerRequest(r: RunReport): CountedPerRequest {
  const done = r.outcomes.ok + r.outcomes.fail + r.outcomes.info;
  const per = (x: number) => (done ? round(x / done, 4) : 0);
  return {
    bytesCopied: r.perRequest.bytesCopied,
    ipcMessages: r.perRequest.ipcMessages,
    crossings: r.perRequest.crossings,
    bytesChecksummed: per(r.counters.bytesChecksummed + r.counters.rxBytesChecksummed),
    directCalls: r.perRequest.directCalls,
  };
}
