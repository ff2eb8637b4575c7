/**
 * Workloads with services (src/workload/schema.ts, load.ts, generate.ts), by
 * property (fast-check, fixed seeds, so a failure comes back the same):
 *
 * - any valid workload (http, ftp, nfs and dns services, small file sets, zones)
 *   gives the same digest and the same mode-independent counters under the
 *   monolith and the microkernel, every request ok, and no acknowledged write
 *   lost;
 * - invalid input (any JSON value, valid workloads with fields broken, keys
 *   added, cross-field rules broken) either parses or is refused with exactly
 *   one WorkloadError line `x.json:LINE:COL path: message`, never another error;
 * - the cross-field errors' exact words, for hand-written files.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES, MODE_SPECIFIC_COUNTERS } from '../src/metrics/counters.js';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import { RequestStream } from '../src/workload/generate.js';
import { WorkloadError, parseWorkload } from '../src/workload/load.js';
import { WorkloadSchema, writesToDisk, type Workload } from '../src/workload/schema.js';
import { expectAllOk, pick } from './support/reports.js';

const SHARED_COUNTERS = COUNTER_NAMES.filter((n) => !MODE_SPECIFIC_COUNTERS.includes(n));
const FILE_PROTOCOLS = ['http', 'ftp', 'nfs'];

// ---------------------------------------------------------------------------
// Valid workload files, as JSON values (what a file holds, before defaults)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const CLASS_NAMES = ['small', 'big', 'c_3', 'X-9'];
const ORIGINS = ['example.com.', 'a.b.', 'ns-1.example.org.'];

const weight = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.01, max: 100, noNaN: true }));
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

function fileClass(name: string) {
  return fc.record({
    name: fc.constant(name),
    weight,
    sizes: fc.array(fc.integer({ min: 0, max: 200 * 1024 }), { minLength: 1, maxLength: 3 }),
  });
}

function service(protocol: string, classNames: string[]): fc.Arbitrary<unknown> {
  const classes = classNames.length === 0 ? fc.constant(undefined) : optional(fc.subarray(classNames, { minLength: 1 }));
  switch (protocol) {
    case 'http':
    case 'ftp':
      return fc.record({ protocol: fc.constant(protocol), weight: optional(weight), classes });
    case 'nfs':
      return fc.record({
        protocol: fc.constant(protocol),
        weight: optional(weight),
        classes,
        writeFraction: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
        ioSizes: fc.array(fc.integer({ min: 1, max: 64 * 1024 }), { minLength: 1, maxLength: 3 }),
      });
    default:
      return fc.record({
        protocol: fc.constant('dns'),
        weight: optional(weight),
        zone: fc.record({
          origin: fc.constantFrom(...ORIGINS),
          names: fc.integer({ min: 1, max: 500 }),
          missRatio: optional(fc.double({ min: 0, max: 1, noNaN: true })),
        }),
      });
  }
}

/** JSON's own idea of the value: undefined members gone, -0 as 0. */
function asJson(v: unknown): Obj {
  return JSON.parse(JSON.stringify(v)) as Obj;
}

/**
 * A valid workload file: 1-3 services (at most one dns), or none given (http
 * alone); a file set whenever a service serves files (and sometimes when none
 * does); services naming some of its classes.
 */
