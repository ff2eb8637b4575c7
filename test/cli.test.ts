/**
 * The command line as a user meets it: a child process started from the repo
 * root with `node dist/cli.js ...`. Exit codes (0 done, 1 the run
 * failed, 2 bad usage or bad input), stdout carrying only the JSON report with
 * --json, and bad input answered with one line naming the problem, never a
 * stack trace.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../src/compare.js';
import type { RunReport } from '../src/run.js';
import { ROOT, spawnCli } from './support/cli.js';

const CHILD_TIMEOUT_MS = 60_000;

interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI with `args`; never hangs the suite (the child is killed after CHILD_TIMEOUT_MS). */
function cli(...args: string[]): Result {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  const r = spawnCli(args, { env, timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/**
 * A bad-usage answer: exit 2, nothing on stdout, no stack trace, and a first
 * stderr line "microlith: ..." matching `problem`. A usage error (not a bad
 * input file) may add one line pointing to --help.
 */
function expectBadUsage(r: Result, problem: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toContain('    at ');
  const ls = lines(r.stderr);
  expect(ls.length).toBeGreaterThanOrEqual(1);
  expect(ls[0]).toMatch(/^microlith: /);
  expect(ls[0]).toMatch(problem);
  expect(ls.length, r.stderr).toBeLessThanOrEqual(2);
  if (ls.length === 2) expect(ls[1]).toMatch(/--help/);
}

/** A bad input file: exit 2, nothing on stdout, and exactly `microlith: <line>` on stderr (no usage hint). */
function expectBadFile(r: Result, line: string): void {
  expect(r.signal).toBeNull();
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`microlith: ${line}\n`);
}

describe('help and usage errors', () => {
  it('--help exits 0 and lists the run and compare commands', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s*microlith run\b/m);
    expect(r.stdout).toMatch(/^\s*microlith compare\b/m);
    expect(r.stderr).not.toContain('    at ');
  });

  it('an unknown flag exits 2 with one line naming it, and no stack trace', () => {
    const r = cli('run', '--frobnicate');
    expectBadUsage(r, /frobnicate/);
  });

  it('an unknown workload exits 2 naming it (and what is shipped)', () => {
    const r = cli('run', '--workload', 'nosuch');
    expectBadUsage(r, /nosuch/);
    expect(r.stderr).toContain('specweb96');
  });

  it('a malformed --fault exits 2 naming the flag', () => {
    expectBadUsage(cli('run', '--fault', 'disk'), /--fault/);
  });

  it('an unknown compare label exits 2 naming the transport', () => {
    expectBadUsage(cli('compare', '--modes', 'monolithic,microkernel:teleport', '-n', '10'), /teleport/);
  });
});

describe('malformed workload files', () => {
  let dir: string;
  const base = JSON.parse(readFileSync(join(ROOT, 'workloads', 'specweb96.json'), 'utf8')) as Record<string, unknown>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'microlith-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, content: unknown): string {
    const file = join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  }

  it('an unknown top-level key exits 2 with a message naming the file and the key', () => {
    const file = write('extra-key.json', { ...base, frobs: 1 });
    const r = cli('run', '--workload', file, '-n', '10');
    expectBadUsage(r, /frobs/);
    expect(lines(r.stderr)[0]).toContain(file);
    // JSON.stringify(..., null, 2): 85 lines of specweb96 (each class 15 lines), then frobs
    expectBadFile(
      r,
      `${file}:86:3 (top level): unknown key 'frobs' (known keys: $schema, name, description, sources, seed, requests, clients, arrival, durationMs, fileSet, popularity, services)`,
    );
  });

  it('an unknown nested key names the enclosing field too', () => {
    const file = write('nested-key.json', { ...base, fileSet: { ...(base.fileSet as object), depth: 3 } });
    const r = cli('run', '--workload', file, '-n', '10');
    expectBadUsage(r, /depth/);
    expect(lines(r.stderr)[0]).toContain(file);
    expect(lines(r.stderr)[0]).toContain('fileSet');
    expectBadFile(r, `${file}:75:5 fileSet: unknown key 'depth' (known keys: directories, classes)`);
  });

  it('an out-of-range value names the field', () => {
    const file = write('zero-clients.json', { ...base, clients: 0 });
    const r = cli('run', '--workload', file, '-n', '10');
    expectBadUsage(r, /clients/);
    expect(lines(r.stderr)[0]).toContain(file);
    expectBadFile(r, `${file}:10:14 clients: expected an integer from 1 to 4096`);
  });

  it('text that is not JSON exits 2 naming the file and where the text ends', () => {
    const file = write('broken.json', '{ "name": "broken", ');
    const r = cli('run', '--workload', file, '-n', '10');
    expectBadFile(r, `${file}:1:21 (top level): the file ends too early (truncated?)`);
  });
});

