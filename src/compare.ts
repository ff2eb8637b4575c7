/**
 * `compare()`: several kernel configurations ("labels") on the same workload and
 * seed (or seeds), in interleaved rounds (A B A B ...; with several seeds, round
 * r is seed 1: A B, seed 2: A B, ...) after a warm-up, so that drift of a shared
 * machine hits every label alike. Ratios are paired run by run (same round and
 * seed). A label whose throughput spreads too much, or was measured too few
 * times, gets a warning that says so and what to do.
 */
import { ConfigError, MODES, SIGNALS, TRANSPORTS, type Mode, type Signal, type Transport } from './config.js';
import { median, round, stats, type Stats } from './metrics/stats.js';
import { count, pct, ratio as ratioText } from './report/format.js';
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

/** One label's figures in a comparison: host-measured throughput and latency, its ratio to the baseline, the modelled figures, and its runs' reports. */
export interface CompareResult extends Label {
  /** Host-measured throughput over the runs (rounds × seeds): mean ± σ, median, min…max, runs. */
  requestsPerSec: Stats;
  /** This label's throughput over the baseline's, paired run by run (same round and seed). */
  ratio: Stats;
  /**
   * The same over the second half of each run's wall time (the runs once under way,
   * without their cold starts: `throughput.secondHalfRequestsPerSec`); null where a
   * run has no such figure.
   */
  secondHalfRatio: Stats | null;
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
   * (this label's, and the baseline's). With several seeds: means over the
   * seeds of each seed's last run.
   */
  extra: { modelledUsPerRequest: Record<CpuPart | 'disk', number>; counted: CountedPerRequest; baselineCounted: CountedPerRequest };
  /** Medians over the runs of each run's host-measured p50 and p99. */
  latencyUs: { p50: number; p99: number } | null;
  /**
   * The counted events priced by the cost profile: modelled requests/s (the
   * same every round, the events being deterministic; with several seeds, the
   * mean over the seeds) and its ratio to the baseline's modelled requests/s.
   * `bottleneck`: the one of most seeds.
   */
  modelled: { label: string; profile: string; requestsPerSec: number; ratio: number; bottleneck: string; cpuUsPerRequest: number };
  /** This label's runs, round by round and within a round seed by seed (round 0 seed 1, round 0 seed 2, ..., round 1 seed 1, ...). */
  reports: RunReport[];
}

/** A label's throughput spread (σ/mean) above this is too noisy to trust: a warning says so. */
export const NOISY_CV = 0.05;
/** A label measured fewer times than this gets a warning: its spread cannot be told. */
export const MIN_RUNS = 3;

/** What `compare()` returns: the workload, seeds and rounds, whether the digests agree, warnings, and one result per label (the baseline first). */
export interface Comparison {
  schemaVersion: number;
  baseline: string;
  /** What ran; with several seeds, `seed` is the first of `seeds`. */
  workload: RunReport['workload'];
  /** The seeds every round ran under, in order: the one seed when `seeds` was not given. */
  seeds: (number | string)[];
  /** Measured rounds that finished for every label (fewer than planned if stopped); each label has rounds × seeds runs. */
  rounds: number;
  roundsPlanned: number;
  /** False when the comparison was stopped (aborted) before its last round: the results are of the rounds that finished. */
  complete: boolean;
  /**
   * True when, under each seed, every run that ended ok (of every label and
   * round) produced the same response digest. Different seeds make different
   * requests, so their digests are not compared with each other.
   */
  digestsEqual: boolean;
  /** Per seed (as `String(seed)`), the distinct response digests of the runs that ended ok: one each when the answers agree. */
  digestsBySeed: Record<string, string[]>;
  /**
   * Sentences on figures not to trust: a label whose host-measured throughput
   * varies by more than NOISY_CV (σ/mean), or that has fewer than MIN_RUNS
   * runs; a label whose paired ratio to the baseline ranges across 1 (the
   * difference is within the noise). Empty when none.
   */
  warnings: string[];
  /**
   * Set when the comparison is a sweep's (merge.ts `sweepComparison`): each
   * label is a cell, run once under its own seed (derived from the master
   * seed and the cell's id), so its figures have no spread.
   */
  sweep?: { params: Record<string, (string | number | boolean)[]>; masterSeed: number | string; cells: number; missing: string[] };
  results: CompareResult[];
}

