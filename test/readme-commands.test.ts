/**
 * Every command the README shows, run: the lines of its shell blocks and the
 * commands quoted in its text, taken from the README itself (so a new example
 * is tested the day it is written), shrunk to small request counts, with the
 * exit code the README promises. `npx microlith` is the package's bin,
 * `node dist/cli.js` (npm install builds it).
 *
 * Not run here: `npm install` (CI's install step), `npm test` (this suite).
 *
 * A `microlith` command runs in this process, through the CLI's main() with the
 * command's own argv (as `node dist/cli.js` runs it, less the process around it: signals,
 * exit code, a pipe's EPIPE, which test/cli-stop.test.ts and test/cli.test.ts
 * check on real processes): a process start and a fresh image cost a second of
 * CPU each, and the README shows over forty of them. Serve, the npm scripts, the
 * benchmarks and the cluster scripts run as processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limit, ROOT, spawnAsync, type Exited } from './support/cli.js';
import { main } from '../src/cli/main.js';
import { parseLabel } from '../src/compare.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'microlith-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The environment of every child: no colours, nothing inherited that changes Node. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** The commands' processes run two at a time: most of a short run is waiting (boots, heartbeats, deadlines). */
const slots = limit(2);

/** `node dist/cli.js ARGS` as main() in this process: its exit code and what it wrote; stopped (as Ctrl-C stops it) after 120 s. */
async function inProcess(args: readonly string[]): Promise<Exited> {
  let stdout = '';
  let stderr = '';
  const stop = new AbortController();
  const guard = setTimeout(() => stop.abort(), 120_000);
  try {
    // --no-color: what NO_COLOR=1 is to a child
    const status = await main([...args, '--no-color'], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) }, stop);
    return { status, signal: null, stdout, stderr, ...(stop.signal.aborted ? { error: new Error('stopped after 120 s') } : {}) };
  } finally {
    clearTimeout(guard);
  }
}

/** Run `exe args`: the CLI in this process, anything else as a child. */
function exec(exe: string, args: readonly string[]): Promise<Exited> {
  if (exe === process.execPath && args[0] === 'dist/cli.js') return inProcess(args.slice(1));
  return spawnAsync(exe, args, { env: childEnv(), timeout: 120_000 });
}

/** The README's commands: shell block lines (comments and redirections dropped) and quoted `microlith ...` / `npm ...` spans. */
export function commandsOf(md: string): string[] {
  const found: string[] = [];
  for (const block of md.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const cmd = line.replace(/#.*$/, '').replace(/\s>\s*\S+/, '').trim();
      if (cmd) found.push(...cmd.split('&&').map((c) => c.trim()));
    }
  }
  for (const span of md.matchAll(/`((?:npx )?microlith [^`]+|npm (?:start|test|install|run [a-z]+)[^`]*)`/g)) found.push(span[1].trim());
  return [...new Set(found.map((c) => c.replace(/^npx microlith\b/, 'microlith')))];
}

/** Take `flag` and its value out of `args`, if there. */
function drop(args: string[], flag: string): void {
  const i = args.indexOf(flag);
  if (i >= 0) args.splice(i, 2);
}

/** Check the labels a bench command names with --labels as the bench takes them: a bad one throws, naming it. */
function checkLabels(args: readonly string[]): void {
  const i = args.indexOf('--labels');
  if (i >= 0) for (const l of (args[i + 1] ?? '').split(',')) parseLabel(l);
}

/**
 * The results file of a smoke run, made once for every `--check` command that compares with one:
 * the run of the same smoke, if a command before the check (`checkKey`, its run's key) shrank to
 * that (`npm run bench` does; the check names the same results folder, so it starts once that
 * run has ended), else one of its own (a run started after the check waits for it: never that).
 */
const references = new Map<string, Promise<string>>();
function referenceFor(smoke: readonly string[], command: string, checkKey: string): Promise<string> {
  const key = smoke.join(' ');
  let made = references.get(key);
  if (!made) {
    const args = ['bench/build/run.js', ...smoke];
    const keys = [...runs.keys()];
    const same = JSON.stringify([process.execPath, args]);
    const at = keys.indexOf(same);
    const ran = at >= 0 && at < keys.indexOf(checkKey) ? runs.get(same)! : spawnAsync(process.execPath, args, { env: childEnv(), timeout: 120_000 });
    made = ran.then((r) => {
      const file = /results written to (\S+)/.exec(r.stdout)?.[1];
      if (!file) throw new Error(`no reference made for '${command}': ${r.stderr.slice(-500)}`);
      return file;
    });
    references.set(key, made);
  }
  return made;
}

