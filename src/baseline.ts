/**
 * A comparison against a baseline recorded earlier (the JSON of `compare --json`,
 * or of `run --json` as a comparison of one label): per label, the old and new
 * host-measured throughput (noisy: this machine, that moment) and the old and
 * new modelled throughput (deterministic: the counted events priced by the
 * profile, the same on any machine for the same code), each with its change,
 * and the change of each label's host-measured ratio to the comparison's
 * baseline label (paired round by round, so less of the machine's drift);
 * and which labels regressed, by the figure chosen (modelled by default, or
 * that host ratio), by more than a threshold. A baseline of another workload, seed, request count,
 * profile or schema version is refused, naming what differs.
 *
 * Entry points: `compareToBaseline`, `formatBaseline`.
 */
import pc from 'picocolors';
import { z } from 'zod';
import { labelOfRun, type Comparison } from './compare.js';
import { round } from './metrics/stats.js';
import { SCHEMA_VERSION } from './run.js';
import { count, rate } from './report/format.js';
import { grid, note, para, WIDTH, type Column, type Group } from './report/layout.js';

/** A baseline that cannot be compared with: not a comparison or run report, another schema version, or another workload or profile. */
export class BaselineError extends Error {
  /** What differs, one phrase each (empty when the baseline is unreadable rather than different). */
  readonly differences: string[];

  constructor(message: string, differences: string[] = []) {
    super(message);
    this.name = 'BaselineError';
    this.differences = differences;
  }
}

/**
 * Which figure decides a regression: 'modelled' (modelled throughput;
 * deterministic; the default) or 'host' (the host-measured ratio to the
 * comparison's baseline label, mean over the paired runs; noisy).
 */
export type BaselineFigure = 'modelled' | 'host';

/** How `compareToBaseline` judges. */
export interface BaselineOptions {
  /**
   * A label regressed when its chosen figure dropped by more than this many
   * percent (5: a drop of more than 5%). Not given: changes are reported and
   * no label regresses.
   */
  failAbovePct?: number;
  /** The figure that decides (default 'modelled'). */
  on?: BaselineFigure;
}

/** One figure, old and new, and its change. */
export interface FigureChange {
  /** The baseline's requests per second (host: the mean over its runs). */
  old: number;
  /** This comparison's requests per second (host: the mean over its runs). */
  new: number;
  /** (new / old − 1) × 100; null when the old figure is 0. */
  changePct: number | null;
}

/** One label found in both the baseline and this comparison. */
export interface BaselineLabelDiff {
  label: string;
  /** Host-measured throughput (req/s, mean over the runs), with σ and runs of each side: noisy. */
  host: FigureChange & { oldStdev: number; newStdev: number; oldRuns: number; newRuns: number };
  /**
   * The host-measured ratio of this label's throughput to the baseline
   * label's (mean over the runs, paired round by round), old and new: noisy,
   * though less than `host`, as both labels ran side by side. The baseline
   * label's own is 1. Null when the baseline has no such ratio: a single run,
   * or a comparison against another baseline label.
   */
  hostRatio: FigureChange | null;
  /** Modelled throughput (req/s) under the profile: deterministic. */
  modelled: FigureChange;
  /** The chosen figure dropped by more than `failAbovePct` (always false without a threshold). */
  regressed: boolean;
}