/** A label that does not parse (an unknown mode, transport or signalling); thrown by `parseLabel`. */
export class LabelError extends Error {}

/** A kernel configuration named by a label: the mode, and for the microkernel its transport and signalling (null in the monolith). */
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
 * Run every label on the same workload and seed (or each of `seeds`),
 * `warmupRounds` unmeasured rounds and then `rounds` measured ones,
 * interleaved: a round runs every label under the first seed, then every label
 * under the next, and so on. An abort stops the run in progress (it is not
 * counted) and returns the rounds that finished, with `complete: false`.
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
  const { labels: _labels, rounds, warmupRounds: warmup, onRun, abortSignal, spinUs, poolBlocks, ringBytes, maxRestarts, restartWindowMs, seeds: given, traceRequests, ...common } = opts;
  // options of the microkernel's alone go to its labels alone
  const microkernelOnly = defined({ poolBlocks, ringBytes, maxRestarts, restartWindowMs });
  const w = resolveRun({ ...common, workload, profile }).workload;
  const seeds = given ?? [w.seed];
  const reports = labels.map(() => [] as RunReport[]);
  let finished = 0;
  outer: for (let r = 0 - warmup; r < rounds; r++) {
    for (const seed of seeds) {
      for (const [i, l] of labels.entries()) {
        if (abortSignal?.aborted) break outer;
        const report = await run({
          ...common,
          ...(given ? { seed } : {}),
          workload,
          profile,
          abortSignal,
          mode: l.mode,
          ...(l.mode === 'microkernel' ? microkernelOnly : {}),
          ...(l.transport ? { transport: l.transport } : {}),
          ...(l.signal ? { signal: l.signal } : {}),
          ...(l.signal === 'ring' && spinUs !== undefined ? { spinUs } : {}),
          // the last measured run of each label, under the first seed, traced if asked
          ...(traceRequests !== undefined && r === rounds - 1 && seed === seeds[0] ? { trace: { requests: traceRequests } } : {}),
        });
        if (abortSignal?.aborted) break outer; // cut short: not a measurement
        onRun?.({ label: l.label, round: r, warmup: r < 0, seed, report });
        if (r >= 0) reports[i].push(report);
      }
    }
    if (r >= 0) finished++;
  }
  // a round the abort cut short counts for no label
  for (const rs of reports) rs.length = finished * seeds.length;
  const planned = { name: w.name, seed: seeds[0], requests: w.requests, clients: w.clients, arrival: w.arrival, durationMs: w.durationMs ?? null };
  return summariseRuns({ labels, seeds, reports, roundsPlanned: rounds, rounds: finished, workload: reports[0][0]?.workload ?? planned });
}

/** What `summariseRuns` makes a Comparison of. */
export interface RunsToSummarise {
  /** The labels, the baseline first. */
  labels: Label[];
  seeds: (number | string)[];
  /** Per label, its runs round by round and within a round seed by seed: `rounds × seeds.length` of them. */
  reports: RunReport[][];
  roundsPlanned: number;
  /** Measured rounds that finished. */
  rounds: number;
  workload: RunReport['workload'];
}

/**
 * The comparison of finished rounds of reports per label: pure (no clock, no
 * runs), so that it can be given any reports. The runs of each label pair with
 * the baseline's (the first label's) by position: the same round and seed.
 */
