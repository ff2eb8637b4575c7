/**
 * `npm run bench -- --check [FILE]`: this run's paired ratios to the monolith
 * against a kept reference result (a `bench-<time>.json` of kind throughput).
 *
 * For each scenario and label, the new median ratio is compared with the
 * reference's median. The noise allowed is what the rounds themselves showed:
 * the larger of the two runs' half-ranges of the ratio ((max − min) / 2), as a
 * fraction of the reference's median, and never less than `minNoise` (5%). A
 * label whose median fell by more than that is a regression. The pure parts
 * (reading a results file's ratios, refusing a reference of another kind,
 * scenario or request count, the verdicts) are here; the bench runs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** A paired ratio over rounds: median, min and max (this label's throughput / the monolith's, round by round). */
export interface RatioSpread {
  median: number;
  min: number;
  max: number;
}

/** One scenario of a throughput result: what ran, and each label's paired ratio to the monolith. */
export interface ScenarioRatios {
  scenario: string;
  workload: string;
  requests: number;
  clients: number;
  rounds: number;
  /** The label every ratio is to (the first label, `monolithic`). */
  baseline: string;
  ratios: Record<string, RatioSpread>;
}

/** What a scenario of the new run is, before it runs: what a reference must match. */
export interface PlannedScenario {
  scenario: string;
  requests: number;
  clients: number;
}

/** A reference that cannot be used: not a file of results, or one of another kind, scenario or request count. */
export class ReferenceError extends Error {}

/** The floor under the allowed noise, as a fraction of the reference's median ratio. */
export const MIN_NOISE = 0.05;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRatio = (v: unknown): v is RatioSpread => isObject(v) && [v.median, v.min, v.max].every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * The scenarios and paired ratios of a results file as `npm run bench` writes
 * it (kind throughput: `results[]` of `{ scenario, comparison }`). `shown` names
 * the file in errors. Throws a ReferenceError (one line) for anything else.
 */
export function ratiosOf(json: unknown, shown: string): ScenarioRatios[] {
  if (!isObject(json)) throw new ReferenceError(`${shown}: not a bench results file (expected a JSON object)`);
  if (json.kind !== 'throughput') throw new ReferenceError(`${shown}: a result of kind ${JSON.stringify(json.kind ?? null)}, not throughput: --check compares with a throughput result`);
  if (!Array.isArray(json.results) || json.results.length === 0) throw new ReferenceError(`${shown}: no scenarios in its results`);
  return json.results.map((r: unknown, i: number) => {
    const c = isObject(r) && isObject(r.comparison) ? r.comparison : undefined;
    const w = c && isObject(c.workload) ? c.workload : undefined;
    if (!isObject(r) || typeof r.scenario !== 'string' || !c || !w || typeof w.requests !== 'number' || typeof w.clients !== 'number' || !Array.isArray(c.results)) {
      throw new ReferenceError(`${shown}: results[${i}] is not a scenario's comparison`);
    }
    const ratios: Record<string, RatioSpread> = {};
    for (const x of c.results as unknown[]) {
      if (!isObject(x) || typeof x.label !== 'string' || !isRatio(x.ratio)) throw new ReferenceError(`${shown}: ${r.scenario}: a label without a paired ratio (median, min, max)`);
      ratios[x.label] = { median: x.ratio.median, min: x.ratio.min, max: x.ratio.max };
    }
    return {
      scenario: r.scenario,
      workload: typeof w.name === 'string' ? w.name : r.scenario,
      requests: w.requests,
      clients: w.clients,
      rounds: typeof c.rounds === 'number' ? c.rounds : NaN,
      baseline: typeof c.baseline === 'string' ? c.baseline : 'monolithic',
      ratios,
    };
  });
}

/**
 * Why `reference` cannot be compared with a run of `planned` (each planned
 * scenario must be in it, with the same request and client counts), as one
 * line; null when it can. The reference may have scenarios the run has not.
 */
export function mismatch(reference: ScenarioRatios[], planned: PlannedScenario[], shown: string): string | null {
  for (const p of planned) {
    const ref = reference.find((r) => r.scenario === p.scenario);
    if (!ref) return `${shown} has no ${p.scenario} scenario (it has ${reference.map((r) => r.scenario).join(', ')}): compare with a reference of the same scenarios`;
    if (ref.requests !== p.requests) return `${shown}: ${p.scenario} ran ${ref.requests} requests there, ${p.requests} here: compare with a reference of the same request count (--quick and --requests change it)`;
    if (ref.clients !== p.clients) return `${shown}: ${p.scenario} ran ${ref.clients} clients there, ${p.clients} here: compare with a reference of the same clients`;
  }
  return null;
}

