/**
 * The harness is outside every fault domain, for hangs too: a server stuck in an
 * infinite loop, in either kernel, ends the run with a report naming it (found by
 * missed heartbeats), and never freezes the caller.
 */
import { describe, expect, it } from 'vitest';
import type { Mode } from '../src/config.js';
import type { ServerName } from '../src/protocol.js';
import { run } from '../src/run.js';
import { spawnCli } from './support/cli.js';

const REQUESTS = 20_000; // far more than can finish before the hang: the run must be cut short
const BASE = { workload: 'specweb96', requests: REQUESTS, seed: 11, callTimeoutMs: 500, hangTimeoutMs: 400 } as const;

describe.each(['monolithic', 'microkernel'] as Mode[])('%s kernel', (mode) => {
  it.each(['disk', 'app', 'net'] as ServerName[])('a %s server that hangs is reported and the run ends', async (server) => {
    const t0 = performance.now();
    const r = await run({ ...BASE, mode, fault: { server, atMessage: 200, kind: 'hang' } });
    const seconds = (performance.now() - t0) / 1000;
    expect(r.status).toBe('failed');
    expect(r.faults).toEqual([{ server, kind: 'hang', message: expect.stringContaining('heartbeat') }]);
    expect(r.problems.join(' ')).toContain(`${server} hung`);
    // the server handled its 200th message and nothing after it
    expect(r.countersByServer[server].messagesHandled).toBe(200);
    const o = r.outcomes;
    expect(o.pending).toBe(0);
    expect(o.ok + o.fail + o.info + o.notIssued).toBe(REQUESTS);
    expect(o.notIssued).toBeGreaterThan(0);
    // bounded: heartbeat timeout + call deadline + grace, far below the test timeout
    expect(seconds).toBeLessThan(15);
  });
});

describe('no false alarms', () => {
  it.each(['monolithic', 'microkernel'] as Mode[])('%s: a healthy run much longer than the heartbeat timeout is not a hang', async (mode) => {
    // a short timeout, but not so short that a GC pause on a loaded machine trips it
    const r = await run({ workload: 'specweb96', requests: 20_000, seed: 12, mode, hangTimeoutMs: 150 });
    expect(r.elapsedMs).toBeGreaterThan(150 * 3); // lasted several heartbeat timeouts
    expect(r.faults).toEqual([]);
    expect(r.status).toBe('ok');
    expect(r.outcomes.ok).toBe(20_000);
  });
});

describe('the CLI', () => {
  it('run --fault app@50:hang exits 1 with a report, not a frozen process', () => {
    const p = spawnCli(
      ['run', '--mode', 'microkernel', '--fault', 'app@50:hang', '--hang-timeout-ms', '400', '--call-timeout-ms', '500', '-n', '5000', '--json'],
      { timeout: 30_000 },
    );
    expect(p.status).toBe(1);
    const report = JSON.parse(p.stdout);
    expect(report.faults[0]).toMatchObject({ server: 'app', kind: 'hang' });
  });

  it('a malformed fault spec is a usage error', () => {
    const p = spawnCli(['run', '--fault', 'app@50:explode'], { timeout: 30_000 });
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('SERVER@N[:crash|:hang|:lose]');
    expect(p.stderr).not.toContain('    at ');
  });
});
