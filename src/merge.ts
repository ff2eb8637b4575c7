/**
 * `merge()`: the cell files a sweep's shards wrote into one directory, read
 * back as one SweepResult; and `sweepComparison()`: a sweep as a Comparison,
 * so that the comparison's text, CSV, Markdown and HTML exports print it.
 *
 * A merge depends on the set of files alone: the same files give a
 * deep-equal result however the directory lists them, and merging twice gives
 * the same result. Files that cannot belong together are refused with a
 * MergeError naming them: other schema versions, other cost profiles, other
 * master seeds or param keys, other settings besides the params (the sweep's
 * `base`: requests, workload, ...), or two files holding the same cell with
 * different reports.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resultOf, type Comparison } from './compare.js';
import { SCHEMA_VERSION } from './run.js';
import { canonicalJson, compareIds, productOf, readCellFile, type SweepCellFile, type SweepResult, type SweepResultCell, type SweepValue } from './sweep.js';

/** Cell files that cannot be merged: what is wrong, and the files (names in the directory) behind it. */
export class MergeError extends Error {
  /** The files at fault, by name in the directory. */
  readonly files: string[];
  constructor(message: string, files: string[]) {
    super(message);
    this.name = 'MergeError';
    this.files = files;
  }
}

/** A cell file's name: `<sha256 prefix>.json` as `sweep()` writes it, or any other `*.json`; not a temp file or a hidden one. */
const isCellFileName = (name: string) => name.endsWith('.json') && !name.startsWith('.');

/** `files` grouped by `key`, groups in key order: "1 (a.json, b.json); 2 (c.json)". */
function groupsText(files: { name: string; key: string }[]): { text: string; names: string[] } {
  const groups = new Map<string, string[]>();
  for (const f of files) groups.set(f.key, [...(groups.get(f.key) ?? []), f.name]);
  const keys = [...groups.keys()].sort();
  return { text: keys.map((k) => `${k} (${groups.get(k)!.join(', ')})`).join('; '), names: files.map((f) => f.name) };
}

/** Refuse files that differ in `what`. */
function same(files: { name: string; file: SweepCellFile }[], what: string, key: (f: SweepCellFile) => string): void {
  const keyed = files.map((f) => ({ name: f.name, key: key(f.file) }));
  if (new Set(keyed.map((k) => k.key)).size > 1) {
    const g = groupsText(keyed);
    throw new MergeError(`cannot merge cell files of different ${what}: ${g.text}`, g.names);
  }
}

/** A base option's value, short: `requests=150`, `workload=nfs`, `rate not given`. */
function settingText(key: string, v: unknown): string {
  if (v === undefined) return `${key} not given`;
  const text = typeof v === 'string' ? v : canonicalJson(v);
  return `${key}=${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** What a run resolved the option `key` to, from its report (undefined: the report does not say). */
function resolvedOf(r: SweepCellFile['report'], key: string): unknown {
  const w = r.workload;
  const known: Record<string, unknown> = { workload: w.name, requests: w.requests, clients: w.clients, durationMs: w.durationMs, arrival: w.arrival, profile: r.modelled.profile, mode: r.mode, transport: r.transport, signal: r.signal };
  return key in known ? known[key] : (r.config as unknown as Record<string, unknown>)[key];
}

/**
 * Refuse files of sweeps run with other settings besides their params: the run
 * options every cell shares (`sweep.base`, as the sweep was given them), compared
 * option by option. An option one sweep gave and the other left out is the same
 * when the other's run resolved it to the value given (`--workload specweb96` and
 * the default). Files that hold no base (written before cell files recorded it)
 * are not compared. `files` are in name order, so the files named are the same
 * however the directory lists them: the first by name, and the first that
 * differs from it.
 */
function sameBase(files: { name: string; file: SweepCellFile }[], swept: string[]): void {
  const based = files.filter((f) => f.file.sweep.base !== null && typeof f.file.sweep.base === 'object');
  if (based.length < 2) return;
  const first = based[0];
  const values = (f: (typeof based)[number]) => new Map(Object.entries(f.file.sweep.base!).filter(([, v]) => v !== undefined).map(([k, v]) => [k, canonicalJson(v)]));
  const mine = values(first);
  for (const f of based.slice(1)) {
    const theirs = values(f);
    const differs = (k: string) => {
      const [a, b] = [mine.get(k), theirs.get(k)];
      if (a === b) return false;
      if (a === undefined) return b !== canonicalJson(resolvedOf(first.file.report, k));
      if (b === undefined) return a !== canonicalJson(resolvedOf(f.file.report, k));
      return true;
    };
    const keys = [...new Set([...mine.keys(), ...theirs.keys()])].filter(differs).sort();
    if (keys.length === 0) continue;
    const [k] = keys;
    const also = keys.length > 1 ? ` (and ${keys.slice(1).join(', ')})` : '';
    throw new MergeError(
      `cannot merge cell files of different sweeps: ${settingText(k, first.file.sweep.base![k])} (${first.name}) but ${settingText(k, f.file.sweep.base![k])} (${f.name})${also}; ` +
        `the cells of one sweep differ only in its params (${swept.join(', ')}): merge each sweep's files from a directory of their own`,
      [first.name, f.name],
    );
  }
}