const validFile: fc.Arbitrary<Obj> = fc
  .record({
    protocols: optional(
      fc.array(fc.constantFrom('http', 'ftp', 'nfs', 'dns'), { minLength: 1, maxLength: 3 }).filter((ps) => ps.filter((p) => p === 'dns').length <= 1),
    ),
    classNames: fc.uniqueArray(fc.constantFrom(...CLASS_NAMES), { minLength: 1, maxLength: 3 }),
    spareFileSet: fc.boolean(),
  })
  .chain(({ protocols, classNames, spareFileSet }) => {
    const hasFiles = protocols === undefined || protocols.some((p) => FILE_PROTOCOLS.includes(p)) || spareFileSet;
    return fc.record({
      name: fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
      description: optional(fc.string({ maxLength: 40 })),
      sources: optional(fc.array(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 3 })),
      seed: fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.string({ minLength: 1, maxLength: 12 })),
      requests: fc.integer({ min: 20, max: 80 }),
      clients: fc.integer({ min: 1, max: 8 }),
      arrival: fc.constantFrom(undefined, { kind: 'closed' }, { kind: 'closed', thinkTimeMs: 0 }),
      popularity: optional(fc.double({ min: 0, max: 2, noNaN: true }).map((exponent) => ({ kind: 'zipf', exponent }))),
      fileSet: hasFiles
        ? fc.record({ directories: fc.integer({ min: 1, max: 3 }), classes: fc.tuple(...classNames.map(fileClass)) })
        : fc.constant(undefined),
      services: protocols === undefined ? fc.constant(undefined) : fc.tuple(...protocols.map((p) => service(p, hasFiles ? classNames : []))),
    });
  })
  .map(asJson);

// ---------------------------------------------------------------------------
describe('any valid workload: the same answers under both kernels (fast-check)', () => {
  const LABELS: { label: string; opts: Pick<RunOptions, 'transport' | 'signal'> }[] = [
    { label: 'microkernel:copy', opts: { transport: 'copy' } },
    { label: 'microkernel:transfer', opts: { transport: 'transfer' } },
    { label: 'microkernel:shared', opts: { transport: 'shared' } },
  ];

  /** The WRITEs the workload's requests make. */
  function writesIn(w: Workload): number {
    const s = new RequestStream(w);
    let n = 0;
    for (let i = 0; i < w.requests; i++) {
      const op = s.nextOp();
      if (op.protocol === 'nfs' && op.op === 'WRITE') n++;
    }
    return n;
  }

  it('the arbitrary makes only valid workloads, of every kind', () => {
    const sample = fc.sample(validFile, { seed: 7, numRuns: 300 });
    const ws = sample.map((f) => WorkloadSchema.parse(f));
    const protocols = new Set(ws.flatMap((w) => w.services.map((s) => s.protocol)));
    expect([...protocols].sort()).toEqual(['dns', 'ftp', 'http', 'nfs']);
    expect(ws.some((w) => w.fileSet === undefined)).toBe(true);
    expect(ws.some((w) => writesToDisk(w))).toBe(true);
    expect(ws.some((w) => w.services.length === 3)).toBe(true);
    // and as text, through the file loader
    for (const f of sample.slice(0, 50)) expect(parseWorkload(JSON.stringify(f, null, 2), 'x.json')).toEqual(WorkloadSchema.parse(f));
  });

  it('monolithic and microkernel (a transport drawn): same digest, same counted work, all ok, no write lost', async () => {
    await fc.assert(
      fc.asyncProperty(validFile, fc.constantFrom(...LABELS), async (file, { label, opts }) => {
        const w = WorkloadSchema.parse(file);
        const mono = await run({ mode: 'monolithic', workload: w });
        const micro = await run({ mode: 'microkernel', ...opts, workload: w });
        for (const r of [mono, micro]) {
          expectAllOk(r, w.requests);
          expect(r.counters.appRequests).toBe(w.requests);
          expect(r.digest.endsWith(`-${w.requests}`), r.digest).toBe(true);
        }
        expect(micro.transport).toBe(opts.transport);
        expect(micro.digest, label).toBe(mono.digest);
        expect(pick(micro, SHARED_COUNTERS), label).toEqual(pick(mono, SHARED_COUNTERS));
        if (writesToDisk(w)) {
          const writes = writesIn(w);
          expect(mono.durability).toMatchObject({ ackedWrites: writes, lost: 0, firstLoss: null });
          expect(micro.durability, label).toEqual(mono.durability);
          expect(mono.counters.diskWrites).toBe(writes);
        } else {
          expect(mono.durability).toBeNull();
          expect(micro.durability).toBeNull();
          expect(mono.counters.diskWrites).toBe(0);
        }
      }),
      { seed: 1996, numRuns: 10 },
    );
  }, 120_000);
});