/** Placeholders stand for the user's own values. */
const PLACEHOLDERS: Record<string, string> = { FILE: 'my-workload.json', '<command>': 'run', DIR: 'sweep-out' };

/** Flags whose value is a file or folder the command writes or reads: kept in the test's own folder. */
const PATH_FLAGS = new Set(['--csv', '--markdown', '--html', '--trace', '--dir', '--baseline', '--results']);
const NOT_RUN = new Set(['npm install', 'npm test']);

/**
 * A command shrunk to a quick run: the executable and its args, the exit code
 * the README promises, what its text on stdout must say, if anything, and what
 * must be made before it runs (a file it reads), if anything.
 */
interface Shrunk {
  exe: string;
  args: string[];
  code: number;
  says?: RegExp;
  before?: () => Promise<void>;
}

function shrink(command: string): Shrunk {
  const shrunk = (exe: string, args: string[], code: number, says?: RegExp, before?: () => Promise<void>): Shrunk => ({ exe, args, code, ...(says ? { says } : {}), ...(before ? { before } : {}) });
  const words = command.split(/\s+/).map((w) => PLACEHOLDERS[w] ?? w);
  const set = (flag: string, value: string, aliases: string[] = []) => {
    const i = words.findIndex((w) => w === flag || aliases.includes(w));
    if (i >= 0) words[i + 1] = value;
    else words.push(flag, value);
  };
  if (words[0] === 'npm') {
    if (words[1] === 'start') return shrunk('npm', ['start', '--silent', '--', '-n', '200', '--rounds', '1', '--warmup', '0'], 0);
    if (words[2] === 'schema') return shrunk('npm', ['run', '--silent', 'schema', '--', '--check'], 0);
    // the unit group, shrunk to two of its files as other commands are shrunk to small counts (npm test runs it whole beside
    // this file): the script runs vitest's unit project and only it
    if (words[2] === 'test:unit') return shrunk('npm', ['run', '--silent', 'test:unit', '--', 'frame-codec', 'fs-image'], 0, /^(?![\s\S]*\b(channel|workers)\b)[\s\S]*\bunit\b[\s\S]*\b2 passed\b[\s\S]*\d+ passed, 0 failed/);
    if (words[2] === 'bench:http') {
      // what `npm run bench:http` runs once it has built: one short round of the monolith and the shared microkernel, as `npm run bench` is shrunk
      return shrunk(process.execPath, ['bench/build/http.js', '--rounds', '1', '--warmup', '0', '--duration-s', '1', '--connections', '8', '--paths', '100', '--labels', 'monolithic,microkernel:shared', '--out', tmp], 0, /ratio[\s\S]*microkernel:shared/);
    }
    if (words[2] === 'bench') {
      // what `npm run bench` runs once it has built, with a smoke run's counts and a results folder of its own
      const args = words.slice(words.indexOf('--') + 1 || 3);
      const sweep = args.indexOf('--spin-sweep');
      if (sweep >= 0) args[sweep + 1] = args[sweep + 1].split(',').slice(0, 2).join(',');
      // the smoke run's counts replace the command's own
      drop(args, '--rounds');
      drop(args, '--requests');
      // and without --only, its two labels replace the command's (whose labels are checked here instead): commands
      // that differ only in what the smoke run replaces are one run (runs are shared by what they run)
      const narrowed = sweep >= 0 || args.includes('--only');
      if (!narrowed) {
        checkLabels(args);
        drop(args, '--labels');
      }
      // (a run of whole 1 MiB files gets a third of the requests: each is a megabyte checksummed and hashed)
      const smoke = ['--rounds', '1', '--warmup', '0', '--requests', args.includes('large-1mib') ? '32' : '100', '--out', tmp, ...(narrowed ? [] : ['--only', 'specweb96', '--labels', 'monolithic,microkernel:shared'])];
      const check = args.indexOf('--check');
      if (check >= 0) {
        // the reference: a results file of the same smoke run, made once first; the kept ones are of full runs, which --check refuses
        const REFERENCE = '<reference>';
        if (args[check + 1] !== undefined && !args[check + 1].startsWith('--')) args[check + 1] = REFERENCE;
        else args.splice(check + 1, 0, REFERENCE);
        // one round of 100 requests is all noise: a floor of 100% makes the verdict certain (the verdicts have unit tests)
        const argv = ['bench/build/run.js', ...args, ...smoke, '--min-noise', '1'];
        return shrunk(process.execPath, argv, 0, /reference ratio[\s\S]*\nno regression\n/, async () => {
          argv[argv.indexOf(REFERENCE)] = await referenceFor(smoke, command, JSON.stringify([process.execPath, argv]));
        });
      }
      return shrunk(process.execPath, ['bench/build/run.js', ...args, ...smoke], 0);
    }
    throw new Error(`no rule to run '${command}'`);
  }
  const [, sub] = words;
  let code = 0;
  let says: RegExp | undefined;
  let before: (() => Promise<void>) | undefined;
  for (let i = 0; i < words.length - 1; i++) if (PATH_FLAGS.has(words[i]) && words[i + 1] !== '-') words[i + 1] = join(tmp, words[i + 1]);
  if (sub === 'merge') words[2] = join(tmp, words[2]);
  if (sub === 'lab') {
    if (words[2] === 'init') {
      words[4] = join(tmp, words[4]);
      says = /wrote README\.md/;
    } else if (words[2] === 'show') says = words.includes('-c') ? /^ARG lab copies, seed 7[\s\S]*Answer/ : /^ARG lab copies, seed 7\n/;
    else says = /copies[\s\S]*grant-transport/;
  }
  // the starter files as lab init made them get less than full marks: exit 1, every check reported
  if (sub === 'grade') {
    code = 1;
    says = /^== Test [\s\S]*\nScore: \d+\/\d+\n?$/;
  }
  if (words.includes('--csv') && words[words.indexOf('--csv') + 1] === '-') says = /^label,mode,transport,signal,seed,round,/;
  if (sub === 'sweep') {
    set('--requests', '100', ['-n']);
    if (words.includes('--list')) says = /^clients=8,transport=copy\tseed \d+\t[0-9a-f]{16}\.json/;
  }
  if (sub === 'run' || sub === 'compare') {
    if (words.some((w) => w.startsWith('--fault'))) {
      set('--requests', '2000', ['-n']); // the fault must be reached
      if (words.some((w) => w.endsWith(':hang'))) set('--hang-timeout-ms', '500');
      // the monolith (the default) goes down with any fault; the microkernel restarts the server and serves on
      const micro = words[words.indexOf('--mode') + 1] === 'microkernel';
      code = micro ? 0 : 1;
      if (micro) says = /^faults: 1 of 1 planned fault struck$[\s\S]*: restarted$/m;
    } else if (words.includes('--duration-ms')) set('--duration-ms', '300');
    else set('--requests', '200', ['-n']);
    if (sub === 'compare') {
      set('--rounds', '1', ['-r']);
      set('--warmup', '0');
      // a saved comparison to compare against, as `compare --json > FILE` saves one
      const b = words.indexOf('--baseline');
      if (b >= 0) {
        const file = words[b + 1];
        before = async () => {
          const saved = await exec(process.execPath, ['dist/cli.js', 'compare', '--requests', '200', '--rounds', '1', '--warmup', '0', '--json', '--quiet']);
          writeFileSync(file, saved.stdout);
        };
        says = /microlith baseline: specweb96[\s\S]*no regression/;
      }
    }
  }
  if (sub === 'faults') {
    // a campaign of two schedules in each kernel, of short runs: each verdict is still checked
    set('--campaign', '2');
    set('--requests', '100', ['-n']);
    says = /as expected/;
  }
  if (sub === 'bench') {
    set('--effort', '0.02');
    if (!words.includes('--transports')) set('--transports', 'copy');
    if (!words.includes('--signals')) set('--signals', 'message');
  }
  if (sub === 'calibrate') {
    if (words.includes('--check')) set('--requests', '5', ['-n']);
    else words.push('--effort', '0.02', '--out', join(tmp, 'host.json'));
  }
  if (sub === 'validate') {
    const file = join(tmp, basename(words[2]));
    writeFileSync(file, readFileSync(join(ROOT, 'workloads/dns.json')));
    words[2] = file;
  }
  return shrunk(process.execPath, ['dist/cli.js', ...words.slice(1)], code, says, before);
}