export function summariseRuns(x: RunsToSummarise): Comparison {
  const { labels, seeds, reports, rounds } = x;
  const rps = reports.map((rs) => rs.map((r) => r.throughput.requestsPerSec));
  const digestsBySeed: Record<string, string[]> = {};
  for (const [j, seed] of seeds.entries()) {
    const ok = reports.flatMap((rs) => rs.filter((r, k) => k % seeds.length === j && r.status === 'ok'));
    digestsBySeed[String(seed)] = [...new Set(ok.map((r) => r.digest))];
  }
  const results = rounds === 0 ? [] : labels.map((l, i) => resultOf(l, i === 0, reports[i], rps[i], rps[0], reports[0], seeds.length));
  return {
    schemaVersion: SCHEMA_VERSION,
    baseline: labels[0].label,
    workload: x.workload,
    seeds: [...seeds],
    rounds,
    roundsPlanned: x.roundsPlanned,
    complete: rounds === x.roundsPlanned,
    digestsEqual: Object.values(digestsBySeed).every((d) => d.length <= 1),
    digestsBySeed,
    warnings: spreadWarnings(results, { baseline: labels[0].label, rounds, seeds: seeds.length }),
    results,
  };
}

/** How many runs a figure is over: "3 rounds", or "6 runs (3 rounds × 2 seeds)". */
export function runsText(rounds: number, seeds: number): string {
  const r = `${count(rounds)} ${rounds === 1 ? 'round' : 'rounds'}`;
  return seeds === 1 ? r : `${count(rounds * seeds)} runs (${r} × ${count(seeds)} seeds)`;
}

/**
 * The warnings on a comparison's results (the first is the baseline's): each
 * label measured fewer than MIN_RUNS times, or whose host-measured throughput
 * varies by more than NOISY_CV (σ/mean); each other label whose paired ratio
 * to the baseline ranges across 1. Pure.
 */
export function spreadWarnings(
  results: ReadonlyArray<Pick<CompareResult, 'label' | 'requestsPerSec' | 'ratio'>>,
  on: { baseline: string; rounds: number; seeds: number },
): string[] {
  const out: string[] = [];
  const advice = 'run more rounds (--rounds 10), longer runs (--requests 100000), or on a quieter machine';
  for (const [i, r] of results.entries()) {
    const s = r.requestsPerSec;
    const cv = s.mean > 0 ? s.stdev / s.mean : NaN;
    const over = runsText(on.rounds, on.seeds);
    if (s.n < MIN_RUNS) {
      const spread = s.n > 1 && Number.isFinite(cv) ? ` (it varies ±${pct(cv)}, σ/mean)` : '';
      out.push(`${r.label}: throughput measured ${s.n === 1 ? 'once' : `only ${count(s.n)} times`}${spread}: too few runs to tell its spread; run more rounds (--rounds 10)`);
    } else if (!(s.mean > 0)) {
      out.push(`${r.label}: no throughput measured over ${over}: nothing to compare`);
    } else if (cv > NOISY_CV) {
      out.push(`${r.label}: throughput varies ±${pct(cv)} (σ/mean) over ${over}, more than ${pct(NOISY_CV)}: too noisy to trust; ${advice}`);
    }
    if (i > 0 && r.ratio.n > 1 && r.ratio.min < 1 && r.ratio.max > 1) {
      out.push(
        `${r.label}: its throughput relative to ${on.baseline} ranges from ${ratioText(r.ratio.min)} to ${ratioText(r.ratio.max)} over the paired runs, ` +
          `on both sides of 1×: the difference is within the noise`,
      );
    }
  }
  return out;
}

/** One label's figures over its runs, paired with the baseline's; the modelled and counted ones averaged over the seeds. */
/**
 * One label's result against the baseline's: its runs (`rps` their
 * throughputs) paired by position with the baseline's, `seeds` runs per round.
 * Pure; `summariseRuns` and a merged sweep's comparison both use it.
 */
