/**
 * The command line's exports and batch commands, run in-process through
 * `main()` with a captured CliIo: --csv/--markdown/--html (a file, or - for
 * stdout, which then carries nothing else), run's and compare's --trace,
 * compare --seeds and --baseline with --fail-above, and sweep (--list,
 * --shard, a Slurm array's environment, --dir) with merge. Every refusal is
 * exit 2 with one line naming the flag, before any run.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Comparison } from '../src/compare.js';
import { CSV_COLUMNS, parseCsv } from '../src/report/export.js';
import { spawnCli } from './support/cli.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the command line in this process; `env` is set for the call and restored after. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main([...args, '--no-color'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const lines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== '');

/** A refusal: exit 2, nothing on stdout, a first stderr line `microlith: ...` matching `problem`, and no run started. */
function expectRefused(r: Result, problem: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/^running /m);
  expect(lines(r.stderr)[0]).toMatch(/^microlith: /);
  expect(lines(r.stderr)[0]).toMatch(problem);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'microlith-cli-exports-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type TraceFile = {
  traceEvents: { name: string; ph: string; pid: number; args?: Record<string, unknown> }[];
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
};

/** pid -> name of every process_name event. */
const processNames = (t: TraceFile) => new Map(t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, String(e.args?.name)]));

describe('color', () => {
  /** main() as it is, without the --no-color that cli() adds. */
  async function bare(args: string[]): Promise<string> {
    let stdout = '';
    const code = await main(args, { out: (t) => void (stdout += t), err: () => undefined });
    expect(code).toBe(0);
    return stdout;
  }

  it('--color colors the kinds of figure; a later --no-color takes every code away, the kinds included', async () => {
    expect(await bare(['run', '-n', '20', '--color'])).toMatch(/\x1b\[36mhost-measured/);
    const plainText = await bare(['run', '-n', '20', '--no-color']);
    expect(plainText).toContain('host-measured');
    expect(plainText).not.toContain('\x1b[');
  });

  it('CI=1 with output into a pipe: no color (picocolors alone would color it)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const r = spawnCli(['run', '-n', '20'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('host-measured');
    expect(r.stdout).not.toContain('\x1b[');
  });
});

describe('main() side by side', () => {
  it('two calls at once in one process each write to their own streams', async () => {
    const a = { out: '', err: '' };
    const b = { out: '', err: '' };
    const [ca, cb] = await Promise.all([
      main(['run', '-n', '20', '--no-color'], { out: (t) => void (a.out += t), err: (t) => void (a.err += t) }),
      main(['workloads', '--no-color'], { out: (t) => void (b.out += t), err: (t) => void (b.err += t) }),
    ]);
    expect([ca, cb]).toEqual([0, 0]);
    expect(a.out).toMatch(/^microlith run: specweb96 under monolithic\n/);
    expect(a.out).not.toMatch(/^ftp-bulk /m);
    expect(b.out).toMatch(/^ftp-bulk /m);
    expect(b.out + b.err).not.toMatch(/microlith run|running specweb96/);
  });

  it('calls at once print exactly what each prints alone, stdout and stderr alike', async () => {
    const commands = [['validate', 'workloads/dns.json'], ['lab', 'list'], ['lab', 'show', 'copies', '-s', '7'], ['validate', 'no-such-workload.json']];
    const alone: Result[] = [];
    for (const c of commands) alone.push(await cli(c));
    // each alone printed something of its own, so a line that crossed over shows
    expect(alone.map((r) => r.code)).toEqual([0, 0, 0, 2]);
    expect(alone[3].stderr).toMatch(/^microlith: no-such-workload\.json: /);
    expect(new Set(alone.map((r) => r.stdout + r.stderr)).size).toBe(commands.length);
    expect(await Promise.all(commands.map((c) => cli(c)))).toEqual(alone);
  });
});