// ---------------------------------------------------------------------------
// Invalid input

const SHOWN = 'x.json';

/**
 * Parse `text` as x.json: it loads, or throws one WorkloadError line
 * `x.json:LINE:COL path: message` with LINE:COL inside the text and `place`
 * saying the same. Returns the error's message, or null if it loaded.
 */
function outcome(text: string): string | null {
  let error: unknown;
  try {
    parseWorkload(text, SHOWN);
    return null;
  } catch (e) {
    error = e;
  }
  if (!(error instanceof WorkloadError)) throw new Error(`not a WorkloadError: ${String(error)}\n${(error as Error)?.stack ?? ''}`);
  const message = error.message;
  expect(message).not.toMatch(/[\r\n\u2028\u2029]/);
  const m = /^x\.json:(\d+):(\d+) (\S.*?): (\S.*)$/.exec(message);
  expect(m, message).not.toBeNull();
  const place = error.place!;
  expect(place, message).toBeDefined();
  expect(message.startsWith(`${SHOWN}:${place.line}:${place.column} ${place.path}: `), message).toBe(true);
  expect(place.file).toBe(SHOWN);
  const lines = text.split(/\r\n|\r|\n/);
  expect(place.line, message).toBeGreaterThanOrEqual(1);
  expect(place.line, message).toBeLessThanOrEqual(lines.length);
  expect(place.column, message).toBeGreaterThanOrEqual(1);
  expect(place.column, message).toBeLessThanOrEqual([...lines[place.line - 1]].length + 1);
  return message;
}

/** The text from column `col` of line 1 on. */
function fromColumn(text: string, message: string): string {
  const col = Number(/^x\.json:1:(\d+) /.exec(message)![1]);
  return [...text].slice(col - 1).join('');
}