/** One label's verdict: its ratios then and now, the noise allowed and the change, both as fractions of the reference's median. */
export interface Verdict {
  scenario: string;
  label: string;
  reference: RatioSpread | null;
  now: RatioSpread;
  /** The fall allowed before it is a regression, as a fraction of the reference's median (NaN without a reference). */
  allowed: number;
  /** (now − reference) / reference, medians (NaN without a reference). */
  change: number;
  verdict: 'ok' | 'regression' | 'baseline' | 'no reference';
}

/**
 * Each label of `now` against `reference`, scenario by scenario: a regression
 * when its median ratio fell below the reference's by more than the allowed
 * noise, max((ref max − ref min) / 2, (now max − now min) / 2) / ref median,
 * floored at `minNoise`. The baseline label (ratio 1 by definition) and labels
 * the reference has not are reported, never a regression.
 */
export function verdicts(reference: ScenarioRatios[], now: ScenarioRatios[], minNoise = MIN_NOISE): Verdict[] {
  const out: Verdict[] = [];
  for (const s of now) {
    const ref = reference.find((r) => r.scenario === s.scenario);
    for (const [label, n] of Object.entries(s.ratios)) {
      const r = ref?.ratios[label] ?? null;
      if (label === s.baseline) {
        out.push({ scenario: s.scenario, label, reference: r, now: n, allowed: NaN, change: NaN, verdict: 'baseline' });
        continue;
      }
      if (!r || !(r.median > 0)) {
        out.push({ scenario: s.scenario, label, reference: r, now: n, allowed: NaN, change: NaN, verdict: 'no reference' });
        continue;
      }
      const allowed = Math.max((r.max - r.min) / 2 / r.median, (n.max - n.min) / 2 / r.median, minNoise);
      const change = (n.median - r.median) / r.median;
      out.push({ scenario: s.scenario, label, reference: r, now: n, allowed, change, verdict: change < -allowed ? 'regression' : 'ok' });
    }
  }
  return out;
}

/** The rows of the verdict table: scenario, label, reference ratio, new ratio, change, allowed noise, verdict. */
export function verdictRows(vs: Verdict[]): string[][] {
  const ratio = (r: RatioSpread | null) => (r ? `${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)})` : '–');
  const pct = (x: number) => (Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '–');
  return vs.map((v) => [v.scenario, v.label, ratio(v.reference), ratio(v.now), pct(v.change), Number.isFinite(v.allowed) ? `±${(v.allowed * 100).toFixed(1)}%` : '–', v.verdict]);
}

/**
 * The default reference: the file named in `<resultsDir>/REFERENCE` (its first
 * line, a path relative to that folder), else the newest `bench-*.json` of kind
 * throughput under `resultsDir` that git tracks (newest by the time in its
 * name). Throws a ReferenceError when there is none.
 */
export function defaultReference(resultsDir: string, repoRoot: string): string {
  const named = join(resultsDir, 'REFERENCE');
  if (existsSync(named)) {
    const line = readFileSync(named, 'utf8').split('\n')[0].trim();
    if (!line) throw new ReferenceError(`${relative(repoRoot, named)} is empty: name a results file in it, or give one (--check FILE)`);
    return resolve(resultsDir, line);
  }
  let tracked: string[];
  try {
    tracked = execFileSync('git', ['ls-files', '--', relative(repoRoot, resultsDir) || '.'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter((f) => /(^|\/)bench-[^/]*\.json$/.test(f));
  } catch {
    throw new ReferenceError('no reference: git could not list the kept results; give one (--check FILE)');
  }
  for (const f of tracked.sort().reverse()) {
    try {
      const json = JSON.parse(readFileSync(join(repoRoot, f), 'utf8')) as { kind?: unknown };
      if (json.kind === 'throughput') return join(repoRoot, f);
    } catch {
      // not readable JSON: not a reference
    }
  }
  throw new ReferenceError(`no reference: no throughput result under ${relative(repoRoot, resultsDir) || '.'} is tracked by git; give one (--check FILE) or name one in REFERENCE`);
}

/** Read and check a reference file: its ratios, or a ReferenceError naming it. */
export function readReference(file: string, shown: string): ScenarioRatios[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReferenceError(`${shown}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ReferenceError(`${shown}: not JSON`);
  }
  return ratiosOf(json, shown);
}
