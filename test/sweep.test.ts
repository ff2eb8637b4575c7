/**
 * Parameter sweeps: the cells and their ids, seeds and files depend on the
 * sweep alone (not on the shard or position), so that shards together are the
 * unsharded sweep, a killed sweep resumes from its files, and merging the
 * files gives the same result however they are listed.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../src/config.js';
import { formatComparison } from '../src/report/text.js';
import { toMarkdown } from '../src/report/export.js';
import { cellSeed, compareIds, parseSweepParam, shardFromEnv, sweep, sweepCells, type SweepOptions, type SweepProgress, type SweepResult, type SweepResultCell } from '../src/sweep.js';
import { merge, MergeError, sweepComparison } from '../src/merge.js';

// how the directory lists its files in merge(): as the OS does, reversed, or shuffled
const listing = vi.hoisted(() => ({ order: 'os' as 'os' | 'reversed' | 'shuffled' }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readdir = ((dir: string, ...rest: unknown[]) => {
    const names = (fs.readdirSync as (d: string, ...r: unknown[]) => string[])(dir, ...rest);
    if (listing.order === 'reversed') return [...names].sort().reverse();
    if (listing.order === 'shuffled') return [...names].sort((a, b) => (a.length * 7 + a.charCodeAt(3)) % 5 - (b.length * 7 + b.charCodeAt(3)) % 5 || (a < b ? 1 : -1));
    return names;
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, readdirSync: readdir }, readdirSync: readdir };
});

const PARAMS = { clients: [4, 16], transport: ['copy', 'shared'] };
const IDS = ['clients=4,transport=copy', 'clients=4,transport=shared', 'clients=16,transport=copy', 'clients=16,transport=shared'];
const SWEEP: SweepOptions = { params: PARAMS, base: { workload: 'specweb96', requests: 150 }, seed: 42, warmupRuns: 0 };

const tmp: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'microlith-sweep-'));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** What a cell must give the same every time: its identity and its counted, deterministic figures (not host timings). */
const deterministic = (c: SweepResultCell) => ({
  id: c.id,
  params: c.params,
  seed: c.seed,
  status: c.report.status,
  config: c.report.config,
  outcomes: c.report.outcomes,
  counters: c.report.counters,
  countersByServer: c.report.countersByServer,
  perRequest: c.report.perRequest,
  digest: c.report.digest,
  modelledRps: c.report.modelled.requestsPerSec,
});

const jsonFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.json')).sort();

