/**
 * The library entry as a program uses it: `run()`, `compare()`, `sweep()` (and
 * `serve()`) return plain data, exactly what the CLI's --json prints (a JSON
 * round trip gives a deep-equal object: no undefined fields, no NaN or
 * Infinity, no class instances); they never print (progress goes to the
 * callbacks); and an AbortSignal stops each, keeping what finished.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { chromeTraceFile, compare, merge, parseCsv, run, serve, sweep, toCsv, toHtml, type Comparison, type RunReport, type SweepProgress, type SweepResult } from '../src/index.js';

/** `x` as the CLI's --json prints it, parsed back. */
const viaJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x, null, 2));

const CONSOLE = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

/** Spies on every way to print; `calls()` counts what was printed while they were on. */
function spyOnOutput(): { calls(): number; restore(): void } {
  const spies: MockInstance[] = [
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true),
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true),
    ...CONSOLE.map((m) => vi.spyOn(console, m).mockImplementation(() => {})),
  ];
  return {
    calls: () => spies.reduce((n, s) => n + s.mock.calls.length, 0),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

let output: ReturnType<typeof spyOnOutput> | null = null;
afterEach(() => {
  output?.restore();
  output = null;
});

/** Run `work` with printing spied on; the calls it made to print, and its value. */
async function silently<T>(work: () => Promise<T>): Promise<{ value: T; printed: number }> {
  output = spyOnOutput();
  try {
    const value = await work();
    return { value, printed: output.calls() };
  } finally {
    output.restore();
    output = null;
  }
}

describe('the entry exports what the CLI uses', () => {
  it('run, compare, sweep, merge, serve, toCsv, toHtml and chromeTraceFile are functions', () => {
    for (const f of [run, compare, sweep, merge, serve, toCsv, toHtml, chromeTraceFile]) expect(typeof f).toBe('function');
  });
});

describe('run()', () => {
  let report: RunReport;
  let printed: number;
  beforeAll(async () => {
    ({ value: report, printed } = await silently(() => run({ mode: 'microkernel', requests: 200, trace: { requests: 2 } })));
  });

  it('prints nothing', () => {
    expect(printed).toBe(0);
  });

  it('returns exactly what --json prints', () => {
    expect(report.status).toBe('ok');
    expect(report.trace).not.toBeNull();
    expect(viaJson(report)).toStrictEqual(report);
  });

  it('its exports take it as it is: one CSV row, an HTML page, a trace file', () => {
    const rows = parseCsv(toCsv(report));
    expect(rows).toHaveLength(2);
    expect(rows[1][rows[0].indexOf('digest')]).toBe(report.digest);
    expect(toHtml(report)).toMatch(/^<!doctype html>/i);
    const file = chromeTraceFile(report.trace!, { mode: report.mode });
    expect(file.otherData).toEqual({ mode: 'microkernel', tracedRequests: [0, 1] });
    expect(viaJson(file)).toStrictEqual(file);
  });

  it('an abort stops the clients: endedBy stop, the requests not sent counted, still plain data', async () => {
    const stop = new AbortController();
    const { value: r, printed: n } = await silently(() => {
      const p = run({ requests: 1_000_000, abortSignal: stop.signal });
      stop.abort();
      return p;
    });
    expect(n).toBe(0);
    expect(r.endedBy).toBe('stop');
    expect(r.status).toBe('incomplete');
    expect(r.outcomes.pending).toBe(0);
    expect(r.outcomes.notIssued).toBeGreaterThan(900_000);
    expect(r.problems.join('; ')).toMatch(/stopped before/);
    expect(viaJson(r)).toStrictEqual(r);
  });
});

describe('compare()', () => {
  type OnRun = { label: string; round: number; warmup: boolean; seed: number | string; report: RunReport };
  let c: Comparison;
  let printed: number;
  const runs: OnRun[] = [];
  beforeAll(async () => {
    ({ value: c, printed } = await silently(() => compare({ requests: 200, rounds: 1, warmupRounds: 1, seeds: [1, 2], traceRequests: 1, onRun: (x) => void runs.push(x) })));
  });

  it('prints nothing', () => {
    expect(printed).toBe(0);
  });

  it('returns exactly what --json prints', () => {
    expect(c.complete).toBe(true);
    expect(c.results.map((r) => r.label)).toEqual(['monolithic', 'microkernel:copy']);
    expect(viaJson(c)).toStrictEqual(c);
  });

  it('calls onRun once per run, warm-up first, label by label within each seed, with the reports it keeps', () => {
    const order = (round: number, warmup: boolean) =>
      [1, 2].flatMap((seed) => ['monolithic', 'microkernel:copy'].map((label) => ({ label, round, warmup, seed })));
    expect(runs.map(({ label, round, warmup, seed }) => ({ label, round, warmup, seed }))).toEqual([...order(-1, true), ...order(0, false)]);
    // the measured runs are the comparison's reports, in the same order
    for (const [i, res] of c.results.entries()) {
      const measured = runs.filter((x) => !x.warmup && x.label === res.label).map((x) => x.report);
      expect(measured).toHaveLength(2);
      measured.forEach((m, k) => expect(res.reports[k]).toBe(m));
      expect(res.reports.map((r) => r.workload.seed), `label ${i}`).toEqual([1, 2]);
    }
  });

  it('an abort stops it after the run in progress: complete false, the rounds that finished', async () => {
    const stop = new AbortController();
    let calls = 0;
    const { value: partial, printed: n } = await silently(() =>
      compare({
        requests: 200,
        rounds: 3,
        warmupRounds: 0,
        abortSignal: stop.signal,
        onRun: () => {
          // the first round done (both labels): stop
          if (++calls === 2) stop.abort();
        },
      }),
    );
    expect(n).toBe(0);
    expect(calls).toBe(2);
    expect(partial.complete).toBe(false);
    expect(partial.rounds).toBe(1);
    expect(partial.roundsPlanned).toBe(3);
    expect(partial.results.map((r) => r.reports.length)).toEqual([1, 1]);
    expect(viaJson(partial)).toStrictEqual(partial);
  });
});

describe('sweep()', () => {
  let dir: string;
  let result: SweepResult;
  let printed: number;
  const cells: SweepProgress[] = [];
  const options = { params: { clients: [2, 4], transport: ['copy', 'shared'] }, base: { requests: 150 } };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'microlith-library-sweep-'));
    ({ value: result, printed } = await silently(() => sweep({ ...options, dir, onCell: (p) => void cells.push(p) })));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints nothing', () => {
    expect(printed).toBe(0);
  });

  it('returns exactly what --json prints, and merge reads the same back', () => {
    expect(result.complete).toBe(true);
    expect(result.cells.map((x) => x.report.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(viaJson(result)).toStrictEqual(result);
    const merged = merge(dir);
    expect(viaJson(merged)).toStrictEqual(merged);
    expect(merged.cells.map((x) => [x.id, x.seed, x.report.digest])).toEqual(result.cells.map((x) => [x.id, x.seed, x.report.digest]));
  });

  it('calls onCell once per cell, in order, each with its file', () => {
    expect(cells.map((p) => [p.i, p.n, p.id, p.skipped])).toEqual([
      [1, 4, 'clients=2,transport=copy', false],
      [2, 4, 'clients=2,transport=shared', false],
      [3, 4, 'clients=4,transport=copy', false],
      [4, 4, 'clients=4,transport=shared', false],
    ]);
    for (const p of cells) {
      const cell = result.cells.find((x) => x.id === p.id)!;
      expect(p.report).toBe(cell.report);
      expect(p.seed).toBe(cell.seed);
      expect(p.file).toBe(cell.file);
    }
    expect(readdirSync(dir).sort()).toEqual(cells.map((p) => p.file!.slice(dir.length + 1)).sort());
  });

  it('an abort stops it after the cell in progress: complete false, the others missing', async () => {
    const stop = new AbortController();
    const seen: string[] = [];
    const { value: partial, printed: n } = await silently(() =>
      sweep({
        ...options,
        warmupRuns: 0,
        abortSignal: stop.signal,
        onCell: (p) => {
          seen.push(p.id);
          stop.abort();
        },
      }),
    );
    expect(n).toBe(0);
    expect(seen).toEqual(['clients=2,transport=copy']);
    expect(partial.complete).toBe(false);
    expect(partial.cells.map((x) => x.id)).toEqual(['clients=2,transport=copy']);
    expect(partial.missing).toEqual(['clients=2,transport=shared', 'clients=4,transport=copy', 'clients=4,transport=shared']);
    expect(viaJson(partial)).toStrictEqual(partial);
  });
});

describe('serve()', () => {
  it('prints nothing, stops on its AbortSignal, and returns plain data', async () => {
    const stop = new AbortController();
    let status = 0;
    const { value: report, printed: n } = await silently(() =>
      serve({
        port: 0,
        abortSignal: stop.signal,
        onListening: (url) => {
          void fetch(`${url}index.html`)
            .then(async (res) => {
              status = res.status;
              await res.arrayBuffer();
            })
            .finally(() => stop.abort());
        },
      }),
    );
    expect(n).toBe(0);
    expect(status).toBe(200);
    expect(report.status).toBe('ok');
    expect(report.endedBy).toBe('stop');
    expect(report.outcomes.ok).toBe(1);
    expect(viaJson(report)).toStrictEqual(report);
  });
});