/** A bench run's labels (--labels), or null without them. */
function labelsIn(args: readonly string[]): string[] | null {
  const i = args.indexOf('--labels');
  return i >= 0 ? (args[i + 1] ?? '').split(',') : null;
}

/**
 * The run that stands in for `s`: a bench run that every label of `s` is in, with
 * the same arguments otherwise (the one with the most labels), or `s` itself. The
 * README shows the bench over several subsets of its labels; each is checked by
 * the bench's own label parser here, and one run of their union runs them all.
 */
function standIn(s: Shrunk, all: readonly Shrunk[]): Shrunk {
  const labels = labelsIn(s.args);
  if (s.args[0] !== 'bench/build/run.js' || !labels) return s;
  checkLabels(s.args);
  const rest = (a: readonly string[]) => JSON.stringify(a.filter((w, i) => w !== '--labels' && a[i - 1] !== '--labels'));
  let best = s;
  for (const o of all) {
    const theirs = labelsIn(o.args);
    if (o.exe !== s.exe || o.code !== s.code || String(o.says) !== String(s.says) || o.before || !theirs || rest(o.args) !== rest(s.args)) continue;
    if (labels.every((l) => theirs.includes(l)) && theirs.length > labelsIn(best.args)!.length) best = o;
  }
  return best;
}

