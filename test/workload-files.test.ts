/**
 * Workload files (src/workload/load.ts, schema.ts) and what is generated from them
 * (src/workload/generate.ts): the shipped specweb96, strict validation with
 * errors that name the file and the field, the file set, and the seeded request
 * stream.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRequestLine } from '../src/servers/app.js';
import { RequestStream, fileSet } from '../src/workload/generate.js';
import { WORKLOAD_DIR, WorkloadError, loadWorkload, parseWorkload, shippedWorkloads } from '../src/workload/load.js';
import type { Workload } from '../src/workload/schema.js';

const SPECWEB96_FILE = fileURLToPath(new URL('../workloads/specweb96.json', import.meta.url));

/** A valid workload file's JSON value, fresh each time so tests can mutate it. */
function valid(): any {
  return {
    name: 'tiny',
    seed: 7,
    requests: 100,
    clients: 4,
    fileSet: {
      directories: 2,
      classes: [
        { name: 'small', weight: 3, sizes: [10, 20, 30] },
        { name: 'big', weight: 1, sizes: [5000, 6000] },
      ],
    },
    popularity: { kind: 'zipf', exponent: 1 },
  };
}

/** The WorkloadError that parsing `value` (as JSON) throws. */
function errorOf(value: unknown, shown = 'bad.json'): WorkloadError {
  try {
    parseWorkload(typeof value === 'string' ? value : JSON.stringify(value), shown);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    return e as WorkloadError;
  }
  throw new Error('expected a WorkloadError, but the workload was accepted');
}

