/**
 * Cost profiles as files (src/costmodel/profile.ts, profiles/*.json): every
 * shipped profile loads with every figure sourced; `extends` fills in what a
 * profile does not give; a bad profile file is one line naming the file (and,
 * for a problem in the text, line:column and the parameter), exit code 2 from
 * the command line and no stack trace; the JSON Schema is the generated one;
 * and the command line prices runs and IPC round trips with a named profile.
 * Every expected line and column was counted by hand from the text next to it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageUs } from '../src/costmodel/price.js';
import { loadProfile, PARAM_NAMES, PROFILE_DIR, profileJsonSchema, shippedProfiles, type ParamName, type Profile } from '../src/costmodel/profile.js';
import type { RunReport } from '../src/run.js';
import { WorkloadError } from '../src/workload/load.js';
import { ROOT, runCli, spawnCli, type Answered } from './support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'microlith-profiles-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a child: no colours, nothing inherited that changes Node. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  return env;
}

/** The command line in this process (what it says and its exit code; the CLI as a process is test/cli.test.ts's). */
const cli = (args: string[]): Promise<Answered> => runCli(args);

// ---------------------------------------------------------------------------
// The shipped profiles

describe('the shipped profiles', () => {
  const names = shippedProfiles();

  it('include the five hardware profiles', () => {
    for (const n of ['i486-50-l3', 'i486-50-mach', 'pentium-pro-1996', 'pentium-133-1997', 'skylake']) expect(names).toContain(n);
    expect(names).toEqual([...names].sort());
  });

  for (const name of names) {
    it(`${name}: loads, named as its file, every parameter with a source, a unit and a finite value >= 0`, () => {
      const p = loadProfile(name);
      expect(p.name).toBe(name);
      expect(p.file).toBe(`profiles/${name}.json`);
      expect(p.description.trim().length).toBeGreaterThan(0);
      expect(Object.keys(p.params)).toEqual(PARAM_NAMES);
      for (const n of PARAM_NAMES) {
        const q = p.params[n];
        expect(q.source.trim().length, `${n}.source`).toBeGreaterThan(0);
        expect(q.unit.trim().length, `${n}.unit`).toBeGreaterThan(0);
        expect(Number.isFinite(q.value), `${n}.value`).toBe(true);
        expect(q.value, `${n}.value`).toBeGreaterThanOrEqual(0);
        expect(p.from[n], `${n} from`).toMatch(/^profiles\/[a-z0-9.-]+\.json$/);
      }
      expect(p.params.cores.value).toBeGreaterThanOrEqual(1);
      expect(p.params.diskTransferMBps.value).toBeGreaterThan(0);
      expect([0, 1]).toContain(p.params.diskOnCpu.value);
      // the file points editors at the schema
      const raw = JSON.parse(readFileSync(join(PROFILE_DIR, `${name}.json`), 'utf8')) as { $schema?: string };
      expect(raw.$schema).toBe('../schema/profile.schema.json');
    });
  }

  // The hardware profiles (not the measured host one, whose derivations calibrate writes) show their arithmetic.
  for (const name of names.filter((n) => loadProfile(n).measured === null)) {
    // pentium-pro-1996's ipcEntryUs has a derivation in words only (see the report); it.fails until it shows a figure
    const test = it;
    test(`${name}: every derivation shows its arithmetic (contains a digit)`, () => {
      const p = loadProfile(name);
      const bad = PARAM_NAMES.filter((n) => p.params[n].derivation !== undefined && !/[0-9]/.test(p.params[n].derivation!));
      expect(bad.map((n) => `${n}: ${p.params[n].derivation}`)).toEqual([]);
    });
  }

  it('the pricing of i486-50-l3 is what its ipcOneWayUs derivation says: 2.46 + 2.54 + max(0, 5 - 5) = 5 µs a message', () => {
    const p = loadProfile('i486-50-l3');
    expect(p.params.ipcOneWayUs.derivation).toContain('2.46 + 2.54 + max(0, 5 - 5) = 5');
    expect(messageUs(p)).toBeCloseTo(2.46 + 2.54 + 0, 12);
  });
});

