/**
 * compareToBaseline: a comparison against an earlier one's JSON (or a run's),
 * per label old and new host-measured and modelled throughput and host ratio
 * to the baseline label, with their changes; a regression flagged by the chosen figure past the threshold; a
 * baseline of another workload, seed, request count, profile or schema refused
 * with the difference named. The old comparisons are a real one's JSON, edited.
 */
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaselineError, changeText, compareToBaseline, formatBaseline } from '../src/baseline.js';
import { compare, type Comparison } from '../src/compare.js';

let c: Comparison;
/** The comparison as its JSON, parsed again: what a baseline file holds. */
const json = () => JSON.parse(JSON.stringify(c)) as Comparison;

beforeAll(async () => {
  c = await compare({ workload: 'specweb96', seed: 3, requests: 200, labels: ['monolithic', 'microkernel:copy'], rounds: 1, warmupRounds: 0 });
});

function refusal(old: unknown, opts = {}): BaselineError {
  try {
    compareToBaseline(c, old, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(BaselineError);
    return e as BaselineError;
  }
  throw new Error('not refused');
}

describe('against a baseline of the same comparison', () => {
  it('itself: no change, nothing regressed', () => {
    const d = compareToBaseline(c, json(), { failAbovePct: 1 });
    expect(d.baselineKind).toBe('comparison');
    expect(d.on).toBe('modelled');
    expect(d.workload).toEqual({ name: 'specweb96', seeds: [3], requests: 200 });
    expect(d.profile).toBe('pentium-pro-1996');
    expect(d.labels.map((l) => l.label)).toEqual(['monolithic', 'microkernel:copy']);
    for (const [i, l] of d.labels.entries()) {
      expect(l.host).toMatchObject({ old: c.results[i].requestsPerSec.mean, new: c.results[i].requestsPerSec.mean, changePct: 0 });
      expect(l.modelled).toEqual({ old: c.results[i].modelled.requestsPerSec, new: c.results[i].modelled.requestsPerSec, changePct: 0 });
      expect(l.regressed).toBe(false);
    }
    expect(d.regressed).toEqual([]);
    expect(d.onlyInBaseline).toEqual([]);
    expect(d.onlyInCurrent).toEqual([]);
  });

  it('flags a label whose modelled throughput dropped by more than the threshold', () => {
    const old = json();
    old.results[1].modelled.requestsPerSec *= 1.25; // now 20% below the baseline
    const d = compareToBaseline(c, old, { failAbovePct: 5 });
    expect(d.labels[1].modelled.changePct).toBeCloseTo(-20, 3);
    expect(d.labels[1].regressed).toBe(true);
    expect(d.labels[0].regressed).toBe(false);
    expect(d.regressed).toEqual(['microkernel:copy']);
    // below the threshold, or without one, it is reported and not flagged
    expect(compareToBaseline(c, old, { failAbovePct: 25 }).regressed).toEqual([]);
    const none = compareToBaseline(c, old);
    expect(none.failAbovePct).toBeNull();
    expect(none.regressed).toEqual([]);
    expect(none.labels[1].modelled.changePct).toBeCloseTo(-20, 3);
    // a rise is no regression
    const better = json();
    better.results[1].modelled.requestsPerSec *= 0.5;
    expect(compareToBaseline(c, better, { failAbovePct: 0 }).regressed).toEqual([]);
  });

  it("on: 'host' decides by the host-measured ratio to the baseline label instead", () => {
    const old = json();
    old.results[1].ratio.mean *= 2; // microkernel:copy was twice as close to monolithic
    expect(compareToBaseline(c, old, { failAbovePct: 10 }).regressed).toEqual([]);
    const d = compareToBaseline(c, old, { failAbovePct: 10, on: 'host' });
    expect(d.baseline).toBe('monolithic');
    expect(d.labels[1].hostRatio?.changePct).toBeCloseTo(-50, 3);
    expect(d.labels[0].hostRatio).toEqual({ old: 1, new: 1, changePct: 0 });
    expect(d.regressed).toEqual(['microkernel:copy']);
    expect(stripVTControlCharacters(formatBaseline(d)).replace(/\s+/g, ' ')).toContain('microkernel:copy −50.0%: host-measured ratio to monolithic (noisy) dropped by more than 10%');
    // a machine that got slower as a whole moves the req/s, not the ratios: no regression on host
    const faster = json();
    for (const r of faster.results) r.requestsPerSec.mean *= 2;
    const f = compareToBaseline(c, faster, { failAbovePct: 10, on: 'host' });
    expect(f.labels[0].host.changePct).toBeCloseTo(-50, 3);
    expect(f.regressed).toEqual([]);
  });

  it("on: 'host' is refused against a baseline without the ratio: a single run, or another baseline label", () => {
    const run = JSON.parse(JSON.stringify(c.results[1].reports[0]));
    expect(compareToBaseline(c, run).labels[0].hostRatio).toBeNull();
    expect(refusal(run, { failAbovePct: 5, on: 'host' }).message).toMatch(/host-measured ratio to monolithic .* a single run/);
    const other = json();
    other.baseline = 'microkernel:copy';
    expect(refusal(other, { failAbovePct: 5, on: 'host' }).message).toMatch(/against microkernel:copy/);
  });

  it('lists the labels only one side has', () => {
    const old = json();
    old.results = [old.results[0], { ...old.results[1], label: 'microkernel:shared' }];
    const d = compareToBaseline(c, old);
    expect(d.labels.map((l) => l.label)).toEqual(['monolithic']);
    expect(d.onlyInBaseline).toEqual(['microkernel:shared']);
    expect(d.onlyInCurrent).toEqual(['microkernel:copy']);
  });

  it('takes a run report as a comparison of one label', () => {
    const r = JSON.parse(JSON.stringify(c.results[1].reports[0]));
    const d = compareToBaseline(c, r, { failAbovePct: 5 });
    expect(d.baselineKind).toBe('run');
    expect(d.labels.map((l) => l.label)).toEqual(['microkernel:copy']);
    expect(d.labels[0].host.old).toBe(r.throughput.requestsPerSec);
    expect(d.labels[0].modelled.changePct).toBe(0);
    expect(d.onlyInCurrent).toEqual(['monolithic']);
    expect(d.baselineVersion).toBe(r.tool.version);
  });

  it('the text names both kinds of change, host noisy and modelled deterministic, and the verdict', () => {
    const old = json();
    old.results[1].modelled.requestsPerSec *= 1.25;
    const text = stripVTControlCharacters(formatBaseline(compareToBaseline(c, old, { failAbovePct: 5 })));
    expect(text).toContain('host-measured, mean');
    expect(text).toContain('modelled (pentium-pro-1996)');
    expect(text).toMatch(/^microkernel:copy .* −20\.0% +REGRESSED$/m);
    expect(text).toMatch(/^monolithic .* 0% +ok$/m);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('host-measured changes are noisy');
    expect(flat).toContain("ratio Δ: the change of the label's host-measured ratio to monolithic");
    expect(flat).toContain('modelled changes are deterministic');
    expect(flat).toContain('REGRESSED: microkernel:copy −20.0%: modelled req/s dropped by more than 5% against the baseline');
    for (const l of text.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(100);
    expect(stripVTControlCharacters(formatBaseline(compareToBaseline(c, json())))).toContain('no threshold given');
    expect(changeText(1.234)).toBe('+1.2%');
    expect(changeText(-0.01)).toBe('0%');
    expect(changeText(null)).toBe('n/a');
  });
});

describe('a baseline that is not of the same comparison is refused, naming what differs', () => {
  const edited = (f: (o: Comparison) => void) => {
    const o = json();
    f(o);
    return o;
  };

  it('another workload', () => {
    const e = refusal(edited((o) => (o.workload.name = 'nfs')));
    expect(e.message).toMatch(/workload 'nfs' in the baseline, 'specweb96' now/);
    expect(e.differences).toEqual(["workload 'nfs' in the baseline, 'specweb96' now"]);
  });

  it('another seed, seeds or request count', () => {
    // an older comparison's JSON has no seeds: its workload's seed is its one seed
    expect(refusal(edited((o) => ((o.workload.seed = 4), delete (o as Partial<Comparison>).seeds))).message).toMatch(/seed 4 in the baseline, 3 now/);
    expect(refusal(edited((o) => (o.workload.seed = 4))).message).toMatch(/seed 4 in the baseline, 3 now/);
    expect(refusal(edited((o) => (o.seeds = ['three']))).differences).toEqual(["seed 'three' in the baseline, 3 now"]);
    expect(refusal(edited((o) => (o.seeds = [3, 4]))).message).toMatch(/seeds \[3,4\] in the baseline, \[3\] now/);
    const e = refusal(edited((o) => (o.workload.requests = 300)));
    expect(e.message).toMatch(/requests 300 in the baseline, 200 now/);
    expect(e.message).not.toMatch(/seed/);
  });

  it('another profile', () => {
    const e = refusal(edited((o) => o.results.forEach((r) => (r.modelled.profile = 'host'))));
    expect(e.message).toMatch(/profile 'host' in the baseline, 'pentium-pro-1996' now/);
  });

  it('another schema version', () => {
    expect(refusal(edited((o) => (o.schemaVersion = 99))).message).toMatch(/^the baseline has schemaVersion 99, this microlith writes 1: record the baseline again/);
    const r = JSON.parse(JSON.stringify(c.results[0].reports[0]));
    r.schemaVersion = 0;
    expect(refusal(r).differences).toEqual(['schemaVersion']);
  });

  it('not a comparison or run report at all', () => {
    for (const bad of [null, 42, [], {}, { hello: 'world' }]) expect(refusal(bad).message).toMatch(/not a microlith comparison or run report/);
    expect(refusal(edited((o) => (o.results = []))).message).toMatch(/not a comparison this microlith can read: results has no results/);
    expect(refusal(edited((o) => delete (o.results[0] as Partial<(typeof o.results)[0]>).modelled)).message).toMatch(/results\.0\.modelled/);
  });

  it('a bad threshold or figure', () => {
    expect(refusal(json(), { failAbovePct: -1 }).message).toMatch(/failAbovePct must be a number of percent >= 0/);
    expect(refusal(json(), { on: 'wall' }).message).toMatch(/on must be 'modelled' or 'host'/);
  });
});
