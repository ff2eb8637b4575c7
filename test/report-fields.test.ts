/**
 * The run report and the comparison keep the field names DESIGN.md promises
 * (tests, benchmarks and scripts read them), with the right types and the
 * relations that make them meaningful; compare() pairs and interleaves rounds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, LabelError, parseLabel, type Comparison } from '../src/compare.js';
import { ConfigError, DEFAULT_KERNEL_CONFIG } from '../src/config.js';
import { COUNTER_NAMES } from '../src/metrics/counters.js';
import { LatencyRecorder } from '../src/metrics/latency.js';
import { SERVER_NAMES } from '../src/protocol.js';
import { run, SCHEMA_VERSION, type RunReport } from '../src/run.js';
import { loadWorkload } from '../src/workload/load.js';

const REQUESTS = 300;
const SHIPPED = loadWorkload('specweb96');

function expectNumber(x: unknown): void {
  expect(typeof x).toBe('number');
  expect(Number.isFinite(x)).toBe(true);
}

describe.each(['monolithic', 'microkernel'] as const)('run report (%s)', (mode) => {
  let r: RunReport;
  beforeAll(async () => {
    r = await run({ mode, workload: 'specweb96', seed: 'lab', requests: REQUESTS, cacheBlocks: 512 });
  });

  it('has every field DESIGN names at the top level', () => {
    for (const k of [
      'schemaVersion',
      'tool',
      'config',
      'env',
      'mode',
      'transport',
      'workload',
      'outcomes',
      'throughput',
      'latencyUs',
      'counters',
      'digest',
      'modelled',
      'servers',
      'availability',
      'retries',
      'resets',
      'faults',
      'faultPlan',
    ]) {
      expect(r, k).toHaveProperty(k);
    }
  });

  it('schemaVersion and tool identify the producer', () => {
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Number.isInteger(r.schemaVersion)).toBe(true);
    expect(r.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(r.tool.name).toBe('microlith');
    expect(r.tool.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('config is fully resolved: defaults included, overrides applied, workload settings filled in', () => {
    for (const [k, v] of Object.entries(DEFAULT_KERNEL_CONFIG)) {
      expect(r.config, k).toHaveProperty(k);
      if (!['cacheBlocks', 'poolBlocks', 'ringBytes', 'receives'].includes(k)) expect(r.config[k as keyof typeof DEFAULT_KERNEL_CONFIG], k).toEqual(v);
    }
    expect(r.config.cacheBlocks).toBe(512);
    // the app keeps one receive posted per closed-loop client (at most 256)
    expect(r.config.receives).toBe(Math.min(SHIPPED.clients, 256));
    expect(r.config.faults).toEqual([]);
    // the pool holds the cache plus one largest file (921,600 B = 225 blocks) per client
    expect(r.config.poolBlocks).toBe(512 + r.config.clients * 225);
    // a ring holds two of the largest responses (2 × (921,600 B + 64 KiB) = 1,974,272 B, rounded up to a power of two)
    expect(r.config.ringBytes).toBe(2 * 1024 * 1024);
    expect(r.config.mode).toBe(mode);
    expect(r.config.workload).toBe('specweb96');
    expect(r.config.seed).toBe('lab');
    expect(r.config.requests).toBe(REQUESTS);
    expect(r.config.clients).toBe(SHIPPED.clients);
    expect(Object.values(r.config)).not.toContain(undefined);
  });

  it('env describes this host', () => {
    expect(r.env.node).toBe(process.version);
    expect(r.env.platform).toBe(process.platform);
    expect(r.env.arch).toBe(process.arch);
    expect(Number.isInteger(r.env.cpus)).toBe(true);
    expect(r.env.cpus).toBeGreaterThan(0);
    expect(typeof r.env.cpuModel).toBe('string');
  });

  it(`mode is ${mode}, transport is ${mode === 'monolithic' ? 'null' : "'copy'"}`, () => {
    expect(r.mode).toBe(mode);
    expect(r.transport).toBe(mode === 'monolithic' ? null : 'copy');
  });

  it('workload names what ran', () => {
    expect(r.workload).toEqual({
      name: 'specweb96',
      seed: 'lab',
      requests: REQUESTS,
      clients: SHIPPED.clients,
      arrival: { kind: 'closed', thinkTimeMs: 0 },
      durationMs: null,
    });
    expect(r.endedBy).toBe('requests');
  });

  it('outcomes count every request', () => {
    for (const k of ['ok', 'fail', 'info', 'pending'] as const) {
      expect(Number.isInteger(r.outcomes[k]), k).toBe(true);
    }
    expect(r.outcomes.ok).toBe(REQUESTS);
    expect(r.outcomes.fail + r.outcomes.info + r.outcomes.pending).toBe(0);
  });

  it('throughput is a positive host-measured rate, consistent with the wall time', () => {
    expectNumber(r.throughput.requestsPerSec);
    expectNumber(r.throughput.payloadBytesPerSec);
    expect(r.throughput.requestsPerSec).toBeGreaterThan(0);
    expect(r.throughput.payloadBytesPerSec).toBeGreaterThan(r.throughput.requestsPerSec);
    expectNumber(r.elapsedMs);
    expect(r.elapsedMs).toBeGreaterThan(0);
    // requestsPerSec = ok / elapsed, to the report's rounding
    expect(r.throughput.requestsPerSec / ((r.outcomes.ok / r.elapsedMs) * 1000)).toBeCloseTo(1, 3);
    // the second half of the wall time (from the whole ms at or after its middle) holds at most every ok request
    const half = r.throughput.secondHalfRequestsPerSec!;
    expectNumber(half);
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThanOrEqual((r.outcomes.ok / (r.elapsedMs / 2 - 1)) * 1000);
  });

  it("each domain's thread: its scheduler times during the run, no more than the wall time, and together no more than the process's CPU", () => {
    expect(r.domains.length).toBe(mode === 'monolithic' ? 1 : 3);
    let onCpu = 0;
    for (const d of r.domains) {
      // Linux says, through /proc's schedstat: the suite runs there
      expect(d.thread, d.name).not.toBeNull();
      expect(d.thread!.onCpuMs, d.name).toBeGreaterThan(0);
      expect(d.thread!.onCpuMs, d.name).toBeLessThanOrEqual(r.elapsedMs * 1.01 + 1);
      expect(d.thread!.runQueueMs, d.name).toBeGreaterThanOrEqual(0);
      expect(d.onCpuUsPerRequest! / ((d.thread!.onCpuMs * 1000) / REQUESTS)).toBeCloseTo(1, 2);
      expect(d.runQueueUsPerRequest).toBeGreaterThanOrEqual(0);
      onCpu += d.thread!.onCpuMs;
    }
    // the process's CPU time counts every thread, the domains' among them
    expect(onCpu).toBeLessThanOrEqual((r.cpu.userMs + r.cpu.systemMs) * 1.01 + 1);
  });

    it('latencyUs has ordered percentiles in microseconds', () => {
    const l = r.latencyUs!;
    expect(l).not.toBeNull();
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const) {
      expectNumber(l[k]);
      expect(l[k], k).toBeGreaterThan(0);
    }
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    // p99 <= max is left to the known-bug test at the end of this file: the
    // percentiles are bucket upper bounds and max is exact, so on a short run
    // p99 can exceed max by a bucket's width, at random
    expect(l.p50).toBeLessThanOrEqual(l.max);
    // no request can take longer than the whole run
    expect(l.max).toBeLessThanOrEqual(r.elapsedMs * 1000 * 1.01 + 1000);
  });

  it('counters hold every counter name as a non-negative integer, and sum the per-server counters', () => {
    expect(Object.keys(r.counters).sort()).toEqual([...COUNTER_NAMES].sort());
    for (const n of COUNTER_NAMES) {
      expect(Number.isInteger(r.counters[n]), n).toBe(true);
      expect(r.counters[n], n).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(r.countersByServer).sort()).toEqual([...SERVER_NAMES].sort());
    for (const n of COUNTER_NAMES) {
      const sum = SERVER_NAMES.reduce((s, srv) => s + r.countersByServer[srv][n], 0);
      expect(r.counters[n], n).toBe(sum);
    }
  });

  it('counters name the DESIGN events', () => {
    for (const k of [
      'ipcMessages',
      'crossings',
      'bytesCopied',
      'bytesChecksummed',
      'framesSent',
      'diskBlocksRead',
      'diskBlocksWritten',
      'cacheHits',
      'cacheMisses',
    ]) {
      expect(r.counters, k).toHaveProperty(k);
    }
  });

  it('perRequest divides the counters by the completed requests', () => {
    const done = r.outcomes.ok + r.outcomes.fail + r.outcomes.info;
    expect(r.perRequest.ipcMessages).toBeCloseTo(r.counters.ipcMessages / done, 3);
    expect(r.perRequest.directCalls).toBeCloseTo(r.counters.directCalls / done, 3);
    expect(r.perRequest.payloadBytes / (r.counters.payloadBytes / done)).toBeCloseTo(1, 3);
  });

  it('digest is a non-empty string; status ok with no faults or problems', () => {
    expect(typeof r.digest).toBe('string');
    expect(r.digest.length).toBeGreaterThan(0);
    expect(r.status).toBe('ok');
    expect(r.faults).toEqual([]);
    expect(r.faultPlan).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it('without a fault: availability 1, nothing repeated or reset, every server in its first incarnation', () => {
    expect(r.availability).toBe(1);
    expect(r.retries).toEqual({ calls: 0, resentReads: 0 });
    expect(r.resets).toBe(0);
    expect(Object.keys(r.servers).sort()).toEqual([...SERVER_NAMES].sort());
    for (const s of SERVER_NAMES) {
      const v = r.servers[s];
      expect(v.domain, s).toBe(mode === 'monolithic' ? 'kernel' : s);
      expectNumber(v.utilisation);
      expect(v, s).toMatchObject({ incarnations: 1, restarts: 0, givenUp: false, crashed: false, recoveryMs: null, downMs: 0 });
    }
  });

  it('survives a JSON round trip unchanged (plain data, no NaN or undefined)', () => {
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('compare()', () => {
  const seen: { label: string; round: number; warmup: boolean }[] = [];
  let c: Comparison;
  beforeAll(async () => {
    c = await compare({
      workload: 'specweb96',
      seed: 5,
      requests: REQUESTS,
      labels: ['monolithic', 'microkernel:copy'],
      rounds: 2,
      warmupRounds: 0,
      // + 0 turns the -0 that compare() reports for the first round into 0
      onRun: ({ label, round, warmup }) => seen.push({ label, round: round + 0, warmup }),
    });
  });

  it('names the baseline and the rounds, and finds equal digests', () => {
    expect(c.schemaVersion).toBe(SCHEMA_VERSION);
    expect(c.baseline).toBe('monolithic');
    expect(c.rounds).toBe(2);
    expect(c.digestsEqual).toBe(true);
    expect(new Set(c.results.flatMap((x) => x.reports.map((rep) => rep.digest))).size).toBe(1);
    // one seed: the seeds name it, and its digests are those of every run
    expect(c.seeds).toEqual([5]);
    expect(c.digestsBySeed).toEqual({ 5: [c.results[0].reports[0].digest] });
    // two rounds are too few to tell a spread: every label is warned of
    expect(c.warnings.map((w) => /^(\S+): throughput measured only 2 times/.exec(w)?.[1]).filter(Boolean)).toEqual(['monolithic', 'microkernel:copy']);
    expect(c.workload).toEqual({
      name: 'specweb96',
      seed: 5,
      requests: REQUESTS,
      clients: SHIPPED.clients,
      arrival: { kind: 'closed', thinkTimeMs: 0 },
      durationMs: null,
    });
  });

  it('has one result per label, each with one report per round of its own kernel', () => {
    expect(c.results.map((x) => x.label)).toEqual(['monolithic', 'microkernel:copy']);
    expect(c.results.map((x) => x.mode)).toEqual(['monolithic', 'microkernel']);
    expect(c.results.map((x) => x.transport)).toEqual([null, 'copy']);
    for (const res of c.results) {
      expect(res.reports).toHaveLength(2);
      for (const rep of res.reports) {
        expect(rep.mode).toBe(res.mode);
        expect(rep.transport).toBe(res.transport);
        expect(rep.status).toBe('ok');
      }
    }
  });

  it('runs the labels interleaved, round by round', () => {
    expect(seen).toEqual([
      { label: 'monolithic', round: 0, warmup: false },
      { label: 'microkernel:copy', round: 0, warmup: false },
      { label: 'monolithic', round: 1, warmup: false },
      { label: 'microkernel:copy', round: 1, warmup: false },
    ]);
  });

  it('the baseline ratio is exactly 1, with no spread; its relative factor is 1', () => {
    expect(c.results[0].ratio).toEqual({ median: 1, min: 1, max: 1, mean: 1, stdev: 0, n: 2 });
    expect(c.results[0].relative).toEqual({ factor: 1, stdev: 0, direction: 'baseline' });
  });

  it('mean ± σ over the rounds; the microkernel is slower by the paired factor, and its extra modelled time shows in ipc and copies', () => {
    const [base, micro] = c.results;
    const rps = micro.reports.map((r) => r.throughput.requestsPerSec);
    const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
    expect(micro.requestsPerSec.mean).toBeCloseTo(mean, 6);
    expect(micro.requestsPerSec.n).toBe(2);
    expect(micro.requestsPerSec.stdev).toBeCloseTo(Math.abs(rps[0] - rps[1]) / Math.SQRT2, 6);
    const factors = micro.reports.map((r, i) => base.reports[i].throughput.requestsPerSec / r.throughput.requestsPerSec);
    const f = factors.reduce((a, b) => a + b, 0) / 2;
    expect(micro.relative.direction).toBe(f >= 1 ? 'slower' : 'faster');
    if (f >= 1) expect(micro.relative.factor).toBeCloseTo(f, 3);
    expect(micro.extra.modelledUsPerRequest.ipc).toBeGreaterThan(0);
    expect(micro.extra.modelledUsPerRequest.copies).toBeGreaterThan(0);
    expect(micro.extra.counted.ipcMessages).toBe(micro.reports[1].perRequest.ipcMessages);
    expect(micro.extra.baselineCounted.ipcMessages).toBe(0);
    expect(base.extra.modelledUsPerRequest.ipc).toBe(0);
  });

  it('requestsPerSec spreads the rounds, and the ratio pairs them round by round', () => {
    for (const res of c.results) {
      const rps = res.reports.map((rep) => rep.throughput.requestsPerSec);
      expect(res.requestsPerSec.min).toBe(Math.min(...rps));
      expect(res.requestsPerSec.max).toBe(Math.max(...rps));
      expect(res.requestsPerSec.median).toBeCloseTo((rps[0] + rps[1]) / 2, 6);
    }
    const base = c.results[0].reports.map((rep) => rep.throughput.requestsPerSec);
    const mk = c.results[1].reports.map((rep) => rep.throughput.requestsPerSec);
    const paired = mk.map((x, i) => x / base[i]);
    const ratio = c.results[1].ratio;
    expect(ratio.min).toBeCloseTo(Math.min(...paired), 3);
    expect(ratio.max).toBeCloseTo(Math.max(...paired), 3);
    expect(ratio.median).toBeCloseTo((paired[0] + paired[1]) / 2, 3);
    expect(ratio.min).toBeGreaterThan(0);
  });

  it('latencyUs holds the medians of the rounds p50 and p99', () => {
    for (const res of c.results) {
      const p50 = res.reports.map((rep) => rep.latencyUs!.p50);
      const p99 = res.reports.map((rep) => rep.latencyUs!.p99);
      expect(res.latencyUs).toEqual({ p50: (p50[0] + p50[1]) / 2, p99: (p99[0] + p99[1]) / 2 });
    }
  });

  it('warm-up rounds run first and are not reported', async () => {
    const calls: { label: string; warmup: boolean }[] = [];
    const w = await compare({
      workload: 'specweb96',
      seed: 5,
      requests: 100,
      labels: ['monolithic', 'microkernel'],
      rounds: 1,
      warmupRounds: 1,
      onRun: ({ label, warmup }) => calls.push({ label, warmup }),
    });
    expect(calls).toEqual([
      { label: 'monolithic', warmup: true },
      { label: 'microkernel:copy', warmup: true },
      { label: 'monolithic', warmup: false },
      { label: 'microkernel:copy', warmup: false },
    ]);
    expect(w.results.map((x) => x.reports.length)).toEqual([1, 1]);
    expect(w.results[1].label).toBe('microkernel:copy');
  });

  it('refuses no labels and a non-positive number of rounds', async () => {
    await expect(compare({ workload: 'specweb96', requests: 10, labels: [] })).rejects.toThrow(ConfigError);
    await expect(compare({ workload: 'specweb96', requests: 10, rounds: 0 })).rejects.toThrow(ConfigError);
    await expect(compare({ workload: 'specweb96', requests: 10, labels: ['microkernel:warp'] })).rejects.toThrow(LabelError);
  });
});

describe('parseLabel', () => {
  it('accepts the known labels, defaulting the microkernel transport to copy and signalling to message', () => {
    expect(parseLabel('monolithic')).toEqual({ label: 'monolithic', mode: 'monolithic', transport: null, signal: null });
    const copy = { label: 'microkernel:copy', mode: 'microkernel', transport: 'copy', signal: 'message' };
    expect(parseLabel('microkernel:copy')).toEqual(copy);
    expect(parseLabel('microkernel')).toEqual(copy);
    expect(parseLabel('microkernel:copy:message')).toEqual(copy);
    expect(parseLabel('microkernel:shared:ring')).toEqual({
      label: 'microkernel:shared:ring',
      mode: 'microkernel',
      transport: 'shared',
      signal: 'ring',
    });
  });

  it.each(['microkernel:teleport', 'monolithic:copy', 'hybrid', 'microkernel:copy:extra', 'microkernel:copy:ring:x', ''])('rejects %j', (label) => {
    expect(() => parseLabel(label)).toThrow(LabelError);
  });

  it('says what is wrong', () => {
    expect(() => parseLabel('microkernel:teleport')).toThrow(/teleport/);
    expect(() => parseLabel('monolithic:copy')).toThrow(/monolithic/);
  });
});

// p50..p999 come from HDR buckets, whose upper end can lie above the exact
// largest sample; the summary clamps them so that no percentile exceeds max.
describe('latency percentiles never exceed the maximum', () => {
  it('a percentile never exceeds max', () => {
    const rec = new LatencyRecorder();
    for (let i = 0; i < 100; i++) rec.record(10_001); // every sample the same
    const s = rec.summary();
    expect(s.p50).toBeLessThanOrEqual(s.max);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.p999).toBeLessThanOrEqual(s.max);
  });
});