export function resultOf(l: Label, isBase: boolean, reports: RunReport[], rps: number[], baseRps: number[], baseReports: RunReport[], seeds: number): CompareResult {
  // each seed's last run: the counted events are the same every round
  const last = reports.slice(-seeds);
  const baseLast = baseReports.slice(-seeds);
  const modelled = meanModelled(last);
  const baseModelled = meanModelled(baseLast);
  const slower = stats(rps.map((x, r) => baseRps[r] / x));
  const faster = stats(rps.map((x, r) => x / baseRps[r]));
  const halves = reports.map((x, r) => (x.throughput.secondHalfRequestsPerSec ?? NaN) / (baseReports[r]?.throughput.secondHalfRequestsPerSec ?? NaN));
  const parts = Object.keys(modelled.perRequestUs) as (CpuPart | 'disk')[];
  return {
    ...l,
    requestsPerSec: stats(rps),
    ratio: roundStats(faster),
    secondHalfRatio: halves.length && halves.every(Number.isFinite) ? roundStats(stats(halves)) : null,
    relative: isBase
      ? { factor: 1, stdev: 0, direction: 'baseline' }
      : slower.mean >= 1
        ? { factor: round(slower.mean, 4), stdev: round(slower.stdev, 4), direction: 'slower' }
        : { factor: round(faster.mean, 4), stdev: round(faster.stdev, 4), direction: 'faster' },
    extra: {
      modelledUsPerRequest: Object.fromEntries(parts.map((p) => [p, round(modelled.perRequestUs[p] - (baseModelled.perRequestUs[p] ?? 0), 5)])) as Record<CpuPart | 'disk', number>,
      counted: meanCounted(last),
      baselineCounted: meanCounted(baseLast),
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

/** The mean of `xs`; one value as it is. */
function meanOf(xs: number[]): number {
  return xs.length === 1 ? xs[0] : round(xs.reduce((a, b) => a + b, 0) / xs.length, 6);
}

/** The modelled figures of one run per seed, averaged; the bottleneck of the most seeds. */
function meanModelled(rs: RunReport[]) {
  const m = rs.map((r) => r.modelled);
  const parts = Object.keys(m[0].perRequestUs) as (CpuPart | 'disk')[];
  const votes = new Map<string, number>();
  for (const x of m) votes.set(x.bottleneck, (votes.get(x.bottleneck) ?? 0) + 1);
  return {
    label: m[0].label,
    profile: m[0].profile,
    perRequestUs: Object.fromEntries(parts.map((p) => [p, meanOf(m.map((x) => x.perRequestUs[p] ?? 0))])) as Record<CpuPart | 'disk', number>,
    requestsPerSec: meanOf(m.map((x) => x.requestsPerSec)),
    cpuUsPerRequest: meanOf(m.map((x) => x.cpuUsPerRequest)),
    bottleneck: [...votes].reduce((a, b) => (b[1] > a[1] ? b : a))[0],
  };
}

/** The counted events per request of one run per seed, averaged. */
function meanCounted(rs: RunReport[]): CountedPerRequest {
  const c = rs.map(countedPerRequest);
  const keys = Object.keys(c[0]) as (keyof CountedPerRequest)[];
  return Object.fromEntries(keys.map((k) => [k, meanOf(c.map((x) => x[k]))])) as unknown as CountedPerRequest;
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

/** The label of a run's kernel: 'monolithic', 'microkernel:copy', 'microkernel:shared:ring'. */
export function labelOfRun(r: Pick<RunReport, 'mode' | 'transport' | 'signal'>): Label {
  return r.mode === 'monolithic' ? parseLabel('monolithic') : parseLabel(`microkernel:${r.transport ?? 'copy'}:${r.signal ?? 'message'}`);
}

/** One run as a comparison of one label, one round and its one seed: the run is its own baseline. */
export function comparisonOfRun(r: RunReport): Comparison {
  return summariseRuns({ labels: [labelOfRun(r)], seeds: [r.workload.seed], reports: [[r]], roundsPlanned: 1, rounds: 1, workload: r.workload });
}