describe('run: exports', () => {
  it('--csv - prints only the CSV on stdout, a header and one row; the text report goes to stderr', async () => {
    const r = await cli(['run', '-n', '200', '--csv', '-']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(CSV_COLUMNS.map((c) => c.name));
    const row = Object.fromEntries(rows[0].map((k, i) => [k, rows[1][i]]));
    expect(row).toMatchObject({ label: 'monolithic', mode: 'monolithic', round: '0', status: 'ok' });
    expect(Number(row.requests_per_sec_host)).toBeGreaterThan(0);
    expect(r.stdout.endsWith('\r\n')).toBe(true);
    // the text report (which prints the digest) went to stderr, and nothing said where the CSV went
    expect(r.stderr).toContain(row.digest);
    expect(r.stdout).not.toContain('microlith run');
    expect(r.stderr).not.toMatch(/wrote the CSV/);
  });

  it('--markdown FILE and --html FILE write files (HTML without scripts); stdout keeps the text report', async () => {
    const md = join(dir, 'run.md');
    const html = join(dir, 'run.html');
    const r = await cli(['run', '-n', '200', '--markdown', md, '--html', html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote the Markdown table to ${md}`);
    expect(r.stderr).toContain(`wrote the HTML report to ${html}`);
    const m = readFileSync(md, 'utf8');
    expect(m).toMatch(/^\*\*microlith run: specweb96\*\*/);
    expect(m.split('\n').filter((l) => l.startsWith('| monolithic |'))).toHaveLength(1);
    const h = readFileSync(html, 'utf8');
    expect(h).toMatch(/^<!doctype html>/i);
    expect(h).not.toMatch(/<script/i);
    expect(h.trimEnd().endsWith('</html>')).toBe(true);
    // the text report is on stdout (neither export took it)
    expect(r.stdout).not.toBe('');
    expect(r.stdout).not.toContain('<!DOCTYPE');
  });

  it('--json with --csv - is refused: both would go to stdout', async () => {
    expectRefused(await cli(['run', '-n', '200', '--json', '--csv', '-']), /--json and --csv would all go to stdout/);
    expectRefused(await cli(['run', '-n', '200', '--json', '-', '--csv', '-']), /--json and --csv would all go to stdout/);
  });

  it('--json - is stdout as --json is; --json FILE writes the file (no temp file left) and stdout keeps the text report', async () => {
    const dash = await cli(['run', '-n', '50', '--json', '-', '-q']);
    expect(dash.code, dash.stderr).toBe(0);
    expect(JSON.parse(dash.stdout)).toMatchObject({ schemaVersion: 1, mode: 'monolithic', workload: { requests: 50 } });
    const sub = join(dir, 'json-file');
    mkdirSync(sub);
    const file = join(sub, 'run.json');
    writeFileSync(file, 'an older report');
    const r = await cli(['run', '-n', '50', '--json', file, '--csv', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schemaVersion: 1, mode: 'monolithic', workload: { requests: 50 } });
    expect(readdirSync(sub)).toEqual(['run.json']);
    expect(r.stderr).toContain(`wrote the JSON report to ${file}`);
    // the CSV took stdout, the text went to stderr
    expect(parseCsv(r.stdout)).toHaveLength(2);
    expectRefused(await cli(['run', '-n', '50', '--json', join(sub, 'no-such-dir', 'run.json')]), /^microlith: --json .*run\.json: the directory .*no-such-dir does not exist/);
  });

  it('--csv into a directory that does not exist is refused naming the flag, before any run', async () => {
    const file = join(dir, 'no-such-dir', 'out.csv');
    const r = await cli(['run', '-n', '200', '--csv', file]);
    expectRefused(r, /^microlith: --csv .*out\.csv: the directory .*no-such-dir does not exist/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});

describe('bench ipc: --json FILE', () => {
  it('writes the results to FILE and keeps the table on stdout; bench --json ipc says --json took ipc as its FILE', async () => {
    const file = join(dir, 'bench.json');
    const r = await cli(['bench', 'ipc', '--transports', 'copy', '--signals', 'message', '--sizes', '8', '--effort', '0.05', '--json', file, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schemaVersion: 1, kind: 'bench-ipc', results: [{ transport: 'copy', signal: 'message', sizeBytes: 8 }] });
    expect(r.stdout).toMatch(/copy/);
    expect(r.stdout).not.toContain('"kind"');
    expectRefused(await cli(['bench', '--json', 'ipc']), /^microlith: bench: say what to measure: microlith bench ipc \(--json took 'ipc' as its FILE/);
  });
});

describe('run: --trace', () => {
  it('--trace FILE --trace-requests 3 under the microkernel: a Chrome trace of requests 0, 1 and 2 across the harness and the three servers', async () => {
    const file = join(dir, 'run-trace.json');
    const r = await cli(['run', '--mode', 'microkernel', '-n', '200', '--trace', file, '--trace-requests', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote a trace of 3 requests');
    const t = JSON.parse(readFileSync(file, 'utf8')) as TraceFile;
    expect(Object.keys(t).sort()).toEqual(['displayTimeUnit', 'otherData', 'traceEvents']);
    expect(t.displayTimeUnit).toBe('ms');
    expect(t.otherData).toMatchObject({ mode: 'microkernel', transport: 'copy', workload: 'specweb96', tracedRequests: [0, 1, 2] });
    expect([...processNames(t).values()].sort()).toEqual(['app server', 'disk server', 'harness (supervisor and clients)', 'net server']);
    // every event is on a named process, and only the traced requests appear
    const named = processNames(t);
    for (const e of t.traceEvents) expect(named.has(e.pid), JSON.stringify(e)).toBe(true);
    const reqs = new Set(t.traceEvents.flatMap((e) => (typeof e.args?.reqId === 'number' ? [e.args.reqId] : [])));
    expect([...reqs].sort()).toEqual([0, 1, 2]);
  });

  it('--trace-requests without --trace is refused', async () => {
    expectRefused(await cli(['run', '-n', '200', '--trace-requests', '3']), /--trace-requests goes with --trace/);
  });
});

describe('compare: seeds, HTML and trace', () => {
  it('--seeds 1,2 --json: the seeds, and each label measured rounds × seeds = 4 times', async () => {
    const r = await cli(['compare', '-n', '200', '--rounds', '2', '--warmup', '0', '--seeds', '1,2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Comparison;
    expect(c.seeds).toEqual([1, 2]);
    expect(c.rounds).toBe(2);
    expect(c.results.map((x) => x.label)).toEqual(['monolithic', 'microkernel:copy']);
    for (const res of c.results) {
      expect(res.requestsPerSec.n).toBe(4);
      // round by round, seed by seed
      expect(res.reports.map((x) => x.workload.seed)).toEqual([1, 2, 1, 2]);
    }
    expect(Object.keys(c.digestsBySeed).sort()).toEqual(['1', '2']);
    expect(c.digestsEqual).toBe(true);
  });

  it('--seed with --seeds is refused, naming them', async () => {
    expectRefused(await cli(['compare', '-n', '200', '--seed', '1', '--seeds', '1,2']), /--seeds?\b/);
  });

  it('--html FILE draws a message sequence (one request is traced for it)', async () => {
    const file = join(dir, 'compare.html');
    const r = await cli(['compare', '-n', '200', '--rounds', '1', '--warmup', '0', '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    const h = readFileSync(file, 'utf8');
    expect(h).toMatch(/^<!doctype html>/i);
    expect(h).toContain('Message sequence of request');
    expect(h).not.toContain('No message sequence in this report');
    expect(h).not.toMatch(/<script/i);
  });

  it('--trace FILE: one file naming both labels, their processes in pid blocks of their own', async () => {
    const file = join(dir, 'compare-trace.json');
    const r = await cli(['compare', '-n', '200', '--rounds', '1', '--warmup', '0', '--trace', file, '--trace-requests', '2']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8')) as TraceFile;
    expect(t.displayTimeUnit).toBe('ms');
    expect(t.otherData.labels).toEqual([
      { label: 'monolithic', tracedRequests: [0, 1] },
      { label: 'microkernel:copy', tracedRequests: [0, 1] },
    ]);
    const named = [...processNames(t)];
    const pidsOf = (label: string) => new Set(named.filter(([, n]) => n.startsWith(`${label}: `)).map(([pid]) => pid));
    const mono = pidsOf('monolithic');
    const micro = pidsOf('microkernel:copy');
    expect(mono.size).toBe(2); // the harness and the one kernel domain
    expect(micro.size).toBe(4); // the harness and three servers
    expect([...mono].filter((p) => micro.has(p))).toEqual([]);
    expect(mono.size + micro.size).toBe(named.length);
    // every event is on a process of one label or the other
    for (const e of t.traceEvents) expect(mono.has(e.pid) || micro.has(e.pid), JSON.stringify(e)).toBe(true);
  });
});

describe('compare: --baseline', () => {
  let old: string;
  const COMPARE = ['compare', '-n', '200', '--rounds', '1', '--warmup', '0'];

  beforeAll(async () => {
    const r = await cli([...COMPARE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    old = join(dir, 'old.json');
    writeFileSync(old, r.stdout);
  });

  /** A copy of the baseline, edited. */
  function edited(name: string, edit: (c: Comparison) => void): string {
    const c = JSON.parse(readFileSync(old, 'utf8')) as Comparison;
    edit(c);
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(c, null, 2));
    return file;
  }

  it('against itself: exit 0, the baseline table with no modelled change (the counted events are deterministic)', async () => {
    const r = await cli([...COMPARE, '--baseline', old, '--fail-above', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('microlith baseline: specweb96');
    expect(r.stdout).toMatch(/no regression: no label's modelled req\/s dropped by more than 5%/);
    for (const label of ['monolithic', 'microkernel:copy']) {
      const row = lines(r.stdout).find((l) => l.trimStart().startsWith(`${label} `) && /\bok\s*$/.test(l));
      expect(row, `${label}'s row in\n${r.stdout}`).toBeDefined();
      // the modelled change is the last change on the row, just before the check
      expect(row!).toMatch(/\s0%\s+ok\s*$/);
    }
  });

  it('a label whose modelled throughput was 10× higher in the baseline regressed: exit 1 naming it', async () => {
    const file = edited('old-faster.json', (c) => {
      const r = c.results.find((x) => x.label === 'microkernel:copy')!;
      r.modelled.requestsPerSec *= 10;
      for (const rep of r.reports) rep.modelled.requestsPerSec *= 10;
    });
    const r = await cli([...COMPARE, '--baseline', file, '--fail-above', '5']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`microlith: microkernel:copy regressed by more than 5% against ${file}`);
    expect(r.stderr).not.toMatch(/monolithic(, [^ ]+)? regressed/);
    expect(r.stdout).toMatch(/REGRESSED: microkernel:copy −90\.0%/);
  });

  it('a baseline of another workload is refused with exit 2, naming what differs', async () => {
    const file = edited('old-other.json', (c) => {
      c.workload.name = 'other';
    });
    const r = await cli([...COMPARE, '--baseline', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/microlith: --baseline .*old-other\.json: the baseline is not of the same comparison: workload 'other' in the baseline, 'specweb96' now/);
  });

  it('a baseline of another seed is refused with exit 2', async () => {
    const r = await cli([...COMPARE, '--seed', '7', '--baseline', old]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/microlith: --baseline .*old\.json: the baseline is not of the same comparison: seed \S+ in the baseline, 7 now/);
  });

  it('--fail-above without --baseline, and a missing or non-JSON baseline, are refused before any run', async () => {
    expectRefused(await cli([...COMPARE, '--fail-above', '5']), /--fail-above goes with --baseline/);
    const missing = join(dir, 'nope.json');
    expectRefused(await cli([...COMPARE, '--baseline', missing]), new RegExp(`--baseline ${missing}: cannot be read`));
    const bad = join(dir, 'not-json.json');
    writeFileSync(bad, '{ "results": [');
    expectRefused(await cli([...COMPARE, '--baseline', bad]), /--baseline .*not-json\.json: not JSON/);
  });
});

describe('sweep and merge', () => {
  const SWEEP = ['sweep', '--param', 'clients=2,4', '--param', 'transport=copy,shared', '-n', '150'];
  const IDS = ['clients=2,transport=copy', 'clients=2,transport=shared', 'clients=4,transport=copy', 'clients=4,transport=shared'];
  let d: string;
  /** id -> file name, from --list. */
  let files: Map<string, string>;

  const listed = (r: Result) =>
    lines(r.stdout).map((l) => {
      const m = /^(\S+)\tseed (\d+)\t([0-9a-f]{16}\.json)(\t(done|to run))?$/.exec(l);
      expect(m, l).not.toBeNull();
      return { id: m![1], seed: Number(m![2]), file: m![3], state: m![5] };
    });

  beforeAll(() => {
    d = join(dir, 'sweep');
  });

  it('--list prints every cell with its seed and file name, and runs nothing', async () => {
    const r = await cli([...SWEEP, '--list', '--dir', d]);
    expect(r.code, r.stderr).toBe(0);
    // no progress line: nothing ran, and nothing was written
    expect(r.stderr).toBe('');
    expect(existsSync(d)).toBe(false);
    const cells = listed(r);
    expect(cells.map((c) => c.id)).toEqual(IDS);
    expect(cells.map((c) => c.state)).toEqual(['to run', 'to run', 'to run', 'to run']);
    expect(new Set(cells.map((c) => c.seed)).size).toBe(4);
    expect(new Set(cells.map((c) => c.file)).size).toBe(4);
    files = new Map(cells.map((c) => [c.id, c.file]));
    // with --shard, only that shard's cells: positions 1 and 3
    const s1 = listed(await cli([...SWEEP, '--list', '--shard', '1/2']));
    expect(s1.map((c) => c.id)).toEqual([IDS[1], IDS[3]]);
  });

  it("a Slurm array task's environment picks the shard: task 1 of 2 runs cells 1 and 3 only", async () => {
    const env = { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' };
    expect(listed(await cli([...SWEEP, '--list'], env)).map((c) => c.id)).toEqual([IDS[1], IDS[3]]);
    const r = await cli([...SWEEP, '--dir', d, '-q'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(d).sort()).toEqual([files.get(IDS[1]), files.get(IDS[3])].sort());
    expect(process.env.SLURM_ARRAY_TASK_ID).toBeUndefined();
  });

  it('--shard 0/2 then --shard 1/2 into one --dir: four files in all; the second reads its cells back', async () => {
    const r0 = await cli([...SWEEP, '--shard', '0/2', '--dir', d]);
    expect(r0.code, r0.stderr).toBe(0);
    expect(readdirSync(d).sort()).toEqual([...files.values()].sort());
    const r1 = await cli([...SWEEP, '--shard', '1/2', '--dir', d]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr.match(/\(read back\)/g)).toHaveLength(2);
    expect(readdirSync(d)).toHaveLength(4);
    const done = listed(await cli([...SWEEP, '--list', '--dir', d]));
    expect(done.map((c) => c.state)).toEqual(['done', 'done', 'done', 'done']);
  });

  it('merge DIR --csv -: a header and a row per cell; merging twice gives the same CSV', async () => {
    const a = await cli(['merge', d, '--csv', '-']);
    expect(a.code, a.stderr).toBe(0);
    const rows = parseCsv(a.stdout);
    expect(rows).toHaveLength(5);
    expect(lines(a.stdout)).toHaveLength(5);
    expect(rows[0]).toEqual(CSV_COLUMNS.map((c) => c.name));
    expect(rows.slice(1).map((r) => r[0])).toEqual(IDS);
    expect(rows.slice(1).map((r) => r[rows[0].indexOf('status')])).toEqual(['ok', 'ok', 'ok', 'ok']);
    const b = await cli(['merge', d, '--csv', '-']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(a.stdout);
  });

  it('merge DIR --json, merge --json DIR and merge DIR --json - print the same JSON; merge DIR --json FILE writes it', async () => {
    const after = await cli(['merge', d, '--json', '-q']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ kind: 'microlith-sweep', complete: true });
    expect(JSON.parse(after.stdout).cells.map((c: { id: string }) => c.id)).toEqual(IDS);
    // a directory after --json is merge's DIR, never the JSON's file
    const before = await cli(['merge', '--json', d, '-q']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toBe(after.stdout);
    const dash = await cli(['merge', d, '--json', '-', '-q']);
    expect(dash.stdout).toBe(after.stdout);
    const file = join(dir, 'merged.json');
    const f = await cli(['merge', d, '--json', file, '--csv', '-']);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(after.stdout);
    expect(parseCsv(f.stdout)).toHaveLength(5);
    // a word that is no directory is --json's file: merge then lacks its DIR, and says so
    expectRefused(await cli(['merge', '--json', join(dir, 'nowhere.json')]), /^microlith: merge: name the sweep's directory: .*--json took '.*nowhere\.json' as its FILE/);
  });

  it('merge DIR as text: a sweep of cells run once each, not rounds of labels', async () => {
    const r = await cli(['merge', d, '--no-color']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^microlith sweep: specweb96, 4 cells of clients \(2, 4\) × transport \(copy, shared\), first cell\s+clients=2,transport=copy\n/);
    expect(r.stdout).toMatch(/each cell ran once under a seed of its own/);
    expect(r.stdout).toMatch(/throughput, host-measured: one run per cell:\n {2}clients=2,transport=copy +[\d,.]+ req\/s\n/);
    expect(r.stdout).not.toMatch(/interleaved round|± /);
  });

  it('merge of a directory missing a cell file exits 1 saying the cells are missing', async () => {
    const part = join(dir, 'sweep-part');
    mkdirSync(part);
    for (const f of readdirSync(d)) if (f !== files.get(IDS[2])) cpSync(join(d, f), join(part, f));
    const r = await cli(['merge', part, '--csv', '-']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`microlith: merge: 1 of 4 cells are missing (${IDS[2]}): run their shards again`);
    expect(parseCsv(r.stdout)).toHaveLength(4);
  });

  it('merge refuses the cells of another sweep in the same directory (another -n): exit 2, one line naming the setting and a file of each', async () => {
    const mixed = join(dir, 'sweep-mixed');
    cpSync(d, mixed, { recursive: true });
    const other = await cli([...SWEEP.slice(0, -1), '100', '--shard', '0/4', '--dir', mixed, '-q']);
    expect(other.code, other.stderr).toBe(0);
    const added = readdirSync(mixed).filter((f) => !readdirSync(d).includes(f));
    expect(added).toHaveLength(1);
    const r = await cli(['merge', mixed, '--csv', '-']);
    expectRefused(r, /^microlith: cannot merge cell files of different sweeps: requests=(150|100) \([0-9a-f]{16}\.json\) but requests=(150|100) \([0-9a-f]{16}\.json\); the cells of one sweep differ only in its params \(clients, transport\)/);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(lines(r.stderr)[0]).toContain(`requests=100 (${added[0]})`);
  });

  it('a bad --param value or --shard is refused before anything runs', async () => {
    const r = await cli(['sweep', '--param', 'clients=0', '-n', '150', '--dir', join(dir, 'never')]);
    expectRefused(r, /--param clients/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expectRefused(await cli([...SWEEP, '--shard', '3/2']), /--shard '3\/2'/);
  });
});
