/**
 * `sweep()`: a parameter sweep, the cartesian product of a few run options,
 * one `run()` per cell, made to be sharded over a batch cluster (a Slurm job
 * array, a Kubernetes indexed job, GNU parallel) and merged back (`merge()` in
 * merge.ts).
 *
 * Everything that makes a cell is a function of the sweep alone, never of the
 * shard or the host: its id (`clients=8,transport=copy`, keys in the params'
 * order), its seed (a hash of the master seed and the id) and its file name
 * (a hash of its resolved configuration). So the shards of a sweep run
 * disjoint cells that together are the unsharded sweep's, any shard can be
 * run again, and a sweep that was killed resumes: a cell whose file exists is
 * read back instead of run. Cells run one at a time (host timings stay fair);
 * run shards side by side for parallelism. The library never prints; progress
 * goes to `onCell`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.js';
import { LabelError, parseLabel } from './compare.js';
import type { RunOptions } from './options.js';
import { resolveRun, run, SCHEMA_VERSION, type RunReport } from './run.js';

/** One value a param takes in a cell. */
export type SweepValue = string | number | boolean;

/**
 * The options a sweep can vary, each over a list of values, plus `label`: a
 * compare label (`monolithic`, `microkernel:shared:ring`) that sets mode,
 * transport and signal together. `seed` is not among them (each cell's seed is
 * derived), nor `profile` (a sweep is priced by one profile), nor the options
 * that are not a single value (arrival, faults, serverModules: give them in
 * `base`).
 */
export const SWEEPABLE = [
  'label',
  'mode',
  'transport',
  'signal',
  'workload',
  'requests',
  'clients',
  'durationMs',
  'cacheBlocks',
  'poolBlocks',
  'mtu',
  'spinUs',
  'ringBytes',
  'checksumOffload',
  'callTimeoutMs',
  'hangTimeoutMs',
  'maxRestarts',
  'restartWindowMs',
  'heapLimitMb',
] as const;

/** A key of `SweepOptions.params`. */
export type SweepKey = (typeof SWEEPABLE)[number];

/** Options that apply to the microkernel only: sweeping one implies `mode: 'microkernel'` (unless mode or label is swept too). */
const MICROKERNEL_ONLY = ['transport', 'signal', 'spinUs', 'ringBytes', 'poolBlocks', 'maxRestarts', 'restartWindowMs'] as const;

/** Keys whose values are numbers or booleans, for `parseSweepParam`. */
const BOOLEAN_KEYS: readonly string[] = ['checksumOffload'];
const STRING_KEYS: readonly string[] = ['label', 'mode', 'transport', 'signal', 'workload'];

/** The master seed of a sweep that gives none. */
export const DEFAULT_SWEEP_SEED = 1;

/** Which of `count` shards to run: the cells whose position % count === index. */
export interface Shard {
  /** 0-based, below `count`. */
  index: number;
  /** How many shards the sweep is split into (1 or more). */
  count: number;
}

/** What `sweep()` and `sweepCells()` accept. */
export interface SweepOptions {
  /**
   * The options to vary, each over a non-empty list of distinct values; the
   * cells are their cartesian product (the first key varies slowest). Keys are
   * the names in `SWEEPABLE`; `label` takes compare labels.
   */
  params: Record<string, SweepValue[]>;
  /** Every other run option, the same in every cell (workload, requests, profile, ...); not `seed` nor `abortSignal`. */
  base?: Omit<RunOptions, 'seed' | 'abortSignal'>;
  /** The master seed (default 1): each cell's seed is derived from it and the cell's id (`cellSeed`). */
  seed?: number | string;
  /** Run only this shard's cells (default: every cell). See `shardFromEnv`. */
  shard?: Shard;
  /**
   * Write each cell's result to `<dir>/<hash>.json` (created if missing) as it
   * finishes, atomically; a cell whose file exists is read back, not run.
   */
  dir?: string;
  /** Stop: the cell in progress is dropped (not written), and the result has the cells that finished, with `complete: false`. */
  abortSignal?: AbortSignal;
  /** Called after every cell, run or read back. */
  onCell?: (progress: SweepProgress) => void;
  /**
   * Unmeasured runs of the first cell to run, before it (default 1, as
   * compare's warm-up round): the first runs in a process are slower. None
   * when every cell is read back.
   */
  warmupRuns?: number;
}

