/**
 * Arrival models: closed loop with think time, open loop (Poisson arrivals at a
 * rate, latency counted from each scheduled arrival: no coordinated omission),
 * and runs that end by duration instead of by request count.
 */
import { describe, expect, it } from 'vitest';
import { MODE_SPECIFIC_COUNTERS } from '../src/metrics/counters.js';
import type { Mode } from '../src/config.js';
import { run, type RunReport } from '../src/run.js';
import { loadWorkload, parseWorkload, WorkloadError } from '../src/workload/load.js';
import { runCli } from './support/cli.js';

const shared = (r: RunReport) =>
  Object.fromEntries(Object.entries(r.counters).filter(([k]) => !MODE_SPECIFIC_COUNTERS.includes(k as never)));

/**
 * The counted work that does not depend on how many receives the app keeps
 * posted (config.receives: one per closed-loop client, or maxInFlight in an
 * open loop): net handles one more message for each, the receive the wire's
 * close ends. So messagesHandled is compared less the receives.
 */
const work = (r: RunReport) => ({ ...shared(r), messagesHandled: r.counters.messagesHandled - r.config.receives });

describe.each(['monolithic', 'microkernel'] as Mode[])('%s kernel', (mode) => {
  it('an open loop at a sustainable rate gives the same answers and the same counted work as the closed loop', async () => {
    const closed = await run({ mode, workload: 'specweb96', requests: 600, seed: 21 });
    const open = await run({ mode, workload: 'specweb96', requests: 600, seed: 21, arrival: { kind: 'open', ratePerSec: 3000, maxInFlight: 64 } });
    expect(open.status).toBe('ok');
    expect(open.outcomes.ok).toBe(600);
    expect(open.digest).toBe(closed.digest);
    expect(closed.config.receives).toBe(closed.workload.clients);
    expect(open.config.receives).toBe(64);
    expect(work(open)).toEqual(work(closed));
    expect(open.endedBy).toBe('requests');
  });

  it('the same open-loop run twice counts the same work', async () => {
    const opts = { mode, workload: 'specweb96', requests: 400, seed: 22, arrival: { kind: 'open', ratePerSec: 20_000, maxInFlight: 16 } } as const;
    const [a, b] = [await run(opts), await run(opts)];
    expect(a.counters).toEqual(b.counters);
    expect(a.digest).toBe(b.digest);
  });
});

describe('no coordinated omission', () => {
  it('overload shows as queueing: open-loop latency runs from the scheduled arrival', async () => {
    // the same 8 requests outstanding at most, but arrivals far faster than service
    const closed = await run({ mode: 'monolithic', workload: 'specweb96', requests: 2000, clients: 8, seed: 23 });
    const open = await run({
      mode: 'monolithic',
      workload: 'specweb96',
      requests: 2000,
      seed: 23,
      arrival: { kind: 'open', ratePerSec: 1_000_000, maxInFlight: 8 },
    });
    expect(open.digest).toBe(closed.digest);
    // all 2000 arrive within ~2 ms; the last waits for nearly the whole run
    expect(open.latencyUs!.max).toBeGreaterThan(open.elapsedMs * 1000 * 0.5);
    expect(open.latencyUs!.p50).toBeGreaterThan(10 * closed.latencyUs!.p50);
  });
});

describe('closed loop with think time', () => {
  it('clients pause between requests, and the pause is not latency', async () => {
    const r = await run({ mode: 'monolithic', workload: 'specweb96', requests: 20, clients: 2, seed: 24, arrival: { kind: 'closed', thinkTimeMs: 20 } });
    expect(r.outcomes.ok).toBe(20);
    // each client sends 10 requests with a 20 ms pause after each reply
    expect(r.elapsedMs).toBeGreaterThanOrEqual(10 * 20 * 0.95);
    expect(r.latencyUs!.p50).toBeLessThan(20_000);
  });
});

describe('runs that end by duration', () => {
  it.each(['monolithic', 'microkernel'] as Mode[])('%s: stops sending at the duration; the request count is what was sent', async (mode) => {
    const r = await run({ mode, workload: 'specweb96', requests: 10_000_000, seed: 25, durationMs: 150 });
    expect(r.status).toBe('ok');
    expect(r.endedBy).toBe('duration');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(150);
    expect(r.outcomes.notIssued).toBe(0);
    expect(r.outcomes.pending).toBe(0);
    expect(r.workload.requests).toBe(r.outcomes.ok);
    expect(r.workload.requests).toBeGreaterThan(0);
    expect(r.workload.requests).toBeLessThan(10_000_000);
    expect(r.workload.durationMs).toBe(150);
  });
});

describe('workload files and flags', () => {
  const base = JSON.parse(JSON.stringify(loadWorkload('specweb96'))) as Record<string, unknown>;

  it('an open-loop arrival in a workload file is read, with maxInFlight defaulted', () => {
    const w = parseWorkload(JSON.stringify({ ...base, arrival: { kind: 'open', ratePerSec: 250 } }), 'w.json');
    expect(w.arrival).toEqual({ kind: 'open', ratePerSec: 250, maxInFlight: 4096 });
    expect(loadWorkload('specweb96').arrival).toEqual({ kind: 'closed', thinkTimeMs: 0 });
  });

  it('an unknown arrival kind is refused naming the field', () => {
    expect(() => parseWorkload(JSON.stringify({ ...base, arrival: { kind: 'bursty' } }), 'w.json')).toThrow(WorkloadError);
    expect(() => parseWorkload(JSON.stringify({ ...base, arrival: { kind: 'bursty' } }), 'w.json')).toThrow(/arrival/);
    expect(() => parseWorkload(JSON.stringify({ ...base, arrival: { kind: 'open', ratePerSec: -1 } }), 'w.json')).toThrow(/ratePerSec/);
  });

  // the command line in this process: what it answers, not the process (test/cli.test.ts)
  it('--rate with --think-time-ms, or --max-in-flight without --rate, is a usage error', async () => {
    for (const args of [
      ['run', '--rate', '100', '--think-time-ms', '5'],
      ['run', '--max-in-flight', '8'],
      ['run', '--rate', '0'],
    ]) {
      const p = await runCli(args);
      expect(p.code, args.join(' ')).toBe(2);
      expect(p.stderr).not.toContain('    at ');
    }
  });

  it('run --rate N -n M --json reports the open loop', async () => {
    const p = await runCli(['run', '--rate', '4000', '-n', '300', '--json', '--quiet']);
    expect(p.code).toBe(0);
    const r = JSON.parse(p.stdout) as RunReport;
    expect(r.workload.arrival).toEqual({ kind: 'open', ratePerSec: 4000, maxInFlight: 4096 });
    expect(r.outcomes.ok).toBe(300);
  });
});