describe('extends: i486-50-mach is i486-50-l3 with Mach IPC', () => {
  const l3 = loadProfile('i486-50-l3');
  const mach = loadProfile('i486-50-mach');
  const own = Object.keys((JSON.parse(readFileSync(join(PROFILE_DIR, 'i486-50-mach.json'), 'utf8')) as { params: object }).params) as ParamName[];

  it('gives ipcEntryUs and ipcOneWayUs itself, different from L3', () => {
    expect(own).toContain('ipcEntryUs');
    expect(own).toContain('ipcOneWayUs');
    for (const n of ['ipcEntryUs', 'ipcOneWayUs'] as const) {
      expect(mach.from[n]).toBe('profiles/i486-50-mach.json');
      expect(mach.params[n].value).not.toBe(l3.params[n].value);
    }
    expect(mach.params.ipcEntryUs.value).toBe(18);
    expect(mach.params.ipcOneWayUs.value).toBe(115);
  });

  it('inherits every other parameter from i486-50-l3: the same value, unit and source, and `from` says so', () => {
    const inherited = PARAM_NAMES.filter((n) => !own.includes(n));
    expect(inherited.length).toBe(PARAM_NAMES.length - own.length);
    expect(inherited.length).toBeGreaterThan(0);
    for (const n of inherited) {
      expect(mach.params[n], n).toEqual(l3.params[n]);
      expect(mach.from[n], n).toBe('profiles/i486-50-l3.json');
    }
    for (const n of own) expect(mach.from[n], n).toBe('profiles/i486-50-mach.json');
    expect(mach.name).toBe('i486-50-mach');
    expect(mach.file).toBe('profiles/i486-50-mach.json');
  });

  it("a message under Mach costs its 115 µs: 18 + 2.54 (L3's switch) + 94.46", () => {
    expect(mach.params.contextSwitchUs.value).toBe(2.54);
    expect(messageUs(mach)).toBeCloseTo(115, 10);
  });

  it('a profile file of ours can extend a shipped profile too: its own parameters from it, the rest from the parent', () => {
    const f = join(dir, 'fast-copies.json');
    writeFileSync(
      f,
      JSON.stringify({ name: 'fast-copies', description: 'i486-50-l3 with faster copies', extends: 'i486-50-l3', params: { copyUsPerKiB: { value: 1, unit: 'µs/KiB', source: 'a test' } } }),
    );
    const p = loadProfile(f);
    expect(p.name).toBe('fast-copies');
    expect(p.file).toBe(f);
    expect(p.params.copyUsPerKiB.value).toBe(1);
    expect(p.from.copyUsPerKiB).toBe(f);
    for (const n of PARAM_NAMES.filter((x) => x !== 'copyUsPerKiB')) {
      expect(p.params[n], n).toEqual(l3.params[n]);
      expect(p.from[n], n).toBe('profiles/i486-50-l3.json');
    }
  });
});

// ---------------------------------------------------------------------------
// Bad profile files

/** One parameter's line, as written in the files below (no comma). */
function paramLine(n: ParamName, value: number | string = n === 'diskTransferMBps' ? 2 : n === 'diskOnCpu' ? 0 : 1): string {
  return `    "${n}": { "value": ${value}, "unit": "u", "source": "test" }`;
}

/**
 * A profile file: line 1 `{`, 2 name, 3 description, 4 `"params": {`, then
 * `first` (from line 5 on), then every other parameter not in `omit`.
 */
function profileLines(first: string[] = [], omit: ParamName[] = []): string[] {
  const named = (l: string) => /^\s*"([A-Za-z]+)"/.exec(l)?.[1];
  const given = new Set(first.map(named));
  const rest = PARAM_NAMES.filter((n) => !given.has(n) && !omit.includes(n)).map((n) => paramLine(n));
  const params = [...first, ...rest].map((l, i, all) => (i < all.length - 1 ? `${l},` : l));
  return ['{', '  "name": "bad",', '  "description": "one thing wrong",', '  "params": {', ...params, '  }', '}'];
}