/** One cell of a sweep, before it runs. */
export interface SweepCell {
  /** `key=value` for each param, in the params' order, joined by commas: `clients=8,transport=copy`. */
  id: string;
  /** This cell's value of each param (a label in its normal form: `microkernel` is `microkernel:copy`). */
  params: Record<string, SweepValue>;
  /** Derived from the master seed and `id` (`cellSeed`). */
  seed: number;
  /** 0-based place in the sweep's stable order (the first param varies slowest): its shard is position % count. */
  position: number;
  /**
   * sha256 (first 16 hex digits) of what the cell runs: resolveRun's kernel
   * configuration, the workload's name, seed, requests, clients, arrival and
   * duration, the cost profile's name and the schema version. Its file is
   * `<hash>.json`. (A workload or profile file edited under the same name
   * keeps its hash: sweep into a new directory then.)
   */
  hash: string;
  /** The options `run()` gets for this cell (without the sweep's abortSignal). */
  options: RunOptions;
}

/** Progress of a sweep, after each cell. */
export interface SweepProgress {
  /** This is cell i (1-based) of the n cells this call runs (its shard's). */
  i: number;
  n: number;
  id: string;
  params: Record<string, SweepValue>;
  seed: number;
  /** Its file existed: read back, not run. */
  skipped: boolean;
  /** The cell's file, with `dir`. */
  file?: string;
  report: RunReport;
}

/** One cell's result. */
export interface SweepResultCell {
  id: string;
  params: Record<string, SweepValue>;
  seed: number;
  /** The file it was written to or read from (with `dir`, and always from `merge`). */
  file?: string;
  report: RunReport;
}

/** A sweep's (or a merge's) results. */
export interface SweepResult {
  schemaVersion: number;
  kind: 'microlith-sweep';
  /** The params swept (after a merge of files from sweeps that differ: every value any of them had). */
  params: Record<string, SweepValue[]>;
  masterSeed: number | string;
  /**
   * Every cell this was for is in `cells`: of `sweep()`, every cell of its
   * shard (false when stopped); of `merge()`, every cell of the params.
   */
  complete: boolean;
  /** The ids of the cells this was for that are not in `cells`, sorted as `cells` are. */
  missing: string[];
  /** Sorted by id, numbers in it by value (`clients=8` before `clients=32`). */
  cells: SweepResultCell[];
}

/** What a cell file holds: `<dir>/<hash>.json`. */
export interface SweepCellFile {
  schemaVersion: number;
  kind: 'microlith-sweep-cell';
  /**
   * The sweep the cell is of: its params, master seed and `base`, the run options
   * every cell shares, as the sweep was given them (`merge` refuses cells of sweeps
   * whose base differs). Files written before cell files held `base` have none.
   */
  sweep: { params: Record<string, SweepValue[]>; masterSeed: number | string; base?: Record<string, unknown> };
  cell: { id: string; params: Record<string, SweepValue>; seed: number };
  report: RunReport;
}

/** The seed of the cell `id` in a sweep with master seed `masterSeed`: the first 32 bits of a sha256 of both. */
export function cellSeed(masterSeed: number | string, id: string): number {
  const h = createHash('sha256').update(`microlith-sweep\0${JSON.stringify(masterSeed)}\0${id}`).digest('hex');
  return parseInt(h.slice(0, 8), 16);
}

/** `id`'s order: part by part, runs of digits by their value (`clients=8` before `clients=32`), the rest by code unit. */
export function compareIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** JSON with every object's keys sorted (undefined fields left out): the same text for the same value. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/**
 * One `--param` text, `KEY=V1,V2,...`, as a key and its values: numbers for
 * the numeric options, true/false for checksumOffload, strings for label,
 * mode, transport, signal and workload. The values are checked by the sweep.
 */