/** The params of every file: one list if they agree; if not (a sweep extended and resumed into the same directory), every value any had. */
function unionParams(files: SweepCellFile[]): Record<string, SweepValue[]> {
  const distinct = [...new Set(files.map((f) => canonicalJson(f.sweep.params)))].sort();
  const lists = distinct.map((j) => JSON.parse(j) as Record<string, SweepValue[]>);
  // the keys in the order the sweeps gave them: the first file's (all files have the same keys, checked)
  const keys = Object.keys(files[0].sweep.params);
  const out: Record<string, SweepValue[]> = {};
  for (const k of keys) {
    const seen = new Set<string>();
    out[k] = [];
    for (const list of lists) {
      for (const v of list[k] ?? []) {
        const t = `${typeof v}:${String(v)}`;
        if (!seen.has(t)) {
          seen.add(t);
          out[k].push(v);
        }
      }
    }
  }
  return out;
}

/**
 * Every cell file (`*.json`) of `dir`, as one SweepResult: its cells sorted
 * by id, `missing` the cells of the params that no file holds, `complete`
 * when none is missing. Temp files (`*.tmp`) and hidden files are ignored; a
 * `*.json` file that is not a cell file is refused. The same cell held by two
 * files with equal reports counts once (the file first by name). Throws a
 * MergeError naming the files when they differ in schema version, cost
 * profile, master seed, param keys or any setting besides the params (see
 * `sameBase`), or hold the same cell with different reports; and when the
 * directory holds no cell file.
 */