/** The runs started, by what they run: README commands that shrink to the same run share it. */
const runs = new Map<string, Promise<Exited>>();
/** For each file or folder in the test's folder, the last run started that names it. */
const lastNaming = new Map<string, Promise<unknown>>();

/**
 * Start `s` (or find it started) in the next free slot, once every run started
 * before it that names one of its files or folders has ended: a grade after
 * its lab init, a merge after the sweeps that write its folder.
 */
function start(s: Shrunk): Promise<Exited> {
  const key = JSON.stringify([s.exe, s.args]);
  const started = runs.get(key);
  if (started) return started;
  const paths = s.args.filter((a) => a.startsWith(tmp));
  const after = paths.map((p) => lastNaming.get(p));
  const ran = (async () => {
    await Promise.all(after);
    return slots(async (): Promise<Exited> => {
      try {
        await s.before?.();
      } catch (e) {
        return { status: null, signal: null, stdout: '', stderr: '', error: e as Error };
      }
      return exec(s.exe, s.args);
    });
  })();
  runs.set(key, ran);
  for (const p of paths) lastNaming.set(p, ran);
  return ran;
}

/** A `microlith serve` process on a free port: the README's 8080 is replaced, so a busy port cannot fail the test. */
interface Served {
  child: ChildProcess;
  port: number;
  /** Exit code and output, once it has exited (killed after 90 s). */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startServe(args: string[]): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const i = args.indexOf('--port');
  if (i >= 0) args.splice(i, 2);
  const child = spawn(process.execPath, ['dist/cli.js', ...args, '--port', '0'], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      res({ code, stdout, stderr });
    }),
  );
  return new Promise((res, rej) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /at http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
      if (m) res({ child, port: Number(m[1]), done });
    });
    void done.then((e) => rej(new Error(`serve exited ${e.code} before it listened: ${e.stderr}`)));
  });
}

/** `n` GETs of `path` over 8 keep-alive connections; resolves with the statuses (or error codes) seen. */
async function load(port: number, path: string, n: number): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const seen: string[] = [];
  let next = 0;
  const one = () =>
    new Promise<string>((res) => {
      const rq = http.get({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (r) => {
        r.resume();
        r.on('end', () => res(String(r.statusCode)));
      });
      rq.on('timeout', () => rq.destroy(new Error('ETIMEDOUT')));
      rq.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    });
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < n) seen.push(await one());
  }));
  agent.destroy();
  return seen;
}

/** The load tools the README points at serve: [tool, args shrunk to a short run, what its output must say]. */
function shrinkLoadTool(command: string, port: number): [string, string[], RegExp] {
  const words = command.split(/\s+/).map((w) => w.replace('127.0.0.1:8080', `127.0.0.1:${port}`));
  const [tool, ...args] = words;
  if (tool === 'curl') return [tool, ['-sS', '--max-time', '10', ...args], args.includes('-i') || args.includes('-I') ? /^HTTP\/1\.1 200 OK\r$/m : /<a href="\/dir000\/class0_0">/];
  if (tool === 'wrk') return [tool, args.map((a) => (/^-d\d+s$/.test(a) ? '-d1s' : a)), /Requests\/sec:/];
  if (tool === 'ab') {
    const n = args.indexOf('-n');
    if (n >= 0) args[n + 1] = '500';
    return [tool, args, /Complete requests:\s+500\b[\s\S]*Failed requests:\s+0\b/];
  }
  throw new Error(`no rule to run '${command}'`);
}