export function parseSweepParam(text: string): [key: string, values: SweepValue[]] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError('param', { reason: 'must be KEY=V1,V2,... (e.g. clients=8,32,128)', given: text });
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1).split(',');
  const values = raw.map((v): SweepValue => {
    if (STRING_KEYS.includes(key)) return v;
    if (BOOLEAN_KEYS.includes(key)) return v === 'true' ? true : v === 'false' ? false : v;
    return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  });
  return [key, values];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const NOT_SWEPT: Record<string, string> = {
  seed: "cannot be swept: each cell's seed is derived from the sweep's seed and the cell's id",
  profile: 'cannot be swept: every cell of a sweep is priced by one cost profile (give it in base)',
  arrival: 'cannot be swept (it is not a single value): give it in base',
  faults: 'cannot be swept (it is not a single value): give it in base',
  serverModules: 'cannot be swept: give it in base',
  abortSignal: "cannot be swept: give it as the sweep's abortSignal",
};

/** The params checked: known keys, non-empty lists of distinct single values; labels in their normal form. */
function checkParams(params: unknown): Record<string, SweepValue[]> {
  if (!isObject(params)) throw new ConfigError('params', { reason: 'must be an object mapping options to lists of values' });
  const keys = Object.keys(params);
  if (keys.length === 0) throw new ConfigError('params', { reason: 'must sweep at least one option' });
  const out: Record<string, SweepValue[]> = {};
  for (const key of keys) {
    const field = `params.${key}`;
    if (key in NOT_SWEPT) throw new ConfigError(field, { reason: NOT_SWEPT[key] });
    if (!(SWEEPABLE as readonly string[]).includes(key)) throw new ConfigError(field, { reason: `is not an option a sweep can vary (one of ${SWEEPABLE.join(', ')})` });
    const values = params[key];
    if (!Array.isArray(values)) throw new ConfigError(field, { reason: 'must be a list of values', given: values });
    if (values.length === 0) throw new ConfigError(field, { reason: 'must have at least one value' });
    const seen = new Set<string>();
    out[key] = values.map((v: unknown) => {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConfigError(field, { reason: 'must hold strings, numbers or booleans', given: v });
      if (typeof v === 'string' && v.includes(',')) throw new ConfigError(field, { reason: 'must not hold a value with a comma (it would make cell ids ambiguous)', given: v });
      let value: SweepValue = v;
      if (key === 'label') {
        try {
          value = parseLabel(String(v)).label;
        } catch (e) {
          if (e instanceof LabelError) throw new ConfigError(field, { reason: `holds a bad label: ${e.message}` });
          throw e;
        }
      }
      const text = `${typeof value}:${String(value)}`;
      if (seen.has(text)) throw new ConfigError(field, { reason: `holds ${JSON.stringify(value)} twice`, ...(key === 'label' ? { given: v } : {}) });
      seen.add(text);
      return value;
    });
  }
  if ('label' in out) {
    for (const k of ['mode', 'transport', 'signal']) {
      if (k in out) throw new ConfigError('params.label', { reason: `cannot be swept with {params.${k}}: a label sets mode, transport and signal` });
    }
  }
  return out;
}

/** The base options checked against the params: no seed or abortSignal, nothing given twice. */
function checkBase(base: unknown, params: Record<string, SweepValue[]>): Record<string, unknown> {
  if (base === undefined) return {};
  if (!isObject(base)) throw new ConfigError('base', { reason: 'must be an object of run options' });
  if (base.seed !== undefined) throw new ConfigError('base.seed', { reason: "is the sweep's: give the master seed as {seed}; each cell's seed is derived from it and the cell's id" });
  if (base.abortSignal !== undefined) throw new ConfigError('base.abortSignal', { reason: "is the sweep's: give it as {abortSignal}" });
  for (const k of Object.keys(params)) {
    if (base[k] !== undefined) throw new ConfigError(`params.${k}`, { reason: 'is given in base too: give it once' });
    if (k === 'label') {
      for (const m of ['mode', 'transport', 'signal']) {
        if (base[m] !== undefined) throw new ConfigError('params.label', { reason: `cannot be swept with base.${m}: a label sets mode, transport and signal` });
      }
    }
  }
  return base;
}