export function merge(dir: string): SweepResult {
  let names: string[];
  try {
    names = readdirSync(dir).filter(isCellFileName).sort();
  } catch (e) {
    throw new MergeError(`cannot read the directory ${dir}: ${e instanceof Error ? e.message : String(e)}`, []);
  }
  names = names.filter((n) => statSync(join(dir, n)).isFile());
  if (names.length === 0) throw new MergeError(`${dir} holds no sweep cell file (*.json)`, []);
  const files = names.map((name) => {
    try {
      return { name, file: readCellFile(join(dir, name)) };
    } catch (e) {
      throw new MergeError(e instanceof Error ? e.message : String(e), [name]);
    }
  });
  same(files, 'schema versions', (f) => `schema version ${f.schemaVersion}${f.report.schemaVersion !== f.schemaVersion ? ` (report ${f.report.schemaVersion})` : ''}`);
  const version = files[0].file.schemaVersion;
  if (version !== SCHEMA_VERSION || files[0].file.report.schemaVersion !== SCHEMA_VERSION) {
    throw new MergeError(`the cell files are of schema version ${version}; this microlith reads version ${SCHEMA_VERSION}: run the sweep again with it`, names);
  }
  same(files, 'cost profiles', (f) => `profile ${f.report.modelled.profile}`);
  same(files, 'master seeds', (f) => `master seed ${JSON.stringify(f.sweep.masterSeed)}`);
  same(files, 'param keys (another sweep)', (f) => `params ${Object.keys(f.sweep.params).join(',')}`);
  sameBase(files, Object.keys(files[0].file.sweep.params));
  // the same cell in two files: once if their reports are equal, refused if not
  const byId = new Map<string, { name: string; file: SweepCellFile; report: string }[]>();
  for (const f of files) byId.set(f.file.cell.id, [...(byId.get(f.file.cell.id) ?? []), { ...f, report: canonicalJson(f.file.report) }]);
  const cells: SweepResultCell[] = [];
  for (const [id, held] of byId) {
    if (new Set(held.map((h) => h.report)).size > 1) {
      throw new MergeError(`cell ${id} is held by ${held.length} files with different reports: ${held.map((h) => h.name).join(', ')} (keep one)`, held.map((h) => h.name));
    }
    const { name, file } = held[0]; // the first by name
    cells.push({ id, params: file.cell.params, seed: file.cell.seed, file: join(dir, name), report: file.report });
  }
  cells.sort((a, b) => compareIds(a.id, b.id));
  const params = unionParams(files.map((f) => f.file));
  const have = new Set(cells.map((c) => c.id));
  const missing = productOf(params)
    .map((c) => c.id)
    .filter((id) => !have.has(id))
    .sort(compareIds);
  return { schemaVersion: SCHEMA_VERSION, kind: 'microlith-sweep', params, masterSeed: files[0].file.sweep.masterSeed, complete: missing.length === 0, missing, cells };
}


/**
 * A sweep as a Comparison: each cell one label (named by its id) with one
 * measured round under its own seed, the first cell the baseline; ratios and
 * factors against it, its extra modelled time and the counted events behind
 * it, as `compare()` computes them. `seeds` are the cells' seeds in the order
 * of `results`, and `digestsBySeed` the digests under each: cells run under
 * different seeds, so their digests are not compared with each other.
 * `complete` is the sweep's; `warnings` say that each cell ran once and name
 * the missing cells. Throws when the sweep has no cell.
 */
export function sweepComparison(result: SweepResult): Comparison {
  const cells = result.cells;
  if (cells.length === 0) throw new Error('a sweep with no cells has nothing to compare');
  const base = cells[0].report;
  // each cell is a label of one run, against the first cell's run
  const results = cells.map(({ id, report: r }, i) =>
    resultOf({ label: id, mode: r.mode, transport: r.transport, signal: r.signal }, i === 0, [r], [r.throughput.requestsPerSec], [base.throughput.requestsPerSec], [base], 1),
  );
  const seeds = [...new Set(cells.map((c) => c.seed))];
  const digestsBySeed: Record<string, string[]> = {};
  for (const seed of seeds) {
    digestsBySeed[String(seed)] = [...new Set(cells.filter((c) => c.seed === seed && c.report.status === 'ok').map((c) => c.report.digest))];
  }
  const warnings = [
    `each cell ran once, under its own seed: its host-measured throughput and latency have no spread to tell (the counted and modelled figures are deterministic); run the sweep with a few master seeds to see the spread`,
    ...(result.missing.length ? [`${result.missing.length} of ${result.missing.length + cells.length} cells are missing: ${result.missing.join('; ')}`] : []),
  ];
  return {
    schemaVersion: SCHEMA_VERSION,
    baseline: cells[0].id,
    workload: base.workload,
    seeds,
    rounds: 1,
    roundsPlanned: 1,
    complete: result.complete,
    digestsEqual: Object.values(digestsBySeed).every((d) => d.length <= 1),
    digestsBySeed,
    warnings,
    sweep: { params: result.params, masterSeed: result.masterSeed, cells: cells.length, missing: result.missing },
    results,
  };
}