describe('the shipped specweb96 workload', () => {
  it('loads by name with the SPECweb96 classes and shares', () => {
    const w = loadWorkload('specweb96');
    expect(w.name).toBe('specweb96');
    expect(w.seed).toBe(1996);
    expect(w.requests).toBe(20000);
    expect(w.clients).toBe(32);
    expect(w.fileSet!.directories).toBe(10);
    expect(w.fileSet!.classes.map((c) => [c.name, c.weight, c.sizes.length])).toEqual([
      ['class0', 35, 9],
      ['class1', 50, 9],
      ['class2', 14, 9],
      ['class3', 1, 9],
    ]);
    expect(w.popularity).toEqual({ kind: 'zipf', exponent: 1 });
    expect(w.description.length).toBeGreaterThan(0);
  });

  it('loads by path to the same workload', () => {
    expect(loadWorkload(SPECWEB96_FILE)).toEqual(loadWorkload('specweb96'));
  });

  it('is listed among the shipped workloads, which are the .json files of workloads/', () => {
    const onDisk = readdirSync(WORKLOAD_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(shippedWorkloads()).toEqual(onDisk);
    expect(shippedWorkloads()).toContain('specweb96');
  });

  it('an unknown name is a WorkloadError that lists every shipped workload', () => {
    let err: unknown;
    try {
      loadWorkload('specweb99');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkloadError);
    const msg = (err as Error).message;
    expect(msg).toContain("'specweb99'");
    for (const name of shippedWorkloads()) expect(msg).toContain(name);
  });
});

describe('parseWorkload: strict validation, errors name the file and the field', () => {
  it('accepts the valid base and fills in defaults', () => {
    const w = parseWorkload(JSON.stringify(valid()), 'ok.json');
    expect(w.description).toBe('');
    expect(w.fileSet!.classes[1].sizes).toEqual([5000, 6000]);
  });

  it('accepts a string seed and a $schema key', () => {
    const v = { ...valid(), seed: 'abc', $schema: '../schema/workload.schema.json' };
    expect(parseWorkload(JSON.stringify(v), 'ok.json').seed).toBe('abc');
  });

  // [what, mutation, field path the message must name]
  const cases: [string, (v: any) => void, string][] = [
    // unknown keys
    ['an unknown top-level key', (v) => (v.extra = 1), '(top level)'],
    ['an unknown key in fileSet', (v) => (v.fileSet.dirs = 2), 'fileSet'],
    ['an unknown key in a class', (v) => (v.fileSet.classes[1].colour = 'red'), 'fileSet.classes[1]'],
    ['an unknown key in popularity', (v) => (v.popularity.skew = 2), 'popularity'],
    // wrong types
    ['requests as a string', (v) => (v.requests = '100'), 'requests'],
    ['seed as a boolean', (v) => (v.seed = true), 'seed'],
    ['a size as a string', (v) => (v.fileSet.classes[0].sizes[2] = 'x'), 'fileSet.classes[0].sizes[2]'],
    ['classes as an object', (v) => (v.fileSet.classes = { a: 1 }), 'fileSet.classes'],
    ['another popularity kind', (v) => (v.popularity.kind = 'uniform'), 'popularity.kind'],
    ['a missing seed', (v) => delete v.seed, 'seed'],
    ['a missing fileSet', (v) => delete v.fileSet, 'fileSet'],
    // out of range
    ['zero clients', (v) => (v.clients = 0), 'clients'],
    ['too many clients', (v) => (v.clients = 4097), 'clients'],
    ['fractional requests', (v) => (v.requests = 1.5), 'requests'],
    ['zero directories', (v) => (v.fileSet.directories = 0), 'fileSet.directories'],
    ['a negative size', (v) => (v.fileSet.classes[1].sizes[1] = -1), 'fileSet.classes[1].sizes[1]'],
    ['a size over 64 MiB', (v) => (v.fileSet.classes[0].sizes[0] = 64 * 1024 * 1024 + 1), 'fileSet.classes[0].sizes[0]'],
    ['a zero weight', (v) => (v.fileSet.classes[0].weight = 0), 'fileSet.classes[0].weight'],
    ['no classes', (v) => (v.fileSet.classes = []), 'fileSet.classes'],
    ['no sizes', (v) => (v.fileSet.classes[1].sizes = []), 'fileSet.classes[1].sizes'],
    ['65 sizes', (v) => (v.fileSet.classes[0].sizes = Array(65).fill(1)), 'fileSet.classes[0].sizes'],
    ['a Zipf exponent over 4', (v) => (v.popularity.exponent = 4.5), 'popularity.exponent'],
    ['a negative Zipf exponent', (v) => (v.popularity.exponent = -0.1), 'popularity.exponent'],
    ['a name with spaces', (v) => (v.name = 'my workload'), 'name'],
    ['a class name with a slash', (v) => (v.fileSet.classes[0].name = 'a/b'), 'fileSet.classes[0].name'],
    ['an empty string seed', (v) => (v.seed = ''), 'seed'],
  ];
  for (const [what, mutate, field] of cases) {
    it(`refuses ${what}, naming ${field}`, () => {
      const v = valid();
      mutate(v);
      const err = errorOf(v, 'workloads/bad.json');
      const escaped = field.replace(/[.[\]()$]/g, '\\$&');
      expect(err.message).toMatch(new RegExp(`^workloads/bad\\.json:1:\\d+ ${escaped}: \\S`));
    });
  }

  it('an unknown key is named in the message', () => {
    const v = valid();
    v.fileSet.classes[0].colour = 'red';
    expect(errorOf(v).message).toContain('colour');
  });

  it('refuses truncated JSON, naming the file and the place where it ends', () => {
    const text = JSON.stringify(valid());
    for (const cut of [0, 1, 10, text.length - 1]) {
      expect(errorOf(text.slice(0, cut), 'workloads/cut.json').message).toMatch(new RegExp(`^workloads/cut\\.json:1:${cut + 1} `));
    }
  });

  it('refuses JSON that is not an object', () => {
    for (const v of [null, [], 42, 'text']) {
      expect(errorOf(JSON.stringify(v)).message).toMatch(/^bad\.json:1:1 \(top level\): expected an object, got /);
    }
  });

  it('a file given by path is validated and named by that path in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'microlith-wl-'));
    try {
      const file = join(dir, 'mine.json');
      const v = valid();
      v.clients = -3;
      writeFileSync(file, JSON.stringify(v, null, 2));
      expect(() => loadWorkload(file)).toThrow(WorkloadError);
      expect(() => loadWorkload(file)).toThrow(`${file}:5:14 clients: expected an integer from 1 to 4096`);
      writeFileSync(file, JSON.stringify(valid()));
      expect(loadWorkload(file).name).toBe('tiny');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path that does not exist is a WorkloadError naming the path', () => {
    expect(() => loadWorkload('./no/such/workload.json')).toThrow(WorkloadError);
    expect(() => loadWorkload('./no/such/workload.json')).toThrow(/^\.\/no\/such\/workload\.json: cannot read: no such file \(ENOENT\)$/);
  });
});

describe('fileSet', () => {
  const w = loadWorkload('specweb96');
  const files = fileSet(w);

  it('specweb96: 36 files in each of 10 directories, all paths distinct', () => {
    expect(files).toHaveLength(360);
    expect(new Set(files.map((f) => f.path)).size).toBe(360);
    const perDir = new Map<string, number>();
    for (const f of files) {
      const dir = f.path.split('/')[1];
      perDir.set(dir, (perDir.get(dir) ?? 0) + 1);
    }
    expect([...perDir.keys()]).toEqual(Array.from({ length: 10 }, (_, d) => `dir00${d}`));
    for (const n of perDir.values()) expect(n).toBe(36);
  });

  it('specweb96 sizes: class c, file k is (k+1) * 102.4 * 10^c bytes, rounded down', () => {
    for (let d = 0; d < 10; d++) {
      for (let c = 0; c < 4; c++) {
        for (let k = 0; k < 9; k++) {
          const path = `/dir${String(d).padStart(3, '0')}/class${c}_${k}`;
          const want = Math.floor(((k + 1) * 1024 * 10 ** c) / 10);
          expect(files.find((f) => f.path === path)?.size, path).toBe(want);
        }
      }
    }
  });

  it('specweb96 totals 51,194,840 bytes (10 x 5,119,484)', () => {
    // per directory: 4604 (class0) + 46080 + 460800 + 4608000
    expect(files.reduce((n, f) => n + f.size, 0)).toBe(51_194_840);
  });
});

describe('RequestStream', () => {
  const w = loadWorkload('specweb96');
  const draw = (wl: Workload, n: number) => {
    const s = new RequestStream(wl);
    return Array.from({ length: n }, () => s.next().line);
  };

  it('is deterministic for a seed', () => {
    expect(draw(w, 2000)).toEqual(draw(w, 2000));
  });

  it('differs for another seed', () => {
    const a = draw(w, 2000);
    const b = draw({ ...w, seed: 1997 }, 2000);
    const same = a.filter((line, i) => line === b[i]).length;
    expect(same).toBeLessThan(1000);
  });

  it('every request is a valid GET of a file in the file set', () => {
    const paths = new Set(fileSet(w).map((f) => f.path));
    for (const line of draw(w, 5000)) {
      // a GET in HTTP/1.0 whose target is the file's path as it stands (no escape, no query, not /)
      const target = /^GET (\S+) HTTP\/1\.0$/.exec(line)?.[1];
      expect(paths.has(target!), line).toBe(true);
      expect(parseRequestLine(line)).toEqual({ method: 'GET', path: target, version: '1.0' });
    }
  });

  it('over 20,000 draws the class shares are 35/50/14/1 within 1.5 points', () => {
    const N = 20_000;
    const counts: Record<string, number> = { class0: 0, class1: 0, class2: 0, class3: 0 };
    for (const line of draw(w, N)) counts[/\/(class\d)_/.exec(line)![1]]++;
    const want: Record<string, number> = { class0: 35, class1: 50, class2: 14, class3: 1 };
    for (const c of Object.keys(want)) {
      expect(Math.abs((100 * counts[c]) / N - want[c]), c).toBeLessThanOrEqual(1.5);
    }
  });

  it('within a class, popularity is Zipf: the top file gets about 1/H(90) of the class', () => {
    // 90 files per class (10 dirs x 9 sizes); with exponent 1 the top one's share is 1/H(90)
    let h = 0;
    for (let r = 1; r <= 90; r++) h += 1 / r;
    const counts = new Map<string, number>();
    let class1 = 0;
    for (const line of draw(w, 20_000)) {
      if (!line.includes('/class1_')) continue;
      class1++;
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
    const top = Math.max(...counts.values());
    expect(Math.abs(top / class1 - 1 / h)).toBeLessThan(0.015); // 1/H(90) = 0.1967
  });

  it('exponent 0 is uniform: no file of a class gets more than twice its fair share', () => {
    const flat = { ...w, popularity: { kind: 'zipf' as const, exponent: 0 } };
    const counts = new Map<string, number>();
    let class1 = 0;
    for (const line of draw(flat, 20_000)) {
      if (!line.includes('/class1_')) continue;
      class1++;
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
    expect(counts.size).toBe(90);
    expect(Math.max(...counts.values())).toBeLessThan((2 * class1) / 90);
  });
});