/** Every value inside `v` (not `v` itself), with its path. */
function nodes(v: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  if (v === null || typeof v !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return entries.flatMap(([k, x]) => [{ path: [...path, k], value: x }, ...nodes(x, [...path, k])]);
}

function parentOf(root: Json, path: (string | number)[]): Json {
  let v = root;
  for (const k of path.slice(0, -1)) v = (v as Record<string | number, Json>)[k];
  return v;
}

/**
 * Set own property `key` of `o` (even "__proto__", which plain assignment would
 * not make a key) to a copy of `value` (a generated constant is one object, and
 * must not end up in two places, or inside itself).
 */
function setOwn(o: object, key: string | number, value: Json): void {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  Object.defineProperty(o, key, { value: copy, enumerable: true, writable: true, configurable: true });
}

const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(-1, 0, 0.5, 1.5, -0.25, 4097, 1001, 65, 10_000_001, 64 * 1024 * 1024 + 1, 1e300, -1e300, 2 ** 53 + 2, '', 'x', 'example.com', null, true, [], {}, [1], { kind: 'open' }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const oddKey = fc.oneof(
  fc.constantFrom('colour', 'protocol', 'zone', 'classes', 'kind', '__proto__', 'constructor', 'prototype', 'a b', 'x: y', '', 'é', 'k\nl', '\u2028'),
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

type Mutation =
  | { kind: 'set'; pick: number; value: Json }
  | { kind: 'delete'; pick: number }
  | { kind: 'addKey'; pick: number; key: string; value: Json }
  | { kind: 'dangling' }
  | { kind: 'secondDns' }
  | { kind: 'noFileSet' }
  | { kind: 'dupClass' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('addKey' as const), pick: fc.nat(), key: oddKey, value: oddValue }),
  fc.constantFrom<Mutation>({ kind: 'dangling' }, { kind: 'secondDns' }, { kind: 'noFileSet' }, { kind: 'dupClass' }),
);

const DNS: Obj = { protocol: 'dns', zone: { origin: 'second.example.', names: 3 } };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Services as given (those that are objects), or the default made explicit. */
function servicesOf(f: Obj): Obj[] {
  if (!Array.isArray(f.services)) f.services = [{ protocol: 'http' }];
  f.services = f.services.filter(isObj);
  return f.services as Obj[];
}

/** The class names of the file set (of a valid file; anything else is only a mutation's input). */
function classNames(f: Obj): string[] {
  const fs = f.fileSet;
  return isObj(fs) && Array.isArray(fs.classes) ? fs.classes.filter(isObj).map((c) => String(c.name)) : [];
}

/**
 * Apply `m` to `f` (a JSON object, changed in place). For the cross-field
 * mutations of a valid file, returns what the first problem must be: a regex
 * for the message and the token at its column (or null if the result is valid).
 */
function mutate(f: Obj, m: Mutation): { message: RegExp; token: string } | null | undefined {
  const all = nodes(f);
  switch (m.kind) {
    case 'set': {
      if (all.length === 0) return undefined;
      const { path } = all[m.pick % all.length];
      setOwn(parentOf(f, path) as object, path[path.length - 1], m.value);
      return undefined;
    }
    case 'delete': {
      if (all.length === 0) return undefined;
      const { path } = all[m.pick % all.length];
      const parent = parentOf(f, path) as Record<string | number, Json> | Json[];
      if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
      else delete parent[path[path.length - 1]];
      return undefined;
    }
    case 'addKey': {
      const objects = [f as Json, ...all.map((n) => n.value)].filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
      setOwn(objects[m.pick % objects.length] as object, m.key, m.value);
      return undefined;
    }
    case 'dangling': {
      const services = servicesOf(f);
      let i = services.findIndex((s) => FILE_PROTOCOLS.includes(s.protocol as string));
      if (i < 0) i = services.push({ protocol: 'http' }) - 1;
      const s = services[i];
      if (!Array.isArray(s.classes)) s.classes = [];
      const refs = s.classes;
      refs.push('nope');
      if (f.fileSet === undefined) return fileSetMissing(services);
      const have = classNames(f).join(', ');
      return {
        message: new RegExp(`^x\\.json:1:\\d+ services\\[${i}\\]\\.classes\\[${refs.length - 1}\\]: no class named "nope" in fileSet\\.classes \\(have: ${have}\\)$`),
        token: '"nope"',
      };
    }
    case 'secondDns': {
      const services = servicesOf(f);
      while (services.filter((s) => s.protocol === 'dns').length < 2) services.push(structuredClone(DNS));
      if (f.fileSet === undefined && services.some((s) => FILE_PROTOCOLS.includes(s.protocol as string))) return fileSetMissing(services);
      const second = services.findIndex((s, k) => s.protocol === 'dns' && services.slice(0, k).some((x) => x.protocol === 'dns'));
      return {
        message: new RegExp(`^x\\.json:1:\\d+ services\\[${second}\\]\\.protocol: at most one dns service: the app server holds one zone$`),
        token: '"dns"',
      };
    }
    case 'noFileSet': {
      delete f.fileSet;
      const services = Array.isArray(f.services) ? f.services.filter(isObj) : [{ protocol: 'http' }];
      return services.some((s) => FILE_PROTOCOLS.includes(s.protocol as string)) ? fileSetMissing(services) : null;
    }
    case 'dupClass': {
      if (!isObj(f.fileSet)) f.fileSet = { directories: 1, classes: [] };
      const fs = f.fileSet;
      if (!Array.isArray(fs.classes)) fs.classes = [];
      const classes = fs.classes;
      if (!isObj(classes[0])) classes.unshift({ name: 'small', weight: 1, sizes: [1] });
      classes.push({ ...(classes[0] as Obj) });
      return {
        message: new RegExp(`^x\\.json:1:\\d+ fileSet\\.classes\\[${classes.length - 1}\\]\\.name: duplicate class name "${(classes[0] as Obj).name}" \\(first at fileSet\\.classes\\[0\\]\\)$`),
        token: JSON.stringify((classes[0] as Obj).name),
      };
    }
  }
}

function fileSetMissing(services: Obj[]): { message: RegExp; token: string } {
  const i = services.findIndex((s) => FILE_PROTOCOLS.includes(s.protocol as string));
  const p = services[i].protocol as string;
  return {
    message: new RegExp(`^x\\.json:1:1 fileSet: missing: services\\[${i}\\] is ${p}, which serves files \\(http alone is the default when "services" is not given\\)$`),
    token: '{',
  };
}

const layout = fc.constantFrom<[string | number | undefined]>([undefined], [2], ['\t'], [1]);

describe('invalid input: one WorkloadError line or a workload, nothing else (fast-check)', () => {
  it('any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), layout, (v, [indent]) => {
        outcome(JSON.stringify(v, null, indent) ?? 'null');
      }),
      { seed: 101, numRuns: 300 },
    );
  });

  it('objects with the workload keys and any values', () => {
    const keys = ['$schema', 'name', 'description', 'sources', 'seed', 'requests', 'clients', 'arrival', 'durationMs', 'fileSet', 'popularity', 'services'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 12 }), layout, (v, [indent]) => {
        outcome(JSON.stringify(v, null, indent));
      }),
      { seed: 102, numRuns: 300 },
    );
  });

  it('valid workloads with 1-3 fields broken, keys added or removed, cross-field rules broken, and keys given twice', () => {
    let refused = 0;
    fc.assert(
      fc.property(validFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), layout, (file, ms, twice, [indent]) => {
        for (const m of ms) mutate(file, m);
        let text = JSON.stringify(file, null, indent);
        if (twice) text = text.replace('{', '{"seed": 3,'); // a key given twice, unless the seed was deleted
        if (outcome(text) !== null) refused++;
      }),
      { seed: 103, numRuns: 500 },
    );
    // the mutations mostly break the file (so the property saw errors, not only successes)
    expect(refused).toBeGreaterThan(300);
    expect(refused).toBeLessThan(500); // and some still load: the mutations are not all fatal
  });

  it('one cross-field rule broken in a valid workload: that exact problem, at its token', () => {
    const crossField = fc.constantFrom<Mutation>({ kind: 'dangling' }, { kind: 'secondDns' }, { kind: 'noFileSet' }, { kind: 'dupClass' });
    const seen = new Set<string>();
    fc.assert(
      fc.property(validFile, crossField, (file, m) => {
        const expected = mutate(file, m)!;
        const text = JSON.stringify(file);
        const message = outcome(text);
        if (expected === null) {
          expect(message).toBeNull();
          return;
        }
        expect(message).toMatch(expected.message);
        expect(fromColumn(text, message!).startsWith(expected.token), message!).toBe(true);
        seen.add(message!.replace(/^x\.json:1:\d+ ([^:]+):.*$/, '$1').replace(/\d+/g, 'N'));
      }),
      { seed: 104, numRuns: 300 },
    );
    expect([...seen].sort()).toEqual(['fileSet', 'fileSet.classes[N].name', 'services[N].classes[N]', 'services[N].protocol']);
  });
});

