/**
 * The same faults in the monolith: every one takes the whole system down (a
 * kernel panic, the kernel's thread dying or hanging), and the harness, outside
 * every fault domain, still reports it cleanly: the fault named with where it
 * struck, the requests in flight ended as unknown, nothing pending, never a
 * frozen caller.
 */
import { describe, expect, it } from 'vitest';
import type { ServerName } from '../src/protocol.js';
import { run, type RunOptions } from '../src/run.js';
import { spawnCli } from './support/cli.js';

const REQUESTS = 20_000; // far more than can finish before the fault: the run must be cut short
const BASE: RunOptions = { mode: 'monolithic', workload: 'specweb96', seed: 5, requests: REQUESTS };
const SETTINGS = {
  crash: { seen: 'panic', opts: {} },
  exit: { seen: 'exit', opts: {} },
  hang: { seen: 'hang', opts: { hangTimeoutMs: 600 } },
  oom: { seen: 'oom', opts: { heapLimitMb: 64 } },
  garbage: { seen: 'panic', opts: {} },
} as const;

describe.each(['disk', 'net', 'app'] as ServerName[])('the %s server', (server) => {
  it.each(Object.keys(SETTINGS) as (keyof typeof SETTINGS)[])('%s: the system goes down and the run ends with a report', async (kind) => {
    const spec = `${server}:${kind}@request=100`;
    const t0 = performance.now();
    const r = await run({ ...BASE, ...SETTINGS[kind].opts, faults: [spec] });
    expect(r.status).toBe('failed');
    expect(r.endedBy).toBe('fault');
    expect(r.faults).toHaveLength(1);
    // a wild pointer panics whoever touches it: with garbage the panic may surface in another server
    expect(r.faults[0]).toMatchObject({ kind: SETTINGS[kind].seen, outcome: 'system-down', planned: spec });
    if (kind !== 'garbage') expect(r.faults[0].server).toBe(server);
    expect(r.faults[0].request).toBeGreaterThanOrEqual(100);
    for (const s of Object.values(r.servers)) expect([s.incarnations, s.restarts]).toEqual([1, 0]);
    const o = r.outcomes;
    expect(o.pending).toBe(0);
    expect(o.notIssued).toBeGreaterThan(0);
    expect(o.ok + o.fail + o.info + o.notIssued).toBe(REQUESTS);
    expect(o.info).toBeGreaterThan(0); // what was in flight has an unknown outcome
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});

describe('no false alarms', () => {
  it('a healthy run much longer than the heartbeat timeout is not a hang', async () => {
    // a short timeout, but not so short that a GC pause on a loaded machine trips it
    const r = await run({ ...BASE, requests: undefined, durationMs: 1500, hangTimeoutMs: 400 });
    expect(r.elapsedMs).toBeGreaterThan(400 * 3);
    expect(r.faults).toEqual([]);
    expect(r.status).toBe('ok');
  });
});

describe('the CLI', () => {
  it('run --fault app@50:hang exits 1 with a report, not a frozen process', () => {
    const p = spawnCli(['run', '--fault', 'app@50:hang', '--hang-timeout-ms', '400', '-n', '5000', '--json'], { timeout: 30_000 });
    expect(p.status).toBe(1);
    const report = JSON.parse(p.stdout);
    expect(report.faults[0]).toMatchObject({ server: 'app', kind: 'hang', outcome: 'system-down' });
  });
});
