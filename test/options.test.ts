/**
 * The library's options, in-process: one schema with the CLI's defaults and
 * ranges; a bad option is a ConfigError naming the field and the reason (never
 * a TypeError from inside a run); an option that cannot apply is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_KERNEL_CONFIG } from '../src/config.js';
import { compare } from '../src/compare.js';
import { RANGES } from '../src/limits.js';
import { parseCompareOptions, parseRunOptions, RANDOM_PLAN_REQUESTS, RunOptionsSchema } from '../src/options.js';
import { randomFaultPlan } from '../src/faults/plan.js';
import { resolveRun, run } from '../src/run.js';
import { loadWorkload } from '../src/workload/load.js';

/** The ConfigError that `f` throws (fails the test if it throws anything else, or nothing). */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, got none');
}

describe('defaults: the same as the CLI', () => {
  it('no options at all: the monolith on specweb96 with the workload\'s own counts', () => {
    const { cfg, workload, options } = resolveRun({});
    const shipped = loadWorkload('specweb96');
    expect(options.mode).toBe('monolithic');
    expect(cfg.mode).toBe('monolithic');
    expect(workload.name).toBe('specweb96');
    expect([workload.requests, workload.clients, workload.seed]).toEqual([shipped.requests, shipped.clients, shipped.seed]);
    expect([cfg.mtu, cfg.cacheBlocks, cfg.callTimeoutMs, cfg.hangTimeoutMs]).toEqual([
      DEFAULT_KERNEL_CONFIG.mtu,
      DEFAULT_KERNEL_CONFIG.cacheBlocks,
      DEFAULT_KERNEL_CONFIG.callTimeoutMs,
      DEFAULT_KERNEL_CONFIG.hangTimeoutMs,
    ]);
    expect(options.profile).toBe('pentium-pro-1996');
  });

  it('run({ requests: 100 }) runs the monolith and says so in the report', async () => {
    const r = await run({ requests: 100 });
    expect(r.mode).toBe('monolithic');
    expect(r.status).toBe('ok');
    expect(r.outcomes.ok).toBe(100);
  });

  it('compare({ requests, rounds: 1 }) compares the default labels', async () => {
    const c = await compare({ requests: 150, rounds: 1, warmupRounds: 0 });
    expect(c.results.map((x) => x.label)).toEqual(['monolithic', 'microkernel:copy']);
    expect(c.complete).toBe(true);
    expect(c.digestsEqual).toBe(true);
  });

  it('a duration with no request count has no cap but the largest count there is', () => {
    expect(resolveRun({ durationMs: 500 }).workload.requests).toBe(RANGES.requests.max);
    expect(resolveRun({ durationMs: 500, requests: 70 }).workload.requests).toBe(70);
    expect(resolveRun({}).workload.requests).toBe(loadWorkload('specweb96').requests);
  });

  it("a duration run is ended by its duration, not by the workload's request count", async () => {
    const small = { ...loadWorkload('specweb96'), requests: 40 };
    // 4 clients with 10 ms of think time send at most ~400 requests in a second: far past 40, even on a busy machine
    const r = await run({ workload: small, durationMs: 1000, arrival: { kind: 'closed', thinkTimeMs: 10 }, clients: 4 });
    expect(r.endedBy).toBe('duration');
    expect(r.outcomes.ok).toBeGreaterThan(40);
    expect(r.workload.requests).toBe(r.outcomes.ok);
    expect(r.status).toBe('ok');
  });
});