/** This comparison against a baseline: what `compareToBaseline` returns. */
export interface BaselineDiff {
  /** The figure that decides a regression. */
  on: BaselineFigure;
  /** The threshold in percent; null when none was given (nothing regresses). */
  failAbovePct: number | null;
  /** What the baseline file held: a comparison, or one run taken as a comparison of one label. */
  baselineKind: 'comparison' | 'run';
  /** The microlith version that wrote the baseline, when its runs say. */
  baselineVersion: string | null;
  /** The workload both are of. */
  workload: { name: string; seeds: (number | string)[]; requests: number };
  /** The cost profile both are modelled under. */
  profile: string;
  /** This comparison's baseline label, the one `hostRatio` is to. */
  baseline: string;
  /** The labels in both, in this comparison's order. */
  labels: BaselineLabelDiff[];
  /** Labels only the baseline has. */
  onlyInBaseline: string[];
  /** Labels only this comparison has. */
  onlyInCurrent: string[];
  /** The labels that regressed (empty when none, or without a threshold). */
  regressed: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const Seed = z.union([z.number(), z.string()]);
const WorkloadShape = z.object({
  name: z.string(),
  seed: Seed,
  requests: z.number(),
  clients: z.number(),
  arrival: z.unknown(),
  durationMs: z.number().nullable().optional(),
});
const Modelled = z.object({ profile: z.string(), requestsPerSec: z.number() });
const Tool = z.object({ version: z.string() }).optional();

/** The parts of a comparison's JSON read here (an older one may give a median where the mean is now). */
const ComparisonShape = z.object({
  schemaVersion: z.number(),
  baseline: z.string().optional(),
  workload: WorkloadShape,
  seeds: z.array(Seed).min(1).optional(),
  results: z
    .array(
      z.object({
        label: z.string(),
        requestsPerSec: z.object({ mean: z.number().optional(), median: z.number(), stdev: z.number().optional(), n: z.number().optional() }),
        ratio: z.object({ mean: z.number().optional(), median: z.number() }).optional(),
        modelled: Modelled,
        reports: z.array(z.object({ tool: Tool })).optional(),
      }),
    )
    .min(1, { error: 'has no results' }),
});

/** The parts of a run report's JSON read here. */
const RunShape = z.object({
  schemaVersion: z.number(),
  tool: Tool,
  mode: z.enum(['monolithic', 'microkernel']),
  transport: z.string().nullable(),
  signal: z.string().nullable().optional(),
  workload: WorkloadShape,
  throughput: z.object({ requestsPerSec: z.number() }),
  modelled: Modelled,
});

/** One side, as compared. */
interface Side {
  kind: 'comparison' | 'run';
  version: string | null;
  workload: z.output<typeof WorkloadShape>;
  seeds: (number | string)[];
  profile: string;
  /** The label the ratios are to; null for a single run (it has no ratio). */
  baseline: string | null;
  labels: Array<{ label: string; host: number; stdev: number; runs: number; ratio: number | null; modelled: number }>;
}

function readBaseline(old: unknown): Side {
  if (!isObject(old) || (!Array.isArray(old.results) && !isObject(old.throughput))) {
    throw new BaselineError('the baseline is not a microlith comparison or run report (the JSON of compare --json or run --json): it has neither results nor throughput');
  }
  if (old.schemaVersion !== SCHEMA_VERSION) {
    throw new BaselineError(
      `the baseline has schemaVersion ${JSON.stringify(old.schemaVersion) ?? 'none'}, this microlith writes ${SCHEMA_VERSION}: record the baseline again with this version`,
      ['schemaVersion'],
    );
  }
  const isRun = !Array.isArray(old.results);
  const r = (isRun ? RunShape : ComparisonShape).safeParse(old);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BaselineError(`the baseline is not a ${isRun ? 'run report' : 'comparison'} this microlith can read: ${issue.path.join('.') || 'it'} ${issue.message}`);
  }
  if (isRun) {
    const run = r.data as z.output<typeof RunShape>;
    let label: string;
    try {
      label = labelOfRun({ mode: run.mode, transport: run.transport as never, signal: (run.signal ?? null) as never }).label;
    } catch (e) {
      throw new BaselineError(`the baseline run's kernel cannot be taken as a label (${(e as Error).message})`);
    }
    return {
      kind: 'run',
      version: run.tool?.version ?? null,
      workload: run.workload,
      seeds: [run.workload.seed],
      profile: run.modelled.profile,
      baseline: null,
      labels: [{ label, host: run.throughput.requestsPerSec, stdev: 0, runs: 1, ratio: null, modelled: run.modelled.requestsPerSec }],
    };
  }
  const c = r.data as z.output<typeof ComparisonShape>;
  return {
    kind: 'comparison',
    version: c.results[0].reports?.[0]?.tool?.version ?? null,
    workload: c.workload,
    seeds: c.seeds ?? [c.workload.seed],
    profile: c.results[0].modelled.profile,
    baseline: c.baseline ?? c.results[0].label,
    labels: c.results.map((x) => ({
      label: x.label,
      host: x.requestsPerSec.mean ?? x.requestsPerSec.median,
      stdev: x.requestsPerSec.stdev ?? 0,
      runs: x.requestsPerSec.n ?? 1,
      ratio: x.ratio ? (x.ratio.mean ?? x.ratio.median) : null,
      modelled: x.modelled.requestsPerSec,
    })),
  };
}

function readCurrent(c: Comparison): Side {
  if (c.results.length === 0) throw new BaselineError('this comparison has no results (it stopped before its first round): nothing to compare with the baseline');
  return {
    kind: 'comparison',
    version: c.results[0].reports[0]?.tool.version ?? null,
    workload: c.workload,
    seeds: c.seeds ?? [c.workload.seed],
    profile: c.results[0].modelled.profile,
    baseline: c.baseline,
    labels: c.results.map((x) => ({ label: x.label, host: x.requestsPerSec.mean, stdev: x.requestsPerSec.stdev, runs: x.requestsPerSec.n, ratio: x.ratio.mean, modelled: x.modelled.requestsPerSec })),
  };
}

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? 'none');