describe('cells', () => {
  it('are the cartesian product in a stable order, with readable ids in the params order; transport implies the microkernel', () => {
    const cells = sweepCells(SWEEP);
    expect(cells.map((c) => c.id)).toEqual(IDS);
    expect(cells.map((c) => c.position)).toEqual([0, 1, 2, 3]);
    expect(cells[3].params).toEqual({ clients: 16, transport: 'shared' });
    for (const c of cells) {
      expect(c.options).toMatchObject({ mode: 'microkernel', workload: 'specweb96', requests: 150, clients: c.params.clients, transport: c.params.transport, seed: c.seed });
      expect(c.hash).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(new Set(cells.map((c) => c.hash)).size).toBe(4);
    // the same sweep again: the same cells, seeds and file names
    expect(sweepCells(SWEEP)).toEqual(cells);
  });

  it("each cell's seed is derived from the master seed and its id alone: not its shard, position or the other cells", () => {
    const all = sweepCells(SWEEP);
    const seedOf = new Map(all.map((c) => [c.id, c.seed]));
    for (const c of all) expect(c.seed).toBe(cellSeed(42, c.id));
    expect(new Set(seedOf.values()).size).toBe(4);
    for (let index = 0; index < 3; index++) {
      for (const c of sweepCells({ ...SWEEP, shard: { index, count: 3 } })) expect(c.seed).toBe(seedOf.get(c.id));
    }
    // another sweep that holds the same cells at other positions
    const other = sweepCells({ ...SWEEP, params: { clients: [64, 16, 4], transport: ['shared', 'copy'] } });
    const moved = other.find((c) => c.id === 'clients=4,transport=copy')!;
    expect(moved.position).toBe(5);
    expect(moved.seed).toBe(seedOf.get(moved.id));
    expect(moved.hash).toBe(all[0].hash);
    // another master seed: other seeds, other files
    const reseeded = sweepCells({ ...SWEEP, seed: 43 });
    for (const [i, c] of reseeded.entries()) {
      expect(c.seed).not.toBe(all[i].seed);
      expect(c.hash).not.toBe(all[i].hash);
    }
  });

  it('shards are disjoint and together the whole sweep: position % count === index', () => {
    const shards = [0, 1, 2].map((index) => sweepCells({ ...SWEEP, shard: { index, count: 3 } }).map((c) => c.id));
    expect(shards).toEqual([[IDS[0], IDS[3]], [IDS[1]], [IDS[2]]]);
  });

  it('a label expands to mode, transport and signal, in its normal form', () => {
    const cells = sweepCells({ params: { label: ['monolithic', 'microkernel', 'microkernel:shared:ring'] }, base: { requests: 10 } });
    expect(cells.map((c) => c.id)).toEqual(['label=monolithic', 'label=microkernel:copy', 'label=microkernel:shared:ring']);
    expect(cells[0].options).toMatchObject({ mode: 'monolithic' });
    expect(cells[0].options.transport).toBeUndefined();
    expect(cells[1].options).toMatchObject({ mode: 'microkernel', transport: 'copy', signal: 'message' });
    expect(cells[2].options).toMatchObject({ mode: 'microkernel', transport: 'shared', signal: 'ring' });
  });

  it('ids sort with their numbers by value', () => {
    expect(['clients=128', 'clients=8', 'clients=32'].sort(compareIds)).toEqual(['clients=8', 'clients=32', 'clients=128']);
  });

  it('parseSweepParam types the values by option', () => {
    expect(parseSweepParam('clients=8,32,128')).toEqual(['clients', [8, 32, 128]]);
    expect(parseSweepParam('checksumOffload=true,false')).toEqual(['checksumOffload', [true, false]]);
    expect(parseSweepParam('label=monolithic,microkernel:shared')).toEqual(['label', ['monolithic', 'microkernel:shared']]);
    expect(() => parseSweepParam('clients')).toThrow(/param must be KEY=V1,V2/);
  });
});

describe('bad sweeps are refused before anything runs', () => {
  const refused: Array<[string, SweepOptions, RegExp]> = [
    ['an unknown key', { params: { clients: [4], color: ['red'] } }, /^params\.color is not an option a sweep can vary/],
    ['an empty list', { params: { clients: [] } }, /^params\.clients must have at least one value/],
    ['a bad value, in the last cell only', { params: { transport: ['copy'], clients: [4, 0] } }, /^params\.clients must be an integer from 1 to 4096 \(in cell transport=copy,clients=0\), got 0/],
    ['a value of the wrong type', { params: { clients: ['many'] } }, /^params\.clients must be an integer .*got 'many'/],
    ['a bad label', { params: { label: ['microkernel:telepathy'] } }, /^params\.label holds a bad label: .*unknown transport 'telepathy'/],
    ['a workload that does not load', { params: { workload: ['specweb96', 'nope'] } }, /^params\.workload holds a workload that does not load \(in cell workload=nope\)/],
    ['a value given twice', { params: { clients: [4, 4] } }, /^params\.clients holds 4 twice/],
    ['the seed swept', { params: { seed: [1, 2] } }, /^params\.seed cannot be swept: each cell's seed is derived/],
    ['the profile swept', { params: { profile: ['skylake'] } }, /^params\.profile cannot be swept/],
    ['mode swept with transport', { params: { mode: ['monolithic', 'microkernel'], transport: ['copy'] } }, /^params\.transport applies to the microkernel only \(in cell mode=monolithic,transport=copy\): sweep params\.label instead/],
    ['a label with a transport', { params: { label: ['monolithic'], transport: ['copy'] } }, /^params\.label cannot be swept with params\.transport/],
    ['a param also in base', { params: { clients: [4] }, base: { clients: 8 } }, /^params\.clients is given in base too/],
    ['a seed in base', { params: { clients: [4] }, base: { seed: 3 } as never }, /^base\.seed is the sweep's/],
    ['a bad base option', { params: { clients: [4] }, base: { requests: -1 } }, /^requests must be an integer/],
    ['no params', { params: {} }, /^params must sweep at least one option/],
    ['a bad shard', { params: { clients: [4] }, shard: { index: 3, count: 3 } }, /^shard\.index must be an integer from 0 to 2, got 3/],
    ['an unknown sweep option', { params: { clients: [4] }, requests: 5 } as never, /^requests is not a sweep option/],
  ];
  it.each(refused)('%s', async (_what, options, message) => {
    const dir = join(tempDir(), 'out');
    const onCell = vi.fn();
    const err = await sweep({ ...options, dir, onCell }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect(onCell).not.toHaveBeenCalled();
    expect(existsSync(dir)).toBe(false);
    expect(() => sweepCells(options)).toThrow(ConfigError);
  });
});

describe('running a sweep, sharded, resumed and merged', () => {
  let full: SweepResult;
  let dir: string;
  let shards: SweepResult[];
  let progress: SweepProgress[][];
  beforeAll(async () => {
    full = await sweep(SWEEP);
    dir = join(tempDir(), 'cells');
    progress = [[], [], []];
    shards = [];
    for (let index = 0; index < 3; index++) {
      shards.push(await sweep({ ...SWEEP, dir, shard: { index, count: 3 }, onCell: (p) => progress[index].push(p) }));
    }
  });

  it('every cell ran ok; the result is sorted by id and says what ran', () => {
    expect(full.kind).toBe('microlith-sweep');
    expect(full.params).toEqual(PARAMS);
    expect(full.masterSeed).toBe(42);
    expect(full.complete).toBe(true);
    expect(full.missing).toEqual([]);
    expect(full.cells.map((c) => c.id)).toEqual(IDS);
    for (const c of full.cells) {
      expect(c.report.status, c.report.problems.join('; ')).toBe('ok');
      expect(c.file).toBeUndefined();
      expect(c.report.workload.seed).toBe(c.seed);
      expect(c.report.workload.clients).toBe(c.params.clients);
      expect(c.report.transport).toBe(c.params.transport);
      expect(c.report.outcomes.ok).toBe(150);
    }
    // different seeds make different requests
    expect(new Set(full.cells.map((c) => c.report.digest)).size).toBe(4);
  });

  it('the union of 3 shards is the unsharded sweep, cell by cell (ids, seeds, counters, digests)', () => {
    const union = shards.flatMap((s) => s.cells).sort((a, b) => compareIds(a.id, b.id));
    expect(union.map(deterministic)).toEqual(full.cells.map(deterministic));
    expect(shards.map((s) => s.cells.length)).toEqual([2, 1, 1]);
    expect(progress.map((ps) => ps.map((p) => `${p.i}/${p.n} ${p.id}${p.skipped ? ' skipped' : ''}`))).toEqual([
      [`1/2 ${IDS[0]}`, `2/2 ${IDS[3]}`],
      [`1/1 ${IDS[1]}`],
      [`1/1 ${IDS[2]}`],
    ]);
  });

  it('each cell wrote one file, named by its hash, atomically (no temp file left)', () => {
    const cells = sweepCells(SWEEP);
    expect(readdirSync(dir).sort()).toEqual(cells.map((c) => `${c.hash}.json`).sort());
    const c = cells[1];
    const file = JSON.parse(readFileSync(join(dir, `${c.hash}.json`), 'utf8'));
    expect(file).toMatchObject({ schemaVersion: 1, kind: 'microlith-sweep-cell', sweep: { params: PARAMS, masterSeed: 42, base: SWEEP.base }, cell: { id: c.id, params: c.params, seed: c.seed } });
    expect(file.report.digest).toBe(full.cells[1].report.digest);
    expect(shards[1].cells[0].file).toBe(join(dir, `${c.hash}.json`));
  });

  it('a killed sweep resumes: with one file deleted, only that cell runs again', async () => {
    // a copy of the files, so the other tests keep theirs
    const copy = tempDir();
    for (const n of jsonFiles(dir)) copyFileSync(join(dir, n), join(copy, n));
    const gone = sweepCells(SWEEP)[2];
    unlinkSync(join(copy, `${gone.hash}.json`));
    const seen: SweepProgress[] = [];
    const resumed = await sweep({ ...SWEEP, dir: copy, onCell: (p) => seen.push(p) });
    expect(seen.map((p) => [p.id, p.skipped])).toEqual(IDS.map((id) => [id, id !== gone.id]));
    expect(readdirSync(copy).sort()).toEqual(jsonFiles(dir));
    expect(resumed.cells.map(deterministic)).toEqual(full.cells.map(deterministic));
    // the cells read back are the files' reports, host timings and all
    const kept = resumed.cells.find((c) => c.id === IDS[0])!;
    expect(kept.report).toEqual(shards[0].cells[0].report);
    // and again: nothing runs
    const again: boolean[] = [];
    await sweep({ ...SWEEP, dir: copy, onCell: (p) => again.push(p.skipped) });
    expect(again).toEqual([true, true, true, true]);
  });

  it('merge reads the files back as the sweep: twice, and listed in any order, deep-equal', () => {
    try {
      const first = merge(dir);
      expect(merge(dir)).toEqual(first);
      listing.order = 'reversed';
      expect(merge(dir)).toEqual(first);
      listing.order = 'shuffled';
      expect(merge(dir)).toEqual(first);
      expect(first).toMatchObject({ kind: 'microlith-sweep', params: PARAMS, masterSeed: 42, complete: true, missing: [] });
      expect(first.cells.map(deterministic)).toEqual(full.cells.map(deterministic));
      expect(first.cells.map((c) => basename(c.file!))).toEqual(sweepCells(SWEEP).map((c) => `${c.hash}.json`));
    } finally {
      listing.order = 'os';
    }
  });

  /** A copy of the sweep's files to spoil. */
  const spoilt = () => {
    const d = tempDir();
    for (const n of jsonFiles(dir)) copyFileSync(join(dir, n), join(d, n));
    return d;
  };
  const edit = (file: string, f: (j: Record<string, any>) => void) => {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    f(j);
    writeFileSync(file, JSON.stringify(j));
  };
  const mergeError = (d: string) => {
    try {
      merge(d);
    } catch (e) {
      expect(e).toBeInstanceOf(MergeError);
      return e as MergeError;
    }
    throw new Error('merge did not refuse');
  };

  it('merge ignores temp files, counts a cell held twice with the same report once, and says which cells are missing', () => {
    const d = spoilt();
    const [a, b] = jsonFiles(d);
    writeFileSync(join(d, `${a}.123.abcd.tmp`), '{"half": ');
    copyFileSync(join(d, a), join(d, `zz-${a}`));
    const merged = merge(d);
    expect(merged.cells.map((c) => c.id)).toEqual(IDS);
    expect(merged.cells.map((c) => basename(c.file!))).toContain(a);
    expect(merged.cells.map((c) => basename(c.file!))).not.toContain(`zz-${a}`);
    try {
      listing.order = 'reversed';
      expect(merge(d)).toEqual(merged);
    } finally {
      listing.order = 'os';
    }
    unlinkSync(join(d, b));
    const partial = merge(d);
    expect(partial.complete).toBe(false);
    expect(partial.missing).toHaveLength(1);
    expect(partial.cells.map((c) => c.id)).toEqual(IDS.filter((id) => id !== partial.missing[0]));
    expect(sweepComparison(partial).warnings.join(' ')).toContain(`1 of 4 cells are missing: ${partial.missing[0]}`);
  });

  it('merge refuses mixed schema versions, naming the files', () => {
    const d = spoilt();
    const [a] = jsonFiles(d);
    edit(join(d, a), (j) => {
      j.schemaVersion = 2;
      j.report.schemaVersion = 2;
    });
    const e = mergeError(d);
    expect(e.message).toMatch(/^cannot merge cell files of different schema versions: schema version 1 \(.+\); schema version 2 \(/);
    expect(e.message).toContain(`schema version 2 (${a})`);
    expect(e.files).toHaveLength(4);
  });

  it('merge refuses mixed cost profiles, naming the files', () => {
    const d = spoilt();
    const [, b] = jsonFiles(d);
    edit(join(d, b), (j) => {
      j.report.modelled.profile = 'skylake';
    });
    const e = mergeError(d);
    expect(e.message).toMatch(/^cannot merge cell files of different cost profiles: profile pentium-pro-1996 \(.+\); profile skylake \(/);
    expect(e.message).toContain(`profile skylake (${b})`);
  });

  it('merge refuses cells of sweeps with other settings besides the params, naming the setting and a file of each', () => {
    const d = spoilt();
    const names = jsonFiles(d);
    const b = names[2];
    edit(join(d, b), (j) => {
      j.sweep.base.requests = 300;
      j.sweep.base.mtu = 9000;
    });
    const e = mergeError(d);
    expect(e.message).toBe(
      `cannot merge cell files of different sweeps: mtu not given (${names[0]}) but mtu=9000 (${b}) (and requests); ` +
        "the cells of one sweep differ only in its params (clients, transport): merge each sweep's files from a directory of their own",
    );
    expect(e.files).toEqual([names[0], b]);
    // the same refusal however the directory lists the files
    try {
      listing.order = 'reversed';
      expect(mergeError(d).message).toBe(e.message);
    } finally {
      listing.order = 'os';
    }
    // a setting left out that the run resolved to the value another sweep gave is the same setting
    edit(join(d, b), (j) => {
      j.sweep.base = { requests: 150 };
    });
    expect(merge(d).cells.map((c) => c.id)).toEqual(IDS);
    // a file that holds no base (written before cell files recorded it) is not compared
    edit(join(d, b), (j) => {
      delete j.sweep.base;
    });
    expect(merge(d).cells.map((c) => c.id)).toEqual(IDS);
  });

  it('merge refuses two files holding the same cell with different reports', () => {
    const d = spoilt();
    const [a] = jsonFiles(d);
    copyFileSync(join(d, a), join(d, `other-${a}`));
    edit(join(d, `other-${a}`), (j) => {
      j.report.elapsedMs += 1;
    });
    const e = mergeError(d);
    const id = JSON.parse(readFileSync(join(d, a), 'utf8')).cell.id;
    expect(e.message).toBe(`cell ${id} is held by 2 files with different reports: ${a}, other-${a} (keep one)`);
    expect(e.files).toEqual([a, `other-${a}`]);
  });

  it('merge refuses a file that is not a cell file, and a directory without any', () => {
    const d = spoilt();
    writeFileSync(join(d, 'notes.json'), '{"kind": "something else"}');
    expect(mergeError(d).message).toMatch(/notes\.json is not a microlith sweep cell file/);
    expect(mergeError(tempDir()).message).toMatch(/holds no sweep cell file/);
  });

  it('sweepComparison: each cell one label with one round, the first the baseline, every field filled', () => {
    const c = sweepComparison(merge(dir));
    expect(c.baseline).toBe(IDS[0]);
    expect(c.results.map((r) => r.label)).toEqual(IDS);
    expect(c).toMatchObject({ schemaVersion: 1, rounds: 1, roundsPlanned: 1, complete: true, digestsEqual: true });
    expect(c.workload).toEqual(full.cells[0].report.workload);
    expect(c.seeds).toEqual(sweepCells(SWEEP).map((x) => x.seed));
    expect(Object.keys(c.digestsBySeed)).toHaveLength(4);
    expect(c.warnings[0]).toMatch(/each cell ran once/);
    // its Markdown says it is a sweep, and over what
    expect(toMarkdown(c).split('\n')[0]).toMatch(/^\*\*microlith sweep over clients, transport: specweb96\*\*/);
    const [base, ...others] = c.results;
    expect(base.relative).toEqual({ factor: 1, stdev: 0, direction: 'baseline' });
    expect(base.ratio.median).toBe(1);
    expect(base.modelled.ratio).toBe(1);
    for (const r of c.results) {
      expect(r.requestsPerSec.n).toBe(1);
      expect(r.reports).toHaveLength(1);
      expect(r.mode).toBe('microkernel');
      expect(r.transport).toBe(r.label.endsWith('copy') ? 'copy' : 'shared');
      expect(r.latencyUs!.p99).toBe(r.reports[0].latencyUs!.p99);
      expect(r.extra.baselineCounted.bytesCopied).toBe(base.reports[0].perRequest.bytesCopied);
      expect(r.extra.counted.bytesCopied).toBe(r.reports[0].perRequest.bytesCopied);
    }
    for (const r of others) {
      expect(['slower', 'faster']).toContain(r.relative.direction);
      expect(r.ratio.median).toBeCloseTo(r.reports[0].throughput.requestsPerSec / base.reports[0].throughput.requestsPerSec, 3);
    }
    // shared moves fewer bytes than copy: counted, so it holds on any machine
    expect(c.results[1].extra.counted.bytesCopied).toBeLessThan(c.results[0].extra.counted.bytesCopied);
    const text = formatComparison(c);
    for (const id of IDS) expect(text).toContain(id);
  });
});

describe('stopping a sweep', () => {
  it('an abort stops after the cell in progress: the result has the cells that finished, complete false', async () => {
    const dir = tempDir();
    const stop = new AbortController();
    const r = await sweep({ ...SWEEP, dir, abortSignal: stop.signal, onCell: () => stop.abort() });
    expect(r.complete).toBe(false);
    expect(r.cells.map((c) => c.id)).toEqual([IDS[0]]);
    expect(r.missing).toEqual(IDS.slice(1).sort(compareIds));
    expect(readdirSync(dir)).toEqual([`${sweepCells(SWEEP)[0].hash}.json`]);
  });
});

describe('shardFromEnv', () => {
  it('reads a Slurm array task, offset by its first index', () => {
    expect(shardFromEnv({})).toBeNull();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' })).toEqual({ index: 2, count: 3 });
  });

  it('reads a Kubernetes indexed job, whose count the caller gives', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0' }, 5)).toEqual({ index: 0, count: 5 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '0' })).toThrow(/JOB_COMPLETION_INDEX is set, but the shard count is not/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '5' }, 5)).toThrow(/JOB_COMPLETION_INDEX must be below the shard count 5, got '5'/);
  });

  it('refuses values that are not a task of the array, naming the variable', () => {
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/^SLURM_ARRAY_TASK_ID must be an integer >= 0, got 'x'/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1.5', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(ConfigError);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '0' })).toThrow(/^SLURM_ARRAY_TASK_COUNT must be an integer >= 1/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/^SLURM_ARRAY_TASK_ID is not task 0 to 3 .*--array=0-3/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' })).toThrow(/SLURM_ARRAY_TASK_ID is not task/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not set/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }, 3)).toThrow(/SLURM_ARRAY_TASK_COUNT differs from the shard count given \(3\)/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '-1' }, 3)).toThrow(/JOB_COMPLETION_INDEX must be an integer >= 0, got '-1'/);
  });
});
