/**
 * `compare()`: several kernel configurations ("labels") on the same workload and
 * seed, in interleaved rounds (A B A B ...) after a warm-up, so that drift of a
 * shared machine hits every label alike. Ratios are paired round by round.
 */
import { MODES, SIGNALS, TRANSPORTS, type Mode, type Signal, type Transport } from './config.js';
import { median, round, spread, type Spread } from './metrics/stats.js';
import { run, SCHEMA_VERSION, type RunOptions, type RunReport } from './run.js';
import { DEFAULT_PROFILE, loadProfile } from './costmodel/profile.js';

export const DEFAULT_LABELS = ['monolithic', 'microkernel:copy'] as const;

export interface CompareOptions extends Omit<RunOptions, 'mode' | 'transport'> {
  /** Labels such as 'monolithic', 'microkernel:copy'; the first is the baseline. */
  labels?: string[];
  rounds?: number;
  /** Runs of each label before measuring, not reported. */
  warmupRounds?: number;
  /** Called after every run, for progress display. */
  onRun?: (info: { label: string; round: number; warmup: boolean; report: RunReport }) => void;
}

export interface CompareResult extends Label {
  /** Host-measured throughput over the rounds. */
  requestsPerSec: Spread;
  /** This label's throughput over the baseline's, paired by round. */
  ratio: Spread;
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
  rounds: number;
  /** True when every label produced the same response digest in every round. */
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

export async function compare(opts: CompareOptions): Promise<Comparison> {
  const labels = (opts.labels ?? [...DEFAULT_LABELS]).map(parseLabel);
  if (labels.length === 0) throw new LabelError('no labels to compare');
  // load the profile once, so a bad one stops the comparison before any run
  const profile = typeof opts.profile === 'object' ? opts.profile : loadProfile(opts.profile ?? DEFAULT_PROFILE);
  const rounds = opts.rounds ?? 3;
  const warmup = opts.warmupRounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new LabelError(`rounds must be a positive integer, got ${rounds}`);
  const reports = labels.map(() => [] as RunReport[]);
  for (let r = 0 - warmup; r < rounds; r++) {
    for (const [i, l] of labels.entries()) {
      const report = await run({
        ...opts,
        profile,
        mode: l.mode,
        ...(l.transport ? { transport: l.transport } : {}),
        ...(l.signal ? { signal: l.signal } : {}),
      });
      opts.onRun?.({ label: l.label, round: r, warmup: r < 0, report });
      if (r >= 0) reports[i].push(report);
    }
  }
  const rps = reports.map((rs) => rs.map((x) => x.throughput.requestsPerSec));
  const digests = new Set(reports.flat().map((x) => x.digest));
  const modelled = reports.map((rs) => rs[rs.length - 1].modelled);
  return {
    schemaVersion: SCHEMA_VERSION,
    baseline: labels[0].label,
    workload: reports[0][0].workload,
    rounds,
    digestsEqual: digests.size === 1,
    results: labels.map((l, i) => ({
      ...l,
      requestsPerSec: spread(rps[i]),
      ratio: roundSpread(spread(rps[i].map((x, r) => x / rps[0][r]))),
      latencyUs: reports[i].every((x) => x.latencyUs)
        ? {
            p50: median(reports[i].map((x) => x.latencyUs!.p50)),
            p99: median(reports[i].map((x) => x.latencyUs!.p99)),
          }
        : null,
      modelled: {
        label: modelled[i].label,
        profile: modelled[i].profile,
        requestsPerSec: modelled[i].requestsPerSec,
        ratio: modelled[0].requestsPerSec > 0 ? round(modelled[i].requestsPerSec / modelled[0].requestsPerSec, 4) : 0,
        bottleneck: modelled[i].bottleneck,
        cpuUsPerRequest: modelled[i].cpuUsPerRequest,
      },
      reports: reports[i],
    })),
  };
}

function roundSpread(s: Spread): Spread {
  return { median: round(s.median, 4), min: round(s.min, 4), max: round(s.max, 4) };
}