const LOAD_TOOLS = new Set(['curl', 'wrk', 'ab']);
const isLoadTool = (c: string) => LOAD_TOOLS.has(c.split(/\s+/)[0]);
const isServe = (c: string) => /^microlith serve\b/.test(c);

describe('the README: serving real HTTP', () => {
  const commands = commandsOf(README);
  let shared: Served | null = null;
  beforeAll(async () => {
    if (commands.some(isLoadTool)) shared = await startServe(['serve', '--mode', 'monolithic']);
  });
  afterAll(async () => {
    if (!shared) return;
    shared.child.kill('SIGTERM');
    const e = await shared.done;
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^microlith serve: specweb96 under monolithic at http:\/\/127\.0\.0\.1:\d+\//);
  });

  for (const command of commands.filter(isLoadTool)) {
    it(command, () => {
      const [tool, args, says] = shrinkLoadTool(command, shared!.port);
      const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
      expect(r.error?.message ?? '', `${tool} is missing: CI installs it (apt-get install ${tool === 'ab' ? 'apache2-utils' : tool})`).toBe('');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(says);
    });
  }

  for (const command of commands.filter(isServe)) {
    it(command, async () => {
      const words = command.split(/\s+/).slice(1);
      const s = await startServe(words);
      const fault = words.find((w, i) => words[i - 1] === '--fault');
      const at = fault ? Number(/request=(\d+)/.exec(fault)?.[1] ?? 0) : 0;
      // a fault planned at request N must be reached: a little more load than that
      const seen = await load(s.port, '/dir000/class1_2', at ? at + 200 : 20);
      // after a restart, new connections succeed again (bounded: 200 tries, 50 ms apart)
      for (let i = 0; fault && i < 200 && (await load(s.port, '/dir000/class1_2', 1))[0] !== '200'; i++) await new Promise((r) => setTimeout(r, 50));
      s.child.kill('SIGTERM');
      const e = await s.done;
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(seen.filter((x) => x === '200').length).toBeGreaterThan(0);
      if (!words.includes('--json')) return void expect(e.stdout).toMatch(/^microlith serve: /);
      const report = JSON.parse(e.stdout) as { status: string; http: { listens: number }; faults: { outcome: string }[] };
      if (fault) {
        expect(report.faults.map((f) => f.outcome)).toEqual(['restarted']);
        expect(report.http.listens).toBe(2);
      }
    });
  }
});

/** The README's ```bash blocks (scripts for a cluster), each as its lines with continuations joined. */
function bashBlocks(md: string): string[][] {
  return [...md.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean));
}

/** A README command line as the CLI's argv, shrunk to 100 requests per cell and its --dir in the test's folder. */
function sweepArgs(line: string, dir: string): string[] {
  const words = line.replace(/^npx microlith /, '').split(/\s+/);
  for (let i = 0; i < words.length - 1; i++) {
    if (words[i] === '--requests' || words[i] === '-n') words[i + 1] = '100';
    if (words[i] === '--dir') words[i + 1] = dir;
  }
  return words;
}