function checkShard(shard: unknown): Shard | undefined {
  if (shard === undefined) return undefined;
  if (!isObject(shard)) throw new ConfigError('shard', { reason: 'must be { index, count }' });
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || (count as number) < 1) throw new ConfigError('shard.count', { reason: 'must be an integer >= 1', given: count });
  if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= (count as number)) {
    throw new ConfigError('shard.index', { reason: `must be an integer from 0 to ${(count as number) - 1}`, given: index });
  }
  return { index: index as number, count: count as number };
}

/** The id of a cell: `key=value` in the params' order. */
function idOf(entries: [string, SweepValue][]): string {
  return entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** Every combination of the params' values, in the stable order (the first key varies slowest). */
export function productOf(params: Record<string, SweepValue[]>): { id: string; params: Record<string, SweepValue> }[] {
  const keys = Object.keys(params);
  let combos: [string, SweepValue][][] = [[]];
  for (const k of keys) combos = combos.flatMap((c) => params[k].map((v): [string, SweepValue][] => [...c, [k, v]]));
  return combos.map((c) => ({ id: idOf(c), params: Object.fromEntries(c) }));
}

/** The run options of a cell: the base, the cell's params (a label expanded), its seed; the microkernel when a param implies it. */
function cellOptions(base: Record<string, unknown>, swept: Record<string, SweepValue[]>, cell: Record<string, SweepValue>, seed: number): RunOptions {
  const opts: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(cell)) {
    if (k === 'label') {
      const l = parseLabel(String(v));
      opts.mode = l.mode;
      if (l.transport) opts.transport = l.transport;
      if (l.signal) opts.signal = l.signal;
    } else {
      opts[k] = v;
    }
  }
  if (!('mode' in swept) && !('label' in swept) && base.mode === undefined && MICROKERNEL_ONLY.some((k) => k in swept)) opts.mode = 'microkernel';
  opts.seed = seed;
  return opts as RunOptions;
}