/** Write `text` as `name` in the temp dir; its path. */
function write(name: string, text: string | string[]): string {
  const f = join(dir, name);
  writeFileSync(f, Array.isArray(text) ? text.join('\n') : text);
  return f;
}

/** The one-line WorkloadError message loading `file` throws. */
function loadError(file: string): string {
  try {
    loadProfile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    const m = (e as Error).message;
    expect(m).not.toMatch(/[\r\n]/);
    return m;
  }
  throw new Error(`expected ${file} to be refused, but it loaded`);
}

/** `run --profile FILE -n 10`: exit 2, nothing on stdout, exactly `microlith: LINE` on stderr, no stack. */
async function expectCliRefuses(file: string, line: string): Promise<void> {
  const r = await cli(['run', '--profile', file, '-n', '10']);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).toBe(`microlith: ${line}\n`);
}

describe('a bad profile file: one line naming the file (line:col and parameter when in the text), exit 2 from the CLI', () => {
  it('the layout used below is a valid profile (so every case fails for its own reason)', () => {
    const f = write('good.json', profileLines());
    const p = loadProfile(f);
    expect(p.name).toBe('bad');
    expect(p.params.copyUsPerKiB.value).toBe(1);
    expect(p.from.copyUsPerKiB).toBe(f);
    expect(profileLines()[4]).toBe('    "cores": { "value": 1, "unit": "u", "source": "test" },');
  });

  const cases: [string, () => [string, string[] | string], (f: string) => string][] = [
    [
      'a missing parameter without extends (at the params object, 4:13)',
      () => ['missing.json', profileLines([], ['syscallUs'])],
      (f) =>
        `${f}:4:13 params.syscallUs: missing: every parameter needs a value and a source (the monolithic kernel's system call: kernel entry and exit (µs)), unless "extends" names a profile that has it`,
    ],
    [
      'a negative value (at the value, 5:32)',
      () => ['negative.json', profileLines(['    "copyUsPerKiB": { "value": -1, "unit": "µs/KiB", "source": "test" }'])],
      (f) => `${f}:5:32 params.copyUsPerKiB.value: expected a number from 0 to 1000000000`,
    ],
    [
      'a value over 10^9',
      () => ['huge.json', profileLines(['    "copyUsPerKiB": { "value": 1e10, "unit": "µs/KiB", "source": "test" }'])],
      (f) => `${f}:5:32 params.copyUsPerKiB.value: expected a number from 0 to 1000000000`,
    ],
    [
      'a parameter without a source (at its object, 5:18)',
      () => ['nosource.json', profileLines(['    "syscallUs": { "value": 1, "unit": "µs" }'])],
      (f) => `${f}:5:18 params.syscallUs.source: missing (expected a string of 3 to 2000 characters)`,
    ],
    [
      'a source too short to say anything (at the string, 5:56)',
      () => ['shortsource.json', profileLines(['    "syscallUs": { "value": 1, "unit": "µs", "source": "" }'])],
      (f) => `${f}:5:56 params.syscallUs.source: expected a string of 3 to 2000 characters, got 0 characters`,
    ],
    [
      'an unknown top-level key (at the key, 2:3)',
      () => ['unknown-top.json', ['{', '  "colour": "red",', ...profileLines().slice(1)]],
      (f) => `${f}:2:3 (top level): unknown key 'colour' (known keys: $schema, name, description, extends, measured, params)`,
    ],
    [
      'an unknown parameter (at the key, 5:5)',
      () => ['unknown-param.json', profileLines(['    "cacheUs": { "value": 1, "unit": "µs", "source": "test" }'])],
      (f) => `${f}:5:5 params: unknown key 'cacheUs' (known keys: ${PARAM_NAMES.join(', ')})`,
    ],
    [
      'an unknown key in a parameter (at the key, 5:64)',
      () => ['unknown-field.json', profileLines(['    "syscallUs": { "value": 1, "unit": "µs", "source": "test", "error": 0.1 }'])],
      (f) => `${f}:5:64 params.syscallUs: unknown key 'error' (known keys: value, unit, source, derivation)`,
    ],
    [
      'cores 0 (at the value, 5:25)',
      () => ['cores0.json', profileLines(['    "cores": { "value": 0, "unit": "count", "source": "test" }'])],
      (f) => `${f}:5:25 params.cores.value: expected at least 1 processor`,
    ],
    [
      'cores 0.5',
      () => ['cores05.json', profileLines(['    "cores": { "value": 0.5, "unit": "count", "source": "test" }'])],
      (f) => `${f}:5:25 params.cores.value: expected at least 1 processor`,
    ],
    [
      'diskTransferMBps 0 (at the value, 5:36)',
      () => ['mbps0.json', profileLines(['    "diskTransferMBps": { "value": 0, "unit": "MB/s", "source": "test" }'])],
      (f) => `${f}:5:36 params.diskTransferMBps.value: expected a transfer rate > 0`,
    ],
    [
      'diskOnCpu 2 (at the value, 5:29)',
      () => ['oncpu2.json', profileLines(['    "diskOnCpu": { "value": 2, "unit": "flag", "source": "test" }'])],
      (f) => `${f}:5:29 params.diskOnCpu.value: expected 0 or 1`,
    ],
    [
      'a value given as a string (at the value, 5:27)',
      () => ['string.json', profileLines(['    "frameUs": { "value": "21", "unit": "µs", "source": "test" }'])],
      (f) => `${f}:5:27 params.frameUs.value: expected a number from 0 to 1000000000, got the string "21"`,
    ],
    [
      'extends naming neither a shipped profile nor a .json file (3:14)',
      () => ['extends-path.json', ['{', '  "name": "bad",', '  "extends": "../x/cyc",', '  "description": "d",', '  "params": {}', '}']],
      (f) => `${f}:3:14 extends: expected the name of a shipped profile or a .json file`,
    ],
    [
      'truncated JSON (at the end of the text: line 5 is 59 characters, 5:60)',
      () => ['truncated.json', profileLines().slice(0, 5)],
      (f) => `${f}:5:60 params: the file ends too early (truncated?)`,
    ],
    [
      'JSON with a trailing comma (at the brace, 1:18)',
      () => ['notjson.json', '{ "name": "bad", }\n'],
      (f) => `${f}:1:18 (top level): trailing comma before '}'`,
    ],
  ];

  for (const [what, make, want] of cases) {
    it(`${what}: loadProfile and the CLI say the same one line`, async () => {
      const [name, text] = make();
      const f = write(name, text);
      expect(loadError(f)).toBe(want(f));
      await expectCliRefuses(f, want(f));
    });
  }

  it('a file that is not there names itself', async () => {
    const f = join(dir, 'nowhere.json');
    expect(loadError(f)).toBe(`${f}: cannot read: no such file (ENOENT)`);
    await expectCliRefuses(f, `${f}: cannot read: no such file (ENOENT)`);
  });

  it('cores 1.5 is a valid profile: fractional processors are allowed (the host\'s cores is fitted)', () => {
    const f = write('cores15.json', profileLines(['    "cores": { "value": 1.5, "unit": "count", "source": "test" }']));
    expect(loadProfile(f).params.cores.value).toBe(1.5);
  });

  it('an unknown shipped name given to --profile: one line listing what is shipped', async () => {
    const line = `unknown cost profile 'no-such-profile' (shipped: ${shippedProfiles().join(', ')}; or give a path to a .json file)`;
    expect(loadError('no-such-profile')).toBe(line);
    await expectCliRefuses('no-such-profile', line);
  });

  describe('extends naming an unknown profile', () => {
    const text = ['{', '  "name": "bad",', '  "extends": "no-such-profile",', '  "description": "d",', '  "params": {}', '}'];

    it('is refused with one line naming the unknown profile, exit 2, no stack trace', async () => {
      const f = write('extends-unknown.json', text);
      const m = loadError(f);
      expect(m).toContain("'no-such-profile'");
      const r = await cli(['run', '--profile', f, '-n', '10']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('    at ');
      expect(r.stderr).toBe(`microlith: ${m}\n`);
    });

    it('names the file whose "extends" is wrong', () => {
      const f = write('extends-unknown.json', text);
      expect(loadError(f)).toBe(`${f}: "extends": unknown cost profile 'no-such-profile' (shipped: ${shippedProfiles().join(', ')}; or give a path to a .json file)`);
    });

    it('a .json "extends" is found beside the file that names it, and a missing one is named', () => {
      const f = write('extends-missing.json', ['{', '  "name": "bad",', '  "extends": "missing-parent.json",', '  "description": "d",', '  "params": {}', '}']);
      expect(loadError(f)).toBe(`${join(dirname(f), 'missing-parent.json')}: cannot read: no such file (ENOENT)`);
      write('parent-here.json', readFileSync(join(PROFILE_DIR, 'skylake.json'), 'utf8').replace('"name": "skylake"', '"name": "parent-here"'));
      const child = write('child-here.json', ['{', '  "name": "child",', '  "extends": "parent-here.json",', '  "description": "d",', '  "params": { "cores": { "value": 2, "unit": "count", "source": "test" } }', '}']);
      const p = loadProfile(child);
      expect(p.params.cores.value).toBe(2);
      expect(p.from.syscallUs).toBe(join(dirname(child), 'parent-here.json'));
      expect(p.params.syscallUs).toEqual(loadProfile('skylake').params.syscallUs);
    });
  });

  describe('extends cycles (a .json "extends" is resolved beside the file that names it)', () => {
    const cycle = (name: string, target: string) => ['{', `  "name": "${name.replace('.json', '')}",`, `  "extends": "${target}",`, '  "description": "d",', '  "params": {}', '}'];
    const here = process.cwd();

    /** loadProfile(`file`) with the temp dir as the working directory. */
    function loadErrorInDir(file: string): string {
      process.chdir(dir);
      try {
        return loadError(file);
      } finally {
        process.chdir(here);
      }
    }

    it('a file extending itself', () => {
      write('self.json', cycle('self.json', 'self.json'));
      expect(loadErrorInDir('self.json')).toBe('self.json: "extends" goes round in a circle (self.json -> self.json)');
    });

    it('two files extending each other', () => {
      write('ping.json', cycle('ping.json', 'pong.json'));
      write('pong.json', cycle('pong.json', 'ping.json'));
      expect(loadErrorInDir('ping.json')).toBe('ping.json: "extends" goes round in a circle (ping.json -> pong.json -> ping.json)');
    });

    it('through the CLI: exit 2, one line, no stack trace', () => {
      write('self.json', cycle('self.json', 'self.json'));
      // the CLI started in the temp dir (so "self.json" is found there), by its path
      const r = spawnCli(['run', '--profile', 'self.json', '-n', '10'], { cwd: dir, env: childEnv(), timeout: 60_000 });
      if (r.error) throw r.error;
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('microlith: self.json: "extends" goes round in a circle (self.json -> self.json)\n');
    });
  });
});

// ---------------------------------------------------------------------------
// The JSON Schema for editors

describe('schema/profile.schema.json', () => {
  const committed = readFileSync(join(ROOT, 'schema', 'profile.schema.json'), 'utf8');

  it('is exactly what `npm run schema` writes from the zod schema now', () => {
    expect(committed).toBe(`${JSON.stringify(profileJsonSchema(), null, 2)}\n`);
  });

  it('matches profileJsonSchema() as an object, and lists every parameter', () => {
    const schema = JSON.parse(committed) as ReturnType<typeof profileJsonSchema>;
    expect(schema).toEqual(profileJsonSchema());
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties!.params.properties!)).toEqual(PARAM_NAMES);
  });

  it('scripts/gen-schema.ts --check agrees', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-schema.ts', '--check'], { cwd: ROOT, encoding: 'utf8', env: childEnv(), timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// The command line

describe('the CLI prices with --profile', () => {
  it('run -n 200 --profile skylake: the text labels the modelled figures "modelled (skylake)"', async () => {
    const r = await cli(['run', '-n', '200', '--profile', 'skylake']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('modelled (skylake)');
    expect(r.stdout).not.toContain('modelled (pentium-pro-1996)');
  });

  it('run -n 200 --profile skylake --json: modelled.profile is skylake, its figures consistent', async () => {
    const r = await cli(['run', '-n', '200', '--profile', 'skylake', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.modelled.profile).toBe('skylake');
    expect(report.modelled.label).toBe('modelled (skylake)');
    expect(report.modelled.requestsPerSec).toBeGreaterThan(0);
    // skylake's 0.74 µs of app work per request, one app request per request
    expect(report.modelled.perRequestUs.app).toBeCloseTo(loadProfile('skylake').params.appRequestUs.value * (report.counters.appRequests / 200), 4);
  });

  it('bench ipc --profile i486-50-l3: the modelled round trip is 2 × 5 µs plus the counted copies at 41 µs/KiB', async () => {
    const r = await cli(['bench', 'ipc', '--transports', 'copy', '--signals', 'message', '--sizes', '8', '--effort', '0.05', '--profile', 'i486-50-l3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      options: { profile: string };
      results: { transport: string; signal: string; sizeBytes: number; bytesCopiedPerRoundTrip: number; modelled: { label: string; roundTripUs: number } }[];
    };
    expect(out.options.profile).toBe('i486-50-l3');
    expect(out.results).toHaveLength(1);
    const [res] = out.results;
    expect([res.transport, res.signal, res.sizeBytes]).toEqual(['copy', 'message', 8]);
    // the copy transport copies the 8-byte payload each way
    expect(res.bytesCopiedPerRoundTrip).toBeGreaterThanOrEqual(2 * 8);
    // 2 messages × 5 µs (2.46 entry + 2.54 switch + max(0, 5 − 5)) + bytes / 1024 × 41 µs, to 3 decimals
    const want = Math.round((2 * 5 + (res.bytesCopiedPerRoundTrip / 1024) * 41) * 1000) / 1000;
    expect(res.modelled).toEqual({ label: 'modelled (i486-50-l3)', roundTripUs: want });
    if (res.bytesCopiedPerRoundTrip === 16) expect(res.modelled.roundTripUs).toBe(10.641); // 10 + 16/1024 × 41 = 10.640625
  });

  it('a bad --profile stops bench ipc before it measures: exit 2, one line', async () => {
    const r = await cli(['bench', 'ipc', '--transports', 'copy', '--signals', 'message', '--sizes', '8', '--effort', '0.05', '--profile', 'no-such-profile']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("microlith: unknown cost profile 'no-such-profile'");
    expect(r.stderr).not.toContain('round trip');
  });

  it('calibrate --out FILE --effort 0.02 writes a profile that loads, every parameter measured by microlith calibrate', async () => {
    const f = join(dir, 'calibrated.json');
    const r = await cli(['calibrate', '--out', f, '--effort', '0.02', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(f)).toBe(true);
    const p: Profile = loadProfile(f);
    expect(p.name).toBe('host');
    expect(p.file).toBe(f);
    expect(p.measured).not.toBeNull();
    expect(p.measured!.node).toBe(process.version);
    for (const n of PARAM_NAMES) {
      expect(p.params[n].source, n).toContain('microlith calibrate');
      expect(p.from[n], n).toBe(f);
      expect(Number.isFinite(p.params[n].value), n).toBe(true);
    }
    // what --json printed is what was written (without the $schema pointer)
    const written = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    // the pointer leads from where the file is to the package's schema
    expect(resolve(dirname(f), written.$schema as string)).toBe(join(ROOT, 'schema', 'profile.schema.json'));
    const { $schema: _schema, ...rest } = written;
    expect(JSON.parse(r.stdout)).toEqual(rest);
  });
});