describe('the README: a sweep on a cluster', () => {
  const blocks = bashBlocks(README);

  it('the Slurm job array: every array task runs its shard, and the merge has every cell', async () => {
    const script = blocks.find((b) => b.some((l) => l.startsWith('#SBATCH')));
    expect(script, 'a Slurm script in a bash block').toBeDefined();
    const [lo, hi] = /#SBATCH --array=(\d+)-(\d+)/.exec(script!.join('\n'))!.slice(1).map(Number);
    const line = script!.find((l) => l.startsWith('npx microlith sweep'))!;
    const dir = join(tmp, 'slurm-out');
    const env = childEnv({ SLURM_ARRAY_TASK_MIN: String(lo), SLURM_ARRAY_TASK_COUNT: String(hi - lo + 1) });
    // the array's tasks run side by side, as Slurm runs them
    const tasks = Array.from({ length: hi - lo + 1 }, (_, i) =>
      slots(() => spawnAsync(process.execPath, ['dist/cli.js', ...sweepArgs(line, dir), '--quiet'], { env: { ...env, SLURM_ARRAY_TASK_ID: String(lo + i) }, timeout: 120_000 })),
    );
    for (const r of await Promise.all(tasks)) expect(r.status, r.stderr).toBe(0);
    const merged = spawnSync(process.execPath, ['dist/cli.js', 'merge', dir, '--json', '--quiet'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(merged.status, merged.stderr).toBe(0);
    const result = JSON.parse(merged.stdout) as { cells: unknown[]; missing: string[] };
    expect(result.missing).toEqual([]);
    expect(result.cells).toHaveLength(9); // 3 clients × 3 labels
  });

  it('the GNU parallel line: four shards, then one merge with every cell', () => {
    const line = blocks.flat().find((l) => l.startsWith('parallel '));
    expect(line, 'a GNU parallel line in a bash block').toBeDefined();
    const dir = join(tmp, 'parallel-out');
    const [, jobs, command, inputs] = /^parallel (-j\d+) npx microlith (.*?) ::: (.*)$/.exec(line!)!;
    const argv = sweepArgs(command, dir);
    const env = childEnv();
    const r = spawnSync('parallel', [jobs, process.execPath, join(ROOT, 'dist/cli.js'), ...argv, '--quiet', ':::', ...inputs.split(/\s+/)], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.error?.message ?? '', 'GNU parallel is missing: CI installs it (apt-get install parallel)').toBe('');
    expect(r.status, r.stderr).toBe(0);
    const merged = spawnSync(process.execPath, ['dist/cli.js', 'merge', dir, '--json', '--quiet'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(merged.status, merged.stderr).toBe(0);
    expect((JSON.parse(merged.stdout) as { cells: unknown[] }).cells).toHaveLength(6);
  });
});

describe('the README', () => {
  const commands = commandsOf(README);

  it('shows the two set-up commands first, and the examples this test runs', () => {
    expect(README.split('\n').slice(0, 6).join('\n')).toMatch(/npm install && npm start[\s\S]*npm test/);
    expect(commands.length).toBeGreaterThan(20);
    expect(commands).toContain('microlith calibrate --check');
  });

  const run = commands.filter((c) => !NOT_RUN.has(c) && !isLoadTool(c) && !isServe(c));
  /** Each command shrunk and its run started, in the README's order (or why it could not be). */
  const planned = new Map<string, { shrunk: Shrunk; ran: Promise<Exited> } | { error: unknown }>();
  // (only the commands whose tests run: with a name filter, the others are skipped)
  beforeAll(({}, suite) => {
    const selected = new Set(suite.tasks.filter((t) => t.mode === 'run' || t.mode === 'only').map((t) => t.name));
    const shrunk = new Map<string, Shrunk | { error: unknown }>();
    for (const command of run.filter((c) => selected.has(c))) {
      try {
        shrunk.set(command, shrink(command));
      } catch (error) {
        shrunk.set(command, { error });
      }
    }
    const all = [...shrunk.values()].filter((s): s is Shrunk => 'args' in s);
    for (const [command, s] of shrunk) planned.set(command, 'error' in s ? s : { shrunk: s, ran: start(standIn(s, all)) });
  });

  // a test waits for its command, which starts once one of the commands before it ends (or
  // the run it follows): at most two commands' time, each killed after 120 s
  for (const command of run) {
    it(command, { timeout: 250_000 }, async () => {
      const plan = planned.get(command)!;
      if ('error' in plan) throw plan.error;
      const { args, code, says } = plan.shrunk;
      const r = await plan.ran;
      expect(r.error).toBeUndefined();
      expect(r.status, `${args.join(' ')}\n${r.stderr.slice(-2000)}`).toBe(code);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      if (args.includes('--json')) expect(() => JSON.parse(r.stdout)).not.toThrow();
      if (args.includes('--results')) expect(JSON.parse(readFileSync(args[args.indexOf('--results') + 1], 'utf8'))).toMatchObject({ kind: 'microlith-grade', lab: args[args.indexOf('grade') + 1] });
      if (says) expect(r.stdout).toMatch(says);
      if (command === 'npm start') {
        // the first screen fits in 100 columns, and sets the fastest microkernel label beside copy
        for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
        expect(r.stdout).toMatch(/^ {2}microkernel:copy .*\n {2}microkernel:shared:batch /m);
      }
    });
  }
});