describe('validate: a bad file is one line on stderr, exit 2, no usage hint', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'microlith-validate-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string | Buffer): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const good = [
    '{',
    '  "name": "tiny",',
    '  "seed": 7,',
    '  "requests": 100,',
    '  "clients": 4,',
    '  "fileSet": { "directories": 1, "classes": [{ "name": "a", "weight": 1, "sizes": [10] }] },',
    '  "popularity": { "kind": "zipf", "exponent": 1 }',
    '}',
  ];

  it('a good file: exit 0, one line on stdout naming it, nothing on stderr', () => {
    const f = file('good.json', good.join('\n'));
    const r = cli('validate', f);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${f}: ok (workload 'tiny', 100 requests, 4 clients)\n`);
    expect(r.stderr).toBe('');
  });

  it('a zero weight: file:line:col, the field and what it expects', () => {
    // line 6, column 71: the 0 after "weight":
    const f = file('weight.json', good.join('\n').replace('"weight": 1', '"weight": 0'));
    expectBadFile(cli('validate', f), `${f}:6:71 fileSet.classes[0].weight: expected a number > 0`);
  });

  it('an unknown key: the place of the key', () => {
    const f = file('key.json', good.join('\n').replace('"seed": 7,', '"seed": 7, "sed": 8,'));
    expectBadFile(
      cli('validate', f),
      `${f}:3:14 (top level): unknown key 'sed' (known keys: $schema, name, description, sources, seed, requests, clients, arrival, durationMs, fileSet, popularity, services)`,
    );
  });

  it('a __proto__ key is refused by name and place', () => {
    const f = file('proto.json', good.join('\n').replace('"kind": "zipf",', '"kind": "zipf", "__proto__": { "polluted": true },'));
    expectBadFile(cli('validate', f), `${f}:7:35 popularity: key '__proto__' is not allowed (__proto__, constructor and prototype are refused)`);
  });

  it('a trailing comma in an array (JSON.parse gives no position): the place of the bracket', () => {
    const f = file('comma.json', good.join('\n').replace('"sizes": [10]', '"sizes": [10,]'));
    expectBadFile(cli('validate', f), `${f}:6:87 fileSet.classes[0].sizes: trailing comma before ']'`);
  });

  it('bytes that are not UTF-8', () => {
    const text = good.join('\n');
    const at = text.indexOf('tiny') + 2;
    const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff]), Buffer.from(text.slice(at))]);
    const f = file('latin.json', bytes);
    expectBadFile(cli('validate', f), `${f}:2:14 name: not UTF-8 text (byte 0xFF here); save the file as UTF-8`);
  });

  it('an empty file, a missing file and a directory', () => {
    const empty = file('empty.json', '');
    expectBadFile(cli('validate', empty), `${empty}:1:1 (top level): the file is empty (expected a JSON object)`);
    const missing = join(dir, 'nope.json');
    expectBadFile(cli('validate', missing), `${missing}: cannot read: no such file (ENOENT)`);
    expectBadFile(cli('validate', dir), `${dir}: is a directory, not a workload file`);
  });
});

describe('runs', () => {
  it('run --mode microkernel -n 400 --json: exit 0, stdout is exactly one JSON report', () => {
    const r = cli('run', '--mode', 'microkernel', '-n', '400', '--json');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport; // throws if anything else is on stdout
    expect(r.stdout.trim().startsWith('{')).toBe(true);
    expect(r.stdout.trim().endsWith('}')).toBe(true);
    expect(report.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(report.tool.name).toBe('microlith');
    expect(report.mode).toBe('microkernel');
    expect(report.transport).toBe('copy');
    expect(report.config.mode).toBe('microkernel');
    expect(report.workload.name).toBe('specweb96');
    expect(report.workload.requests).toBe(400);
    expect(report.outcomes).toMatchObject({ ok: 400, fail: 0, info: 0, pending: 0 });
    expect(report.throughput.requestsPerSec).toBeGreaterThan(0);
    expect(report.latencyUs!.p50).toBeLessThanOrEqual(report.latencyUs!.p99);
    // (p99 <= max is not asserted: see the known latency bug in report-fields.test.ts)
    expect(report.latencyUs!.p50).toBeLessThanOrEqual(report.latencyUs!.max);
    expect(report.counters.ipcMessages).toBeGreaterThan(0);
    expect(report.counters).toHaveProperty('crossings');
    expect(report.counters).toHaveProperty('bytesCopied');
    expect(typeof report.digest).toBe('string');
    expect(report.status).toBe('ok');
    // the human summary went to stderr, not stdout
    expect(r.stderr).toContain(report.digest);
  });

  it('run --fault disk@200 -n 2000 --json: exit 1, the report says failed and names the disk', () => {
    const r = cli('run', '--fault', 'disk@200', '-n', '2000', '--json');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('    at ');
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.status).toBe('failed');
    expect(report.mode).toBe('monolithic');
    // in the monolith the disk's crash is a panic of the whole system, struck at the disk's message 200
    expect(report.faults).toEqual([
      {
        server: 'disk',
        kind: 'panic',
        message: expect.any(String),
        outcome: 'system-down',
        planned: 'disk:crash@message=200',
        atMs: expect.any(Number),
        request: expect.any(Number),
        atMessage: 200,
        noticedAtMs: expect.any(Number),
        incarnation: 1,
      },
    ]);
    expect(report.config.faults).toEqual([{ server: 'disk', kind: 'crash', trigger: { on: 'message', at: 200 } }]);
    expect(report.faultPlan).toEqual([{ spec: 'disk:crash@message=200', struck: true, atMs: expect.any(Number), request: expect.any(Number), atMessage: 200 }]);
    expect(report.servers.disk).toMatchObject({ crashed: true, restarts: 0, incarnations: 1 });
    expect(report.outcomes.pending).toBe(0);
    const o = report.outcomes;
    expect(o.ok + o.fail + o.info + o.pending + o.notIssued).toBe(2000);
  });

  it('compare -n 300 --rounds 1 --warmup 0 --json: exit 0 with two results', () => {
    const r = cli('compare', '-n', '300', '--rounds', '1', '--warmup', '0', '--json');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Comparison;
    expect(c.baseline).toBe('monolithic');
    expect(c.rounds).toBe(1);
    expect(c.digestsEqual).toBe(true);
    expect(c.results.map((x) => x.label)).toEqual(['monolithic', 'microkernel:copy']);
    for (const res of c.results) {
      expect(res.reports).toHaveLength(1);
      expect(res.reports[0].workload.requests).toBe(300);
      expect(res.requestsPerSec.median).toBeGreaterThan(0);
    }
    expect(c.results[0].ratio.median).toBe(1);
  });
});