describe('bad options: a ConfigError with the field and the reason', () => {
  const cases: [string, object, string, RegExp][] = [
    ['unknown mode', { mode: 'foo' }, 'mode', /must be one of monolithic, microkernel, got 'foo'/],
    ['negative requests', { requests: -5 }, 'requests', /must be an integer from 1 to 10000000, got -5/],
    ['requests as text', { requests: 'abc' }, 'requests', /got 'abc'/],
    ['no clients', { clients: 0 }, 'clients', /from 1 to 4096, got 0/],
    ['an mtu with no room for a payload byte', { mtu: 10 }, 'mtu', /from 41 to 65535/],
    ['an empty seed', { seed: '' }, 'seed', /1 to 64 characters/],
    ['an unknown option', { reqests: 5 }, 'reqests', /is not an option/],
    ['a rate of zero', { arrival: { kind: 'open', ratePerSec: 0 } }, 'arrival.ratePerSec', /above 0/],
    ['a fault at message 0', { faults: [{ server: 'disk', kind: 'crash', trigger: { on: 'message', at: 0 } }] }, 'faults.0.trigger.at', />= 1 for a message trigger, got 0/],
    ['a fault in an unknown server', { faults: [{ server: 'gpu', kind: 'crash', trigger: { on: 'message', at: 5 } }] }, 'faults.0.server', /disk, net, app, got 'gpu'/],
    ['a fault text that does not parse', { faults: ['disk@1', 'disk:melt@message=3'] }, 'faults.1', /^faults\.1 'disk:melt@message=3': unknown kind 'melt'; kinds: crash, exit, hang, oom, garbage, lose$/],
    ['a bad random plan', { faults: ['random:count=0'] }, 'faults.0', /^faults\.0 'random:count=0': count must be an integer from 1 to 1000, got '0'$/],
    ['faults that are not a list', { faults: 'disk@1' }, 'faults', /must be an array of faults, got 'disk@1'/],
    ['no restarts below 0', { mode: 'microkernel', maxRestarts: -1 }, 'maxRestarts', /from 0 to 1000, got -1/],
    ['a restart window of 0', { mode: 'microkernel', restartWindowMs: 0 }, 'restartWindowMs', /from 1 to 3600000, got 0/],
    ['a heap too small to start a domain in', { heapLimitMb: 8 }, 'heapLimitMb', /from 16 to 65536, got 8/],
    ['a profile that is a number', { profile: 7 }, 'profile', /profile/],
  ];
  for (const [what, opts, field, reason] of cases) {
    it(what, async () => {
      const e = configError(() => parseRunOptions(opts));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(reason);
      expect(e.message.startsWith(field)).toBe(true);
      await expect(run(opts as never)).rejects.toBeInstanceOf(ConfigError);
    });
  }

  it('compare checks its own options the same way', async () => {
    expect(configError(() => parseCompareOptions({ rounds: 0 })).field).toBe('rounds');
    expect(configError(() => parseCompareOptions({ labels: [] })).field).toBe('labels');
    await expect(compare({ requests: -1 })).rejects.toBeInstanceOf(ConfigError);
  });

  it('options that are not an object', () => {
    expect(configError(() => parseRunOptions(42)).field).toBe('options');
    expect(configError(() => parseRunOptions(null)).field).toBe('options');
  });

  it('whatever is passed, the answer is parsed options or a ConfigError, never another error', () => {
    const keys = Object.keys(RunOptionsSchema.shape) as string[];
    const junk = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer()), fc.object());
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), junk, { maxKeys: 4 }), (opts) => {
        try {
          resolveRun(opts as never);
        } catch (e) {
          // a bad workload or profile name is reported by its own loader
          if (!(e instanceof ConfigError) && !(e instanceof Error && e.name === 'WorkloadError')) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('options that cannot apply are refused, saying what to write instead', () => {
  it('a transport, signalling or spin for the monolith', () => {
    for (const opts of [{ mode: 'monolithic', transport: 'shared' }, { signal: 'ring' }, { spinUs: 50 }]) {
      const e = configError(() => parseRunOptions(opts));
      expect(e.message).toMatch(/applies to the microkernel only: use mode: 'microkernel'/);
    }
  });

  it('a restart limit or window for the monolith', () => {
    for (const field of ['maxRestarts', 'restartWindowMs'] as const) {
      for (const opts of [{ mode: 'monolithic', [field]: 10 }, { [field]: 10 }]) {
        const e = configError(() => parseRunOptions(opts));
        expect(e.field).toBe(field);
        expect(e.message).toBe(`${field} applies to the microkernel only: use mode: 'microkernel'`);
        expect(e.fix).toEqual({ mode: 'microkernel' });
      }
    }
  });

  it('compare: a restart limit when no label is a microkernel, before any run', async () => {
    await expect(compare({ labels: ['monolithic'], maxRestarts: 1, requests: 10 })).rejects.toThrow(/^maxRestarts applies to the microkernel only: use labels: 'monolithic,microkernel:copy'$/);
    await expect(compare({ labels: ['monolithic'], restartWindowMs: 10, requests: 10 })).rejects.toThrow(/^restartWindowMs applies to the microkernel only/);
    expect(parseCompareOptions({ maxRestarts: 1, restartWindowMs: 20 })).toMatchObject({ maxRestarts: 1, restartWindowMs: 20 });
  });

  it('a spin without ring signalling', () => {
    const e = configError(() => parseRunOptions({ mode: 'microkernel', spinUs: 50 }));
    expect(e.field).toBe('spinUs');
    expect(e.fix).toEqual({ signal: 'ring' });
  });

  it('a client count for an open loop', () => {
    const e = configError(() => parseRunOptions({ arrival: { kind: 'open', ratePerSec: 100 }, clients: 8 }));
    expect(e.message).toMatch(/clients applies to a closed loop only .*arrival\.maxInFlight/);
  });

  it('compare: a spin when no label uses ring signalling', async () => {
    await expect(compare({ spinUs: 10, requests: 10 })).rejects.toThrow(/spinUs applies to ring signalling only/);
  });

  it('the CLI names the same error by its flags', () => {
    const e = configError(() => parseRunOptions({ arrival: { kind: 'open', ratePerSec: 100 }, clients: 8 }));
    const flag = (f: string, v?: string) => `--${f.replace('arrival.', '')}${v ? ` ${v}` : ''}`;
    expect(e.describe(flag)).toBe('--clients applies to a closed loop only (an open loop bounds what is outstanding by --maxInFlight)');
  });
});

describe('faults and the supervisor\'s limits', () => {
  const crash = (server: string, on: string, at: number, kind = 'crash') => ({ server, kind, trigger: { on, at } });

  it('none by default; the limits default to the kernel config\'s', () => {
    const o = parseRunOptions({});
    expect(o.faults).toEqual([]);
    expect([o.maxRestarts, o.restartWindowMs, o.heapLimitMb]).toEqual([
      DEFAULT_KERNEL_CONFIG.maxRestarts,
      DEFAULT_KERNEL_CONFIG.restartWindowMs,
      DEFAULT_KERNEL_CONFIG.heapLimitMb,
    ]);
    expect(parseCompareOptions({}).heapLimitMb).toBe(DEFAULT_KERNEL_CONFIG.heapLimitMb);
  });

  it('the limits as given, for the microkernel', () => {
    const o = parseRunOptions({ mode: 'microkernel', maxRestarts: 0, restartWindowMs: 1, heapLimitMb: 16 });
    expect([o.maxRestarts, o.restartWindowMs, o.heapLimitMb]).toEqual([0, 1, 16]);
    expect(parseRunOptions({ heapLimitMb: 65536 }).heapLimitMb).toBe(65536);
  });

  it('texts and objects alike, in order, the older texts too', () => {
    const o = parseRunOptions({ faults: ['disk@1000', crash('net', 'ms', 0, 'hang'), 'app@500:hang', 'disk:lose@request=3'] });
    expect(o.faults).toEqual([crash('disk', 'message', 1000), crash('net', 'ms', 0, 'hang'), crash('app', 'message', 500, 'hang'), crash('disk', 'request', 3, 'lose')]);
  });

  it('a random plan is drawn for the requests option, or for 1000 requests', () => {
    expect(parseRunOptions({ faults: ['random:count=6,seed=4'], requests: 20 }).faults).toEqual(randomFaultPlan({ count: 6, seed: 4, requests: 20 }));
    expect(parseRunOptions({ faults: ['random:count=6,seed=4'] }).faults).toEqual(randomFaultPlan({ count: 6, seed: 4, requests: RANDOM_PLAN_REQUESTS }));
    expect(RANDOM_PLAN_REQUESTS).toBe(1000);
    expect(parseCompareOptions({ faults: ['random:count=6,seed=4'], requests: 20 }).faults).toEqual(randomFaultPlan({ count: 6, seed: 4, requests: 20 }));
  });

  it('a fault object is checked as its text is', () => {
    const cases: [unknown, string, RegExp][] = [
      [crash('net', 'message', 1, 'lose'), 'faults.0.kind', /^faults\.0\.kind cannot be 'lose' for net: only the disk can lose a write$/],
      [crash('disk', 'request', 0), 'faults.0.trigger.at', />= 1 for a request trigger/],
      [crash('disk', 'ms', -1), 'faults.0.trigger.at', /must be an integer >= 0, got -1/],
      [crash('disk', 'ms', 1.5), 'faults.0.trigger.at', /must be an integer >= 0, got 1.5/],
      [crash('disk', 'soon', 1), 'faults.0.trigger.on', /one of message, request, ms, got 'soon'/],
      [crash('disk', 'ms', 1, 'melt'), 'faults.0.kind', /one of crash, exit, hang, oom, garbage, lose, got 'melt'/],
      [{ ...crash('disk', 'ms', 1), when: 3 }, 'faults.0.when', /is not an option/],
      [{ server: 'disk', kind: 'crash', trigger: { on: 'ms', at: 1, every: 2 } }, 'faults.0.trigger.every', /is not an option/],
      [7, 'faults.0', /must be a fault's text, SERVER:KIND@TRIGGER .* or \{ server, kind, trigger: \{ on, at \} \}, got 7/],
    ];
    for (const [fault, field, reason] of cases) {
      const e = configError(() => parseRunOptions({ faults: [fault] }));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(reason);
    }
  });

  it('the CLI names a bad entry by its flag, the text quoted once', () => {
    const e = configError(() => parseRunOptions({ faults: ['disk@1', 'gpu@2'] }));
    const flag = (f: string) => (f.startsWith('faults.') ? '--fault' : `--${f}`);
    expect(e.describe(flag)).toBe("--fault 'gpu@2': unknown server 'gpu'; servers: disk, net, app");
  });
});