/** The file name's hash of a resolved run: sha256 of its configuration, workload figures, profile name and schema version. */
function configHash(resolved: ReturnType<typeof resolveRun>): string {
  const { cfg, workload: w, profile } = resolved;
  const identity = {
    schemaVersion: SCHEMA_VERSION,
    cfg,
    workload: { name: w.name, seed: w.seed, requests: w.requests, clients: w.clients, arrival: w.arrival, durationMs: w.durationMs ?? null },
    profile: profile.name,
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
}

/** A resolveRun error of a cell, named by the param behind it. */
function cellError(e: unknown, swept: Record<string, SweepValue[]>, id: string): unknown {
  if (e instanceof ConfigError) {
    const [root, ...rest] = e.field.split('.');
    const param = root in swept ? root : 'label' in swept && ['mode', 'transport', 'signal'].includes(root) ? 'label' : null;
    if (param === null && e.given !== undefined) return e; // a bad base option, the same in every cell
    const field = param === null ? e.field : [`params.${param}`, ...(param === root ? rest : [])].join('.');
    if (e.fix?.mode !== undefined && ('mode' in swept || 'label' in swept)) {
      // the monolith's cells cannot take a microkernel option: labels say which cells have one
      return new ConfigError(field, { reason: `${e.reason} (in cell ${id}): sweep {params.label} instead (e.g. monolithic,microkernel:copy,microkernel:shared)` });
    }
    return new ConfigError(field, { reason: `${e.reason} (in cell ${id})`, given: e.given, fix: e.fix });
  }
  if (e instanceof Error && e.name === 'WorkloadError' && 'workload' in swept && /workload/.test(e.message)) {
    return new ConfigError('params.workload', { reason: `holds a workload that does not load (in cell ${id}): ${e.message}` });
  }
  return e;
}

/**
 * Every cell of the sweep (of its shard, with `shard`), in the stable order,
 * each checked by `resolveRun`: a bad sweep throws a ConfigError naming the
 * param (`params.clients`), or the base option, before anything runs. Every
 * cell is checked, not only the shard's, so every shard refuses a bad sweep.
 */
export function sweepCells(options: SweepOptions): SweepCell[] {
  if (!isObject(options)) throw new ConfigError('options', { reason: 'must be an object' });
  for (const k of Object.keys(options)) {
    if (!SWEEP_OPTIONS.includes(k)) throw new ConfigError(k, { reason: `is not a sweep option (${SWEEP_OPTIONS.join(', ')}; run options go in base)` });
  }
  const params = checkParams(options.params);
  const base = checkBase(options.base, params);
  const shard = checkShard(options.shard);
  const masterSeed = checkSeed(options.seed);
  const cells = productOf(params).map((c, position): SweepCell => {
    const seed = cellSeed(masterSeed, c.id);
    const opts = cellOptions(base, params, c.params, seed);
    let resolved;
    try {
      resolved = resolveRun(opts);
    } catch (e) {
      throw cellError(e, params, c.id);
    }
    return { id: c.id, params: c.params, seed, position, hash: configHash(resolved), options: opts };
  });
  return shard ? cells.filter((c) => c.position % shard.count === shard.index) : cells;
}

const SWEEP_OPTIONS: readonly string[] = ['params', 'base', 'seed', 'shard', 'dir', 'abortSignal', 'onCell', 'warmupRuns'];

function checkSeed(seed: unknown): number | string {
  if (seed === undefined) return DEFAULT_SWEEP_SEED;
  if (Number.isSafeInteger(seed) || (typeof seed === 'string' && seed.length >= 1 && seed.length <= 64)) return seed as number | string;
  throw new ConfigError('seed', { reason: 'must be an integer or a string of 1 to 64 characters', given: seed });
}

/**
 * Write `text` to `file` atomically: a temp file in the same directory, flushed, then
 * renamed over it (a reader sees the old file or the new one, never half of one).
 * `mode`: the new file's permission bits (e.g. those of the file it replaces).
 */
export function writeAtomic(file: string, text: string, mode?: number): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      if (mode !== undefined) fchmodSync(fd, mode & 0o7777);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A cell file read back; an unreadable one is an error naming it (delete it to run the cell again). */
export function readCellFile(file: string): SweepCellFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not a readable sweep cell file (${e instanceof Error ? e.message : String(e)}): delete it to run its cell again`);
  }
  if (!isObject(parsed) || parsed.kind !== 'microlith-sweep-cell' || !isObject(parsed.cell) || !isObject(parsed.report) || !isObject(parsed.sweep)) {
    throw new Error(`${file} is not a microlith sweep cell file (kind 'microlith-sweep-cell')`);
  }
  return parsed as unknown as SweepCellFile;
}

/**
 * Run every cell of the sweep (of its shard, with `shard`), one at a time, in
 * the stable order. With `dir`, each cell is written to `<dir>/<hash>.json` as
 * it finishes, and a cell whose file exists is read back instead of run. Bad
 * params are refused before anything runs (see `sweepCells`).
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const cells = sweepCells(options);
  const params = checkParams(options.params);
  const base = checkBase(options.base, params);
  const masterSeed = checkSeed(options.seed);
  const { dir, abortSignal, onCell } = options;
  if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) throw new ConfigError('abortSignal', { reason: 'must be an AbortSignal' });
  if (onCell !== undefined && typeof onCell !== 'function') throw new ConfigError('onCell', { reason: 'must be a function' });
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) throw new ConfigError('dir', { reason: 'must be a directory path', given: dir });
  const warmupRuns = options.warmupRuns ?? 1;
  if (!Number.isSafeInteger(warmupRuns) || warmupRuns < 0 || warmupRuns > 100) throw new ConfigError('warmupRuns', { reason: 'must be an integer from 0 to 100', given: warmupRuns });
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
  const withAbort = abortSignal ? { abortSignal } : {};
  let warm = warmupRuns === 0;
  const done: SweepResultCell[] = [];
  for (const [i, cell] of cells.entries()) {
    if (abortSignal?.aborted) break;
    const file = dir === undefined ? undefined : join(dir, `${cell.hash}.json`);
    let report: RunReport;
    const skipped = file !== undefined && existsSync(file);
    if (skipped) {
      report = readCellFile(file).report;
    } else {
      for (let w = 0; !warm && w < warmupRuns && !abortSignal?.aborted; w++) await run({ ...cell.options, ...withAbort });
      warm = true;
      if (abortSignal?.aborted) break;
      report = await run({ ...cell.options, ...withAbort });
      if (abortSignal?.aborted) break; // cut short: not this cell's result
      if (file !== undefined) {
        const content: SweepCellFile = {
          schemaVersion: SCHEMA_VERSION,
          kind: 'microlith-sweep-cell',
          sweep: { params, masterSeed, base },
          cell: { id: cell.id, params: cell.params, seed: cell.seed },
          report,
        };
        writeAtomic(file, `${JSON.stringify(content, null, 2)}\n`);
      }
    }
    const result: SweepResultCell = { id: cell.id, params: cell.params, seed: cell.seed, ...(file !== undefined ? { file } : {}), report };
    done.push(result);
    onCell?.({ i: i + 1, n: cells.length, id: cell.id, params: cell.params, seed: cell.seed, skipped, ...(file !== undefined ? { file } : {}), report });
  }
  const have = new Set(done.map((c) => c.id));
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'microlith-sweep',
    params,
    masterSeed,
    complete: done.length === cells.length,
    missing: cells.map((c) => c.id).filter((id) => !have.has(id)).sort(compareIds),
    cells: done.sort((a, b) => compareIds(a.id, b.id)),
  };
}

/** An environment variable holding a whole number >= 0, or undefined when unset. */
function envInt(env: Record<string, string | undefined>, name: string, min = 0): number | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(name, { reason: `must be an integer >= ${min}`, given: v });
  }
  return Number(v);
}

/**
 * The shard of this batch task, from its environment, or null when it is not
 * one:
 *
 * - a Slurm job array: `SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT`
 *   tasks, offset by `SLURM_ARRAY_TASK_MIN` (so `--array=1-8` works as well as
 *   `--array=0-7`) and divided by `SLURM_ARRAY_TASK_STEP` when set; the array
 *   must be one range (`--array=0-7`, `--array=0-7%2`), not a list.
 * - a Kubernetes indexed job: `JOB_COMPLETION_INDEX`. Kubernetes does not tell
 *   a pod how many completions its job has, so `count` (the job's
 *   `completions`) is then required.
 *
 * A `count` given with a Slurm array must equal `SLURM_ARRAY_TASK_COUNT` (and
 * stands in for it when unset). Values that are not whole numbers, or an index
 * outside 0..count-1, throw a ConfigError naming the variable.
 */
export function shardFromEnv(env: Record<string, string | undefined> = process.env, count?: number): Shard | null {
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) throw new ConfigError('count', { reason: 'must be an integer >= 1', given: count });
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id !== undefined) {
    const slurmCount = envInt(env, 'SLURM_ARRAY_TASK_COUNT', 1);
    if (slurmCount !== undefined && count !== undefined && slurmCount !== count) {
      throw new ConfigError('SLURM_ARRAY_TASK_COUNT', { reason: `differs from the shard count given (${count})`, given: env.SLURM_ARRAY_TASK_COUNT });
    }
    const n = slurmCount ?? count;
    if (n === undefined) throw new ConfigError('SLURM_ARRAY_TASK_COUNT', { reason: 'is not set (Slurm sets it for a job array): give the shard count' });
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP', 1) ?? 1;
    const offset = id - min;
    if (offset < 0 || offset % step !== 0 || offset / step >= n) {
      throw new ConfigError('SLURM_ARRAY_TASK_ID', {
        reason: `is not task 0 to ${n - 1} of a range array from SLURM_ARRAY_TASK_MIN=${min} by ${step} (use --array=0-${n - 1})`,
        given: env.SLURM_ARRAY_TASK_ID,
      });
    }
    return { index: offset / step, count: n };
  }
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    if (count === undefined) throw new ConfigError('JOB_COMPLETION_INDEX', { reason: "is set, but the shard count is not: give the job's completions as the count" });
    if (k8s >= count) throw new ConfigError('JOB_COMPLETION_INDEX', { reason: `must be below the shard count ${count}`, given: env.JOB_COMPLETION_INDEX });
    return { index: k8s, count };
  }
  return null;
}