/** What differs between the two sides' workloads and profiles, one phrase each. */
function differences(old: Side, cur: Side): string[] {
  const out: string[] = [];
  const differ = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${what} ${show(a)} in the baseline, ${show(b)} now`);
  };
  differ('workload', old.workload.name, cur.workload.name);
  if (old.seeds.length === 1 && cur.seeds.length === 1) differ('seed', old.seeds[0], cur.seeds[0]);
  else differ('seeds', old.seeds, cur.seeds);
  // the workload's seed is the first of the seeds: a file where it is not says so too
  if (!out.length) differ('seed', old.workload.seed, cur.workload.seed);
  differ('requests', old.workload.requests, cur.workload.requests);
  differ('clients', old.workload.clients, cur.workload.clients);
  differ('arrival', old.workload.arrival, cur.workload.arrival);
  differ('durationMs', old.workload.durationMs ?? null, cur.workload.durationMs ?? null);
  differ('profile', old.profile, cur.profile);
  return out;
}

const changePct = (old: number, now: number): number | null => (old > 0 ? round((now / old - 1) * 100, 4) : null);

/**
 * `current` against the baseline `old` (parsed JSON of a comparison, or of a
 * run taken as a comparison of one label). Throws a BaselineError when `old` is
 * neither, has another schemaVersion, or is of another workload (name, seeds,
 * requests, clients, arrival, duration) or profile: the message names each
 * difference. With `failAbovePct`, a label regressed when its `on` figure
 * (default 'modelled') dropped by more than that many percent. `on: 'host'`
 * judges the host-measured ratio to the baseline label, so it is refused when
 * the baseline has none of that label (a single run, or another baseline label).
 */
export function compareToBaseline(current: Comparison, old: unknown, opts: BaselineOptions = {}): BaselineDiff {
  const on = opts.on ?? 'modelled';
  if (on !== 'modelled' && on !== 'host') throw new BaselineError(`on must be 'modelled' or 'host', got ${show(on)}`);
  const threshold = opts.failAbovePct ?? null;
  if (threshold !== null && !(Number.isFinite(threshold) && threshold >= 0)) throw new BaselineError(`failAbovePct must be a number of percent >= 0, got ${show(threshold)}`);
  const cur = readCurrent(current);
  const base = readBaseline(old);
  const diff = differences(base, cur);
  if (diff.length) {
    throw new BaselineError(`the baseline is not of the same comparison: ${diff.join('; ')}; record the baseline again, or run with the baseline's settings`, diff);
  }
  const ratios = base.baseline !== null && base.baseline === cur.baseline;
  if (on === 'host' && threshold !== null && !ratios) {
    throw new BaselineError(
      `judging on the host-measured ratio to ${cur.baseline} needs a baseline with that ratio; the baseline is ${base.baseline === null ? 'a single run' : `against ${base.baseline}`}: judge on the modelled figure, or record the baseline as a comparison against ${cur.baseline}`,
      ['baseline'],
    );
  }
  const baseByLabel = new Map(base.labels.map((l) => [l.label, l]));
  const curLabels = new Set(cur.labels.map((l) => l.label));
  const labels: BaselineLabelDiff[] = cur.labels.flatMap((n) => {
    const o = baseByLabel.get(n.label);
    if (!o) return [];
    const host = { old: o.host, new: n.host, changePct: changePct(o.host, n.host), oldStdev: o.stdev, newStdev: n.stdev, oldRuns: o.runs, newRuns: n.runs };
    const hostRatio = ratios && o.ratio !== null && n.ratio !== null ? { old: o.ratio, new: n.ratio, changePct: changePct(o.ratio, n.ratio) } : null;
    const modelled = { old: o.modelled, new: n.modelled, changePct: changePct(o.modelled, n.modelled) };
    const decisive = on === 'host' ? (hostRatio?.changePct ?? null) : modelled.changePct;
    return [{ label: n.label, host, hostRatio, modelled, regressed: threshold !== null && decisive !== null && decisive < -threshold }];
  });
  return {
    on,
    failAbovePct: threshold,
    baselineKind: base.kind,
    baselineVersion: base.version,
    workload: { name: cur.workload.name, seeds: cur.seeds, requests: cur.workload.requests },
    profile: cur.profile,
    baseline: current.baseline,
    labels,
    onlyInBaseline: base.labels.map((l) => l.label).filter((l) => !curLabels.has(l)),
    onlyInCurrent: cur.labels.map((l) => l.label).filter((l) => !baseByLabel.has(l)),
    regressed: labels.filter((l) => l.regressed).map((l) => l.label),
  };
}

