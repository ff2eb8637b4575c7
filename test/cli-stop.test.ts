/**
 * The command line as a process, where it ends: Ctrl-C keeps what finished (the
 * completed rounds, marked incomplete, then exit 130), and a run whose requests
 * did not all end ok says so and exits 1 unless --accept-incomplete.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../src/compare.js';
import type { RunReport } from '../src/run.js';
import { CLI, ROOT, spawnCli } from './support/cli.js';

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Start the CLI; send SIGINT once stderr matches `when`; resolve when it exits (killed after 90 s). */
function interruptWhen(args: string[], when: RegExp): Promise<Ended> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!sent && when.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('Ctrl-C keeps what finished', () => {
  it('compare --json: the rounds that finished, marked incomplete, then exit 130', async () => {
    const e = await interruptWhen(['compare', '-n', '800', '--rounds', '3', '--warmup', '0', '--json'], /round 1\/3\s+microkernel:copy/);
    expect(e.code, e.stderr).toBe(130);
    const c = JSON.parse(e.stdout) as Comparison;
    expect(c.complete).toBe(false);
    expect(c.roundsPlanned).toBe(3);
    expect(c.rounds).toBe(1);
    expect(c.results.map((r) => [r.label, r.reports.length])).toEqual([
      ['monolithic', 1],
      ['microkernel:copy', 1],
    ]);
    expect(c.digestsEqual).toBe(true);
    expect(e.stderr).toMatch(/stopped: 1 of 3 rounds finished/);
  });

  it('compare as text: the comparison of the finished rounds is printed; the progress lines line up', async () => {
    const e = await interruptWhen(['compare', '-n', '600', '--rounds', '3', '--modes', 'monolithic,microkernel:shared:batch'], /round 1\/3\s+microkernel:shared:batch/);
    expect(e.code, e.stderr).toBe(130);
    // (a long label may wrap in its column: its first piece starts a row, the rest may follow on lines of their own)
    const row = /^(microkernel:\S*)[^\n]*\n(?:(\S+)[ \t]*\n)?(?:(\S+)[ \t]*\n)?/m.exec(e.stdout);
    expect(row, e.stdout).not.toBeNull();
    expect(row!.slice(1).join(''), e.stdout).toBe('microkernel:shared:batch');
    expect(e.stdout).toMatch(/1 interleaved round \(incomplete: stopped after 1 of 3\)/);
    const progress = e.stderr.split('\n').filter((l) => /^\s+(warm-up|round)/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(new Set(progress.map((l) => l.indexOf('req/s'))).size).toBe(1);
  });

  it('run --json: the report of what was sent, ended by the stop', async () => {
    const e = await interruptWhen(['run', '-n', '10000000', '--json'], /running/);
    expect(e.code, e.stderr).toBe(130);
    const r = JSON.parse(e.stdout) as RunReport;
    expect(r.endedBy).toBe('stop');
    expect(r.status).toBe('incomplete');
    expect(r.outcomes.notIssued).toBeGreaterThan(0);
    expect(r.outcomes.pending).toBe(0);
  });
});

describe('a run whose requests did not all end ok', () => {
  // 64 clients queue behind each other in the microkernel: a 1 ms deadline is
  // missed by many calls
  const args = ['run', '--mode', 'microkernel', '--call-timeout-ms', '1', '-n', '1000', '--clients', '64', '--json'];

  it('is incomplete, says so on stderr, and exits 1', () => {
    const r = spawnCli(args, { timeout: 90_000 });
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.outcomes.fail + report.outcomes.info).toBeGreaterThan(0);
    expect(report.status).toBe('incomplete');
    expect(report.problems.join(' ')).toMatch(/requests did not end ok/);
    expect(r.stderr).toMatch(/microlith: run incomplete: \d+ of 1000 requests did not end ok/);
    expect(r.status).toBe(1);
  });

  it('exits 0 with --accept-incomplete, and still says so', () => {
    const r = spawnCli([...args, '--accept-incomplete'], { timeout: 90_000 });
    expect(r.stderr).toMatch(/run incomplete/);
    expect(r.status).toBe(0);
  });
});