// ---------------------------------------------------------------------------
describe('the cross-field errors, word for word', () => {
  /** Lines 1-12 of every file below: a valid head with the classes `small` and `big` (line 10 is `big`). */
  const HEAD = [
    '{',
    '  "name": "refs",',
    '  "seed": 1,',
    '  "requests": 10,',
    '  "clients": 1,',
    '  "fileSet": {',
    '    "directories": 1,',
    '    "classes": [',
    '      { "name": "small", "weight": 1, "sizes": [100] },',
    '      { "name": "big", "weight": 1, "sizes": [9000] }',
    '    ]',
    '  },',
  ];
  const withServices = (head: string[], ...services: string[]) => [...head, '  "services": [', ...services.map((s, i) => (i < services.length - 1 ? `${s},` : s)), '  ]', '}'].join('\n');
  const errorOf = (text: string) => {
    try {
      parseWorkload(text, SHOWN);
    } catch (e) {
      expect(e).toBeInstanceOf(WorkloadError);
      return (e as Error).message;
    }
    throw new Error('expected a WorkloadError, but the workload was accepted');
  };

  it('the head with an http and an ftp service is valid', () => {
    const w = parseWorkload(withServices(HEAD, '    { "protocol": "http" }', '    { "protocol": "ftp", "classes": ["big"] }'), SHOWN);
    expect(w.services.map((s) => s.protocol)).toEqual(['http', 'ftp']);
  });

  it('a class reference that names no class', () => {
    // line 15:       { "protocol": "ftp", "classes": ["big", "huge"] }   ("huge" at column 45)
    const text = withServices(HEAD, '    { "protocol": "http" }', '    { "protocol": "ftp", "classes": ["big", "huge"] }');
    expect(errorOf(text)).toBe('x.json:15:45 services[1].classes[1]: no class named "huge" in fileSet.classes (have: small, big)');
  });

  it('a class name given twice (reported before a dangling reference, which comes later in the file)', () => {
    const head = [...HEAD];
    head[9] = '      { "name": "small", "weight": 1, "sizes": [9000] }'; // line 10: the second "small" at column 17
    expect(errorOf(withServices(head, '    { "protocol": "nfs", "writeFraction": 0.5, "ioSizes": [4096] }'))).toBe(
      'x.json:10:17 fileSet.classes[1].name: duplicate class name "small" (first at fileSet.classes[0])',
    );
    expect(errorOf(withServices(head, '    { "protocol": "http", "classes": ["big"] }'))).toBe(
      'x.json:10:17 fileSet.classes[1].name: duplicate class name "small" (first at fileSet.classes[0])',
    );
  });

  it('a second dns service', () => {
    // line 16:     { "protocol": "dns", ... }   ("dns" at column 19)
    const text = withServices(
      HEAD,
      '    { "protocol": "dns", "zone": { "origin": "example.com.", "names": 10 } }',
      '    { "protocol": "http" }',
      '    { "protocol": "dns", "zone": { "origin": "example.org.", "names": 5 } }',
    );
    expect(errorOf(text)).toBe('x.json:16:19 services[2].protocol: at most one dns service: the app server holds one zone');
  });

  const NO_FILES = ['{', '  "name": "nofiles",', '  "seed": 1,', '  "requests": 10,', '  "clients": 1'];

  it('no fileSet and no services: http, the default, serves files', () => {
    expect(errorOf([...NO_FILES, '}'].join('\n'))).toBe(
      'x.json:1:1 fileSet: missing: services[0] is http, which serves files (http alone is the default when "services" is not given)',
    );
  });

  it('no fileSet, and an nfs service after a dns one', () => {
    const head = [...NO_FILES.slice(0, -1), '  "clients": 1,'];
    const text = withServices(head, '    { "protocol": "dns", "zone": { "origin": "example.com.", "names": 10 } }', '    { "protocol": "nfs", "writeFraction": 0.5, "ioSizes": [4096] }');
    expect(errorOf(text)).toBe('x.json:1:1 fileSet: missing: services[1] is nfs, which serves files (http alone is the default when "services" is not given)');
  });

  it('no fileSet and an http service given explicitly', () => {
    const head = [...NO_FILES.slice(0, -1), '  "clients": 1,'];
    expect(errorOf(withServices(head, '    { "protocol": "http", "weight": 2 }'))).toBe(
      'x.json:1:1 fileSet: missing: services[0] is http, which serves files (http alone is the default when "services" is not given)',
    );
  });

  it('no fileSet is fine for a dns service alone', () => {
    const head = [...NO_FILES.slice(0, -1), '  "clients": 1,'];
    const w = parseWorkload(withServices(head, '    { "protocol": "dns", "zone": { "origin": "example.com.", "names": 10 } }'), SHOWN);
    expect(w.fileSet).toBeUndefined();
    expect(w.services).toEqual([{ protocol: 'dns', weight: 1, zone: { origin: 'example.com.', names: 10, missRatio: 0 } }]);
  });
});