/** A change in percent, signed, to one decimal: '+1.2%', '−9.3%', '0%'; 'n/a' when there is none. */
export function changeText(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return 'n/a';
  const body = `${Math.abs(p).toFixed(1)}%`;
  return body === '0.0%' ? '0%' : p > 0 ? `+${body}` : `−${body}`;
}

/**
 * A baseline diff as text within 100 columns: one row per label (host-measured
 * req/s, old, new and change, and the change of its ratio to the baseline
 * label; modelled req/s, old, new and change), the labels only one side has, what
 * the two kinds of change mean (host noisy, modelled deterministic), and the
 * verdict of the regression check.
 */
export function formatBaseline(d: BaselineDiff): string {
  const columns: Column[] = [
    { head: 'label' },
    { head: 'old req/s', right: true },
    { head: 'new req/s', right: true },
    { head: 'change', right: true },
    { head: 'ratio Δ', right: true },
    { head: 'old req/s', right: true },
    { head: 'new req/s', right: true },
    { head: 'change', right: true },
    { head: 'check' },
  ];
  const groups: Group[] = [
    { title: '', span: 1 },
    { title: pc.cyan('host-measured, mean'), span: 4 },
    { title: pc.magenta(`modelled (${d.profile})`), span: 3 },
    { title: '', span: 1 },
  ];
  const colour = (on: BaselineFigure, p: number | null) => (d.on === on && d.failAbovePct !== null && p !== null && p < -d.failAbovePct ? pc.red(changeText(p)) : changeText(p));
  const rows = d.labels.map((l) => [
    l.label,
    rate(l.host.old),
    rate(l.host.new),
    changeText(l.host.changePct),
    colour('host', l.hostRatio?.changePct ?? null),
    rate(l.modelled.old),
    rate(l.modelled.new),
    colour('modelled', l.modelled.changePct),
    d.failAbovePct === null ? '' : l.regressed ? pc.red('REGRESSED') : pc.green('ok'),
  ]);
  const seeds = d.workload.seeds.length === 1 ? `seed ${d.workload.seeds[0]}` : `seeds ${d.workload.seeds.join(', ')}`;
  const from = d.baselineKind === 'run' ? 'a single run' : 'a comparison';
  const lines = [
    para(`microlith baseline: ${d.workload.name}, ${seeds}, ${count(d.workload.requests)} requests, against ${from}${d.baselineVersion ? ` by microlith ${d.baselineVersion}` : ''}`, pc.bold),
    grid({ columns, groups, rows, width: WIDTH }),
  ];
  if (d.onlyInBaseline.length) lines.push(para(`only in the baseline: ${d.onlyInBaseline.join(', ')}`));
  if (d.onlyInCurrent.length) lines.push(para(`only now (not in the baseline): ${d.onlyInCurrent.join(', ')}`));
  lines.push(
    note(
      'host-measured changes are noisy: they depend on this machine and what else ran on it, then and now, and a few percent either way is usual; ' +
        `ratio Δ: the change of the label's host-measured ratio to ${d.baseline ?? 'the baseline label'} (paired round by round, steadier than req/s alone; n/a against a single run); ` +
        `modelled changes are deterministic: the counted events priced by ${d.profile}, the same on any machine for the same code, workload and seed, ` +
        'so any change there is a change in what the kernels do.',
    ),
  );
  const figure = d.on === 'host' ? `host-measured ratio to ${d.baseline} (noisy)` : 'modelled req/s';
  if (d.failAbovePct === null) {
    lines.push(para('no threshold given (failAbovePct, --fail-above): the changes are reported, none fails the check'));
  } else if (d.regressed.length) {
    const which = d.labels.filter((l) => l.regressed).map((l) => `${l.label} ${changeText(d.on === 'host' ? (l.hostRatio?.changePct ?? null) : l.modelled.changePct)}`);
    lines.push(para(`REGRESSED: ${which.join(', ')}: ${figure} dropped by more than ${d.failAbovePct}% against the baseline`, pc.red));
  } else {
    lines.push(para(`no regression: no label's ${figure} dropped by more than ${d.failAbovePct}% against the baseline`, pc.green));
  }
  return lines.join('\n');
}
