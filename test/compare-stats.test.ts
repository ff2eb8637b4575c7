/**
 * compare() over several seeds: every round runs every label under every seed,
 * each label's figures are over rounds × seeds, digests are compared within a
 * seed only; the warnings on a noisy or short series and on a ratio either side
 * of 1; and the hyperfine-style text. The pure summary is also given synthetic
 * reports (real ones with their throughput or digest changed).
 */
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// colour on, so that the warnings' colour can be seen (picocolors reads this when loaded)
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { compare, MIN_RUNS, NOISY_CV, parseLabel, spreadWarnings, summariseRuns, type Comparison } from '../src/compare.js';
import { ConfigError } from '../src/config.js';
import { stats } from '../src/metrics/stats.js';
import { parseCompareOptions } from '../src/options.js';
import { count, sig3 } from '../src/report/format.js';
import { formatComparison } from '../src/report/text.js';
import { run, type RunReport } from '../src/run.js';

const plain = (s: string) => stripVTControlCharacters(s);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const LABELS = [parseLabel('monolithic'), parseLabel('microkernel:copy')];

describe('compare() over two seeds and two rounds', () => {
  const seen: { label: string; round: number; seed: number | string }[] = [];
  let c: Comparison;
  beforeAll(async () => {
    c = await compare({
      workload: 'specweb96',
      seeds: [1, 'b'],
      requests: 200,
      labels: ['monolithic', 'microkernel:copy'],
      rounds: 2,
      warmupRounds: 0,
      onRun: ({ label, round, seed }) => seen.push({ label, round: round + 0, seed }),
    });
  });

  it('echoes the seeds, and runs round by round, seed by seed, label by label', () => {
    expect(c.seeds).toEqual([1, 'b']);
    expect(c.rounds).toBe(2);
    expect(c.workload.seed).toBe(1);
    const order = [0, 1].flatMap((round) => [1, 'b'].flatMap((seed) => ['monolithic', 'microkernel:copy'].map((label) => ({ label, round, seed }))));
    expect(seen).toEqual(order);
    for (const r of c.results) {
      expect(r.reports.map((x) => x.workload.seed)).toEqual([1, 'b', 1, 'b']);
      expect(r.reports.every((x) => x.status === 'ok')).toBe(true);
    }
  });

  it('each label has n = 4 (rounds × seeds), its mean over all four runs', () => {
    for (const r of c.results) {
      const rps = r.reports.map((x) => x.throughput.requestsPerSec);
      expect(r.requestsPerSec.n).toBe(4);
      expect(r.ratio.n).toBe(4);
      expect(r.requestsPerSec.mean).toBeCloseTo(mean(rps), 6);
      expect(r.requestsPerSec.min).toBe(Math.min(...rps));
      expect(r.requestsPerSec.max).toBe(Math.max(...rps));
    }
  });

  it('pairs each run with the baseline run of the same round and seed', () => {
    const base = c.results[0].reports.map((x) => x.throughput.requestsPerSec);
    const mk = c.results[1].reports.map((x) => x.throughput.requestsPerSec);
    const paired = mk.map((x, k) => x / base[k]);
    expect(c.results[1].ratio.min).toBeCloseTo(Math.min(...paired), 3);
    expect(c.results[1].ratio.max).toBeCloseTo(Math.max(...paired), 3);
    expect(c.results[1].ratio.mean).toBeCloseTo(mean(paired), 3);
    const slower = mean(mk.map((x, k) => base[k] / x));
    if (c.results[1].relative.direction === 'slower') expect(c.results[1].relative.factor).toBeCloseTo(slower, 3);
    else expect(c.results[1].relative.factor).toBeCloseTo(mean(paired), 3);
  });

  it('compares digests within a seed: equal under each seed, different between the seeds', () => {
    expect(Object.keys(c.digestsBySeed)).toEqual(['1', 'b']);
    for (const [j, seed] of ['1', 'b'].entries()) {
      const d = c.results.flatMap((r) => r.reports.filter((_, k) => k % 2 === j).map((x) => x.digest));
      expect(c.digestsBySeed[seed]).toEqual([d[0]]);
      expect(new Set(d).size).toBe(1);
    }
    expect(c.digestsBySeed['1'][0]).not.toBe(c.digestsBySeed.b[0]);
    expect(c.digestsEqual).toBe(true);
  });

  it('modelled throughput is the mean over the seeds of each seed’s run', () => {
    for (const r of c.results) {
      const bySeed = [r.reports[2].modelled.requestsPerSec, r.reports[3].modelled.requestsPerSec];
      expect(r.modelled.requestsPerSec).toBeCloseTo(mean(bySeed), 4);
      expect(r.extra.counted.ipcMessages).toBeCloseTo(mean([r.reports[2].perRequest.ipcMessages, r.reports[3].perRequest.ipcMessages]), 4);
    }
  });

  it('the text reads as hyperfine: mean ± σ with min … max and runs, then the factor slower or faster', () => {
    const text = plain(formatComparison(c));
    expect(text).toContain('seeds 1, b, 200 requests');
    expect(text).toContain('over 4 runs (2 rounds × 2 seeds)');
    expect(text).toMatch(/^ {2}monolithic {8}[\d,.]+ ± +[\d,.]+ req\/s {3}\[min +[\d,.]+ … max +[\d,.]+\] {3}4 runs$/m);
    const dir = c.results[1].relative.direction;
    expect(['slower', 'faster']).toContain(dir);
    expect(text).toMatch(new RegExp(`^ {2}microkernel:copy {2}\\d+\\.\\d+ ± \\d+\\.\\d+ × ${dir} than monolithic$`, 'm'));
    expect(text).toContain(`${sig3(c.results[1].relative.factor)} ± `);
    for (const l of text.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(100);
  });

  it('says where the extra time went: modelled µs per request by part, and the counted events behind it', () => {
    const text = plain(formatComparison(c));
    const r = c.results[1];
    const ipc = r.extra.counted.ipcMessages - r.extra.baselineCounted.ipcMessages;
    expect(text).toContain('where the extra time went, µs per request against monolithic, modelled (pentium-pro-1996)');
    expect(text).toMatch(/microkernel:copy +\+[\d,.]+ µs copies/);
    expect(text).toContain(`from +${Number.isInteger(ipc) ? count(ipc) : sig3(ipc)} IPC messages`);
    expect(text.replace(/\n +/g, ' ')).toMatch(/copied, .*per request \(counted\)/);
    const joined = text.replace(/\n/g, ' ');
    expect(joined).toContain(`seed 1: every run's digest is ${c.digestsBySeed['1'][0]}; seed b: every run's digest is ${c.digestsBySeed.b[0]}`);
  });
});

describe('seeds as an option', () => {
  const refusal = (o: object) => {
    try {
      parseCompareOptions(o);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('not refused');
  };

  it('is refused together with seed, saying to use one', () => {
    const e = refusal({ seed: 1, seeds: [1, 2] });
    expect(e.field).toBe('seeds');
    expect(e.message).toBe('seeds cannot go with seed: use one of them (seed for one seed, seeds for several)');
  });

  it('must be a non-empty list of distinct integers or 1–64 character strings', () => {
    expect(refusal({ seeds: [] }).message).toMatch(/^seeds must name at least one seed/);
    expect(refusal({ seeds: [1, 1.5] }).field).toBe('seeds.1');
    expect(refusal({ seeds: ['x'.repeat(65)] }).message).toMatch(/^seeds\.0 must be an integer or a string of 1 to 64 characters/);
    expect(refusal({ seeds: 7 }).field).toBe('seeds');
    expect(refusal({ seeds: [5, '5'] }).message).toMatch(/^seeds\.1 repeats a seed/);
    expect(parseCompareOptions({ seeds: [3, 'x'] }).seeds).toEqual([3, 'x']);
    expect(parseCompareOptions({}).seeds).toBeUndefined();
  });

  it('without seeds, the comparison names its one seed', async () => {
    const c = await compare({ workload: 'specweb96', seed: 'solo', requests: 100, labels: ['monolithic'], rounds: 1, warmupRounds: 0 });
    expect(c.seeds).toEqual(['solo']);
    expect(Object.keys(c.digestsBySeed)).toEqual(['solo']);
    expect(c.results[0].requestsPerSec.n).toBe(1);
  });
});

describe('the summary of given runs (synthetic reports)', () => {
  let mono: RunReport;
  let micro: RunReport;
  beforeAll(async () => {
    [mono, micro] = await Promise.all([
      run({ mode: 'monolithic', workload: 'specweb96', requests: 200 }),
      run({ mode: 'microkernel', workload: 'specweb96', requests: 200 }),
    ]);
  });

  const at = (r: RunReport, rps: number, digest = r.digest): RunReport => ({ ...r, throughput: { ...r.throughput, requestsPerSec: rps }, digest });
  const summary = (base: number[], other: number[], seeds: (number | string)[] = [1]) =>
    summariseRuns({
      labels: LABELS,
      seeds,
      reports: [base.map((x) => at(mono, x)), other.map((x) => at(micro, x))],
      roundsPlanned: base.length / seeds.length,
      rounds: base.length / seeds.length,
      workload: mono.workload,
    });

  const halves = (r: RunReport, half: number | null): RunReport => ({ ...r, throughput: { ...r.throughput, secondHalfRequestsPerSec: half } });

  it("pairs each run's second half with the baseline's of the same round, apart from the whole runs", () => {
    const c = summariseRuns({
      labels: LABELS,
      seeds: [1],
      // whole runs 0.5 of the baseline each round; their second halves 0.5, 1 and 0.75
      reports: [
        [1000, 1000, 1000].map((x, i) => halves(at(mono, x), [2000, 2000, 1600][i])),
        [500, 500, 500].map((x, i) => halves(at(micro, x), [1000, 2000, 1200][i])),
      ],
      roundsPlanned: 3,
      rounds: 3,
      workload: mono.workload,
    });
    expect(c.results[1].ratio.median).toBe(0.5);
    expect(c.results[1].secondHalfRatio).toMatchObject({ median: 0.75, min: 0.5, max: 1, n: 3 });
    expect(c.results[0].secondHalfRatio).toMatchObject({ median: 1, min: 1, max: 1 });
    // the wide text has the column
    expect(plain(formatComparison(c, { wide: true }))).toMatch(/2nd half[\s\S]*microkernel:copy .* 0\.75/);
  });

  it('has no second-half ratio when a run has no such figure (real clients under serve)', () => {
    const c = summariseRuns({
      labels: LABELS,
      seeds: [1],
      reports: [[1000, 1000].map((x) => halves(at(mono, x), 2000)), [500, 500].map((x, i) => halves(at(micro, x), i ? null : 1000))],
      roundsPlanned: 2,
      rounds: 2,
      workload: mono.workload,
    });
    expect(c.results[1].secondHalfRatio).toBeNull();
    expect(c.results[0].secondHalfRatio).not.toBeNull();
  });

    it('a steady series gets no warning', () => {
    const c = summary([1000, 1010, 990], [500, 505, 495]);
    expect(c.warnings).toEqual([]);
    expect(c.results[1].relative).toMatchObject({ direction: 'slower', factor: 2 });
    expect(plain(formatComparison(c))).not.toContain('warning');
  });

  it('a noisy series gets one, naming the label and its σ/mean', () => {
    const rps = [500, 800, 400];
    const c = summary([1000, 1010, 990], rps);
    const cv = stats(rps).stdev / stats(rps).mean;
    expect(cv).toBeGreaterThan(NOISY_CV);
    expect(c.warnings).toEqual([
      `microkernel:copy: throughput varies ±${Math.round(cv * 100)}% (σ/mean) over 3 rounds, more than 5%: too noisy to trust; ` +
        'run more rounds (--rounds 10), longer runs (--requests 100000), or on a quieter machine',
    ]);
    const text = formatComparison(c);
    const line = text.split('\n').find((l) => plain(l).startsWith('warning: microkernel:copy'));
    expect(line).toBeDefined();
    expect(line).toContain('\x1b[33m');
  });

  it('σ/mean of exactly 5% is not noisy, but a ratio either side of 1 is within the noise', () => {
    const c = summary([1000, 1000, 1000], [950, 1050, 1000]);
    expect(stats([950, 1050, 1000]).stdev / 1000).toBeCloseTo(NOISY_CV, 12);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/^microkernel:copy: its throughput relative to monolithic ranges from 0\.950× to 1\.05× over the paired runs, on both sides of 1×: the difference is within the noise$/);
  });

  it('fewer than 3 runs gets a warning for every label', () => {
    expect(MIN_RUNS).toBe(3);
    const c = summary([1000, 1400], [500, 510]);
    expect(c.warnings).toHaveLength(2);
    expect(c.warnings[0]).toMatch(/^monolithic: throughput measured only 2 times \(it varies ±\d+%, σ\/mean\): too few runs/);
    expect(c.warnings[1]).toMatch(/^microkernel:copy: throughput measured only 2 times/);
    expect(spreadWarnings([{ label: 'x', requestsPerSec: stats([10]), ratio: stats([1]) }], { baseline: 'x', rounds: 1, seeds: 1 })).toEqual([
      'x: throughput measured once: too few runs to tell its spread; run more rounds (--rounds 10)',
    ]);
  });

  it('a faster label reads "faster than"', () => {
    const c = summary([1000, 1000, 1000], [2000, 2000, 2000]);
    expect(c.results[1].relative).toEqual({ factor: 2, stdev: 0, direction: 'faster' });
    expect(plain(formatComparison(c))).toMatch(/^ {2}microkernel:copy {2}2\.00 ± 0\.00 × faster than monolithic$/m);
  });

  it('digests differ between seeds by design, and within a seed they must not', () => {
    const reports = (digests: string[]) => [
      [at(mono, 1000, digests[0]), at(mono, 1000, digests[1])],
      [at(micro, 500, digests[2]), at(micro, 500, digests[3])],
    ];
    const base = { labels: LABELS, seeds: [1, 2], roundsPlanned: 1, rounds: 1, workload: mono.workload };
    const same = summariseRuns({ ...base, reports: reports(['a-1', 'b-1', 'a-1', 'b-1']) });
    expect(same.digestsEqual).toBe(true);
    expect(same.digestsBySeed).toEqual({ 1: ['a-1'], 2: ['b-1'] });
    const differ = summariseRuns({ ...base, reports: reports(['a-1', 'b-1', 'a-1', 'c-1']) });
    expect(differ.digestsEqual).toBe(false);
    expect(differ.digestsBySeed).toEqual({ 1: ['a-1'], 2: ['b-1', 'c-1'] });
    expect(plain(formatComparison(differ))).toContain('DIFFERENT ANSWERS: the response digests differ between runs (seed 2: 2 digests)');
    // a run that did not end ok is not in the digests
    const failed = summariseRuns({ ...base, reports: [[at(mono, 1000, 'a-1'), at(mono, 1000, 'b-1')], [{ ...at(micro, 500, 'x-1'), status: 'failed' }, at(micro, 500, 'b-1')]] });
    expect(failed.digestsEqual).toBe(true);
  });
});
