/**
 * Fault plans as data (faults/plan.ts): the text of one fault, in its own form
 * and the older ones, every way a text can be wrong, random plans drawn from a
 * seed, and the CLI handing every --fault to the library (with the runs stubbed
 * out: no kernel starts here).
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FAULT_KINDS,
  FaultSpecError,
  faultsFromText,
  formatFaultSpec,
  parseFaultSpec,
  parseRandomPlan,
  randomFaultPlan,
  RANDOM_KINDS,
  TRIGGER_KINDS,
  type FaultSpec,
} from '../src/faults/plan.js';
import { SERVER_NAMES } from '../src/protocol.js';
import { parseRunOptions, type RunOptions } from '../src/options.js';

// the CLI's runs, stubbed: what main() passes to run() is recorded, and nothing runs
const given = vi.hoisted(() => ({ runs: [] as unknown[] }));
vi.mock('../src/run.js', () => ({
  SCHEMA_VERSION: 1,
  resolveRun: (opts: RunOptions) => ({ workload: { name: 'stub' }, cfg: { mode: 'monolithic' }, options: parseRunOptions(opts) }),
  run: async (opts: RunOptions) => {
    given.runs.push(parseRunOptions(opts));
    return { status: 'ok', problems: [] };
  },
}));
const { main } = await import('../src/cli/main.js');

/** The FaultSpecError that `f` throws. */
function specError(f: () => unknown): FaultSpecError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FaultSpecError);
    expect(e).toBeInstanceOf(Error);
    return e as FaultSpecError;
  }
  throw new Error('expected a FaultSpecError, got none');
}

const spec = (server: FaultSpec['server'], kind: FaultSpec['kind'], on: FaultSpec['trigger']['on'], at: number): FaultSpec => ({ server, kind, trigger: { on, at } });

describe('parseFaultSpec: SERVER:KIND@TRIGGER', () => {
  it('each trigger', () => {
    expect(parseFaultSpec('disk:crash@message=1000')).toEqual(spec('disk', 'crash', 'message', 1000));
    expect(parseFaultSpec('net:hang@ms=200')).toEqual(spec('net', 'hang', 'ms', 200));
    expect(parseFaultSpec('app:oom@request=50')).toEqual(spec('app', 'oom', 'request', 50));
  });

  it('every kind on every server, lose on the disk only', () => {
    for (const server of SERVER_NAMES) {
      for (const kind of FAULT_KINDS) {
        if (kind === 'lose' && server !== 'disk') continue;
        expect(parseFaultSpec(`${server}:${kind}@message=7`)).toEqual(spec(server, kind, 'message', 7));
      }
    }
    expect(parseFaultSpec('disk:lose@request=3')).toEqual(spec('disk', 'lose', 'request', 3));
  });

  it('the least values: message=1, request=1, ms=0', () => {
    expect(parseFaultSpec('disk:exit@message=1').trigger).toEqual({ on: 'message', at: 1 });
    expect(parseFaultSpec('disk:exit@request=1').trigger).toEqual({ on: 'request', at: 1 });
    expect(parseFaultSpec('disk:exit@ms=0').trigger).toEqual({ on: 'ms', at: 0 });
  });

  it('the kind left out is a crash, a bare number a message number', () => {
    expect(parseFaultSpec('net@request=9')).toEqual(spec('net', 'crash', 'request', 9));
    expect(parseFaultSpec('app:garbage@12')).toEqual(spec('app', 'garbage', 'message', 12));
  });
});

describe('parseFaultSpec: the older forms read as they did', () => {
  it('SERVER@N crashes SERVER at its Nth message', () => {
    expect(parseFaultSpec('disk@1000')).toEqual(spec('disk', 'crash', 'message', 1000));
    expect(parseFaultSpec('net@1')).toEqual(spec('net', 'crash', 'message', 1));
  });

  it('SERVER@N:KIND', () => {
    expect(parseFaultSpec('app@500:hang')).toEqual(spec('app', 'hang', 'message', 500));
    expect(parseFaultSpec('disk@42:lose')).toEqual(spec('disk', 'lose', 'message', 42));
    expect(parseFaultSpec('net@3:crash')).toEqual(spec('net', 'crash', 'message', 3));
    expect(parseFaultSpec('disk@8:oom')).toEqual(spec('disk', 'oom', 'message', 8));
  });
});

describe('parseFaultSpec: what is wrong, and the expected form', () => {
  const cases: [string, string][] = [
    ['disk:melt@message=3', "unknown kind 'melt'; kinds: crash, exit, hang, oom, garbage, lose"],
    ['gpu:crash@message=3', "unknown server 'gpu'; servers: disk, net, app"],
    ['gpu@1', "unknown server 'gpu'; servers: disk, net, app"],
    [':crash@message=3', 'names no server; servers: disk, net, app'],
    ['disk:@message=3', "names no kind after ':'; kinds: crash, exit, hang, oom, garbage, lose"],
    ['disk@5:', "names no kind after ':'; kinds: crash, exit, hang, oom, garbage, lose"],
    ['disk@5:melt', "unknown kind 'melt'; kinds: crash, exit, hang, oom, garbage, lose"],
    ['net:lose@message=3', 'only the disk can lose a write (disk:lose@TRIGGER), not net'],
    ['app@9:lose', 'only the disk can lose a write (disk:lose@TRIGGER), not app'],
    ['disk:crash@when=3', "unknown trigger 'when'; triggers: message=N, request=N, ms=T"],
    ['disk:crash@soon', "unknown trigger 'soon'; triggers: message=N, request=N, ms=T"],
    ['disk:crash@ms', "trigger 'ms' has no value; write ms=T"],
    ['disk:crash@message=0', "message=N needs an integer N >= 1, got '0'"],
    ['disk:crash@request=0', "request=N needs an integer N >= 1, got '0'"],
    ['disk:crash@ms=-1', "ms=T needs an integer T >= 0, got '-1'"],
    ['disk:crash@ms=1.5', "ms=T needs an integer T >= 0, got '1.5'"],
    ['disk:crash@message=', "message=N needs an integer N >= 1, got ''"],
    ['disk:crash@message=abc', "message=N needs an integer N >= 1, got 'abc'"],
    ['disk:crash@message=1234567890123456', "message=N needs an integer N >= 1, got '1234567890123456'"],
    ['disk@0', "message=N needs an integer N >= 1, got '0'"],
    ['disk@-4', "message=N needs an integer N >= 1, got '-4'"],
    ['disk:crash@', "has no trigger after '@'; triggers: message=N, request=N, ms=T"],
    ['disk:crash', "has no '@TRIGGER'; expected SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)"],
    ['disk', "has no '@TRIGGER'; expected SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)"],
    ['', 'is empty; expected SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)'],
    ['disk:crash:hang@message=1', "has more than one ':' before '@'; expected SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)"],
    ['disk:crash@5:hang', "gives the kind twice ('crash' and 'hang'); expected SERVER:KIND@TRIGGER (e.g. disk:crash@message=1000)"],
  ];
  for (const [text, problem] of cases) {
    it(`'${text}'`, () => {
      const e = specError(() => parseFaultSpec(text));
      expect(e.text).toBe(text);
      expect(e.problem).toBe(problem);
      // the message quotes the text, so that a flag or field can go before it
      expect(e.message).toBe(`'${text}': ${problem}`);
      expect(e.message).not.toMatch(/--fault/);
    });
  }

  it('the example message, read after the flag', () => {
    expect(`--fault ${specError(() => parseFaultSpec('disk:melt@message=3')).message}`).toBe(
      "--fault 'disk:melt@message=3': unknown kind 'melt'; kinds: crash, exit, hang, oom, garbage, lose",
    );
  });
});

describe('formatFaultSpec', () => {
  it('the canonical form', () => {
    expect(formatFaultSpec(parseFaultSpec('disk@1000'))).toBe('disk:crash@message=1000');
    expect(formatFaultSpec(parseFaultSpec('app@500:hang'))).toBe('app:hang@message=500');
    expect(formatFaultSpec(spec('net', 'exit', 'ms', 0))).toBe('net:exit@ms=0');
  });

  it('parse(format(x)) is x, for every fault there can be', () => {
    const arbSpec = fc
      .record({
        server: fc.constantFrom(...SERVER_NAMES),
        kind: fc.constantFrom(...FAULT_KINDS),
        on: fc.constantFrom(...TRIGGER_KINDS),
        at: fc.integer({ min: 0, max: 999_999_999_999_999 }),
      })
      .filter((x) => (x.kind !== 'lose' || x.server === 'disk') && (x.on === 'ms' || x.at >= 1))
      .map((x) => spec(x.server, x.kind, x.on, x.at));
    fc.assert(
      fc.property(arbSpec, (x) => {
        expect(parseFaultSpec(formatFaultSpec(x))).toStrictEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('whatever the text, parseFaultSpec gives a fault that formats back to a parse of itself, or a FaultSpecError', () => {
    const alphabet = fc.constantFrom(...'disknetapp:@=crashmsgrequest0123456789-'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet })), (text) => {
        let x: FaultSpec;
        try {
          x = parseFaultSpec(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FaultSpecError);
          return;
        }
        expect(parseFaultSpec(formatFaultSpec(x))).toStrictEqual(x);
      }),
      { numRuns: 500 },
    );
  });
});

describe('random plans', () => {
  it('parseRandomPlan: count, seed an integer or a word, seed 1 by default', () => {
    expect(parseRandomPlan('random:count=5')).toEqual({ count: 5, seed: 1 });
    expect(parseRandomPlan('random:count=5,seed=42')).toEqual({ count: 5, seed: 42 });
    expect(parseRandomPlan('random:count=1000,seed=-3')).toEqual({ count: 1000, seed: -3 });
    expect(parseRandomPlan('random:seed=chaos-monkey,count=1')).toEqual({ count: 1, seed: 'chaos-monkey' });
  });

  const bad: [string, string][] = [
    ['random:count=0', "count must be an integer from 1 to 1000, got '0'"],
    ['random:count=1001', "count must be an integer from 1 to 1000, got '1001'"],
    ['random:count=two', "count must be an integer from 1 to 1000, got 'two'"],
    ['random:count=', 'count has no value; expected random:count=K[,seed=S]'],
    ['random:seed=3', 'gives no count; expected random:count=K[,seed=S]'],
    ['random', 'gives no count; expected random:count=K[,seed=S]'],
    ['random:count=2,count=3', 'gives count twice; expected random:count=K[,seed=S]'],
    ['random:count=2,rate=3', "unknown parameter 'rate'; expected random:count=K[,seed=S]"],
    ['random:count=2,seed=a b', "seed must be an integer or a word (letters, digits, '_', '.', '-'; at most 64), got 'a b'"],
    ['chaos:count=2', 'is not a random plan; expected random:count=K[,seed=S]'],
  ];
  for (const [text, problem] of bad) {
    it(`'${text}' is refused`, () => {
      const e = specError(() => parseRandomPlan(text));
      expect(e.message).toBe(`'${text}': ${problem}`);
    });
  }

  it('the same seed, the same plan; another seed, another plan', () => {
    const a = randomFaultPlan({ count: 50, seed: 7, requests: 1000 });
    expect(randomFaultPlan({ count: 50, seed: 7, requests: 1000 })).toEqual(a);
    expect(randomFaultPlan({ count: 50, seed: '7', requests: 1000 })).toEqual(a);
    expect(randomFaultPlan({ count: 50, seed: 8, requests: 1000 })).not.toEqual(a);
    expect(randomFaultPlan({ count: 50, requests: 1000 })).toEqual(randomFaultPlan({ count: 50, seed: 1, requests: 1000 }));
    // a longer plan starts as the shorter one
    expect(randomFaultPlan({ count: 80, seed: 7, requests: 1000 }).slice(0, 50)).toEqual(a);
  });

  it('does not touch Math.random', () => {
    const spy = vi.spyOn(Math, 'random');
    randomFaultPlan({ count: 20, seed: 3, requests: 10 });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('every fault in range: any server, no lose, triggers within the run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.oneof(fc.integer(), fc.string({ minLength: 1 })), fc.integer({ min: 0, max: 100_000 }), (count, seed, requests) => {
        const plan = randomFaultPlan({ count, seed, requests });
        expect(plan).toHaveLength(count);
        for (const f of plan) {
          expect(SERVER_NAMES).toContain(f.server);
          expect(RANDOM_KINDS).toContain(f.kind);
          expect(f.kind).not.toBe('lose');
          const [lo, hi] = { message: [1, Math.max(1, 4 * requests)], request: [1, Math.max(1, requests)], ms: [0, 1000] }[f.trigger.on];
          expect(Number.isInteger(f.trigger.at)).toBe(true);
          expect(f.trigger.at).toBeGreaterThanOrEqual(lo);
          expect(f.trigger.at).toBeLessThanOrEqual(hi);
          // every drawn fault is one its text gives back
          expect(parseFaultSpec(formatFaultSpec(f))).toEqual(f);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('draws every server, kind and trigger, near uniformly', () => {
    const plan = randomFaultPlan({ count: 1000, seed: 'spread', requests: 100 });
    const share = (f: (x: FaultSpec) => string, value: string) => plan.filter((x) => f(x) === value).length / plan.length;
    for (const s of SERVER_NAMES) expect(share((x) => x.server, s)).toBeGreaterThan(0.25);
    for (const k of RANDOM_KINDS) expect(share((x) => x.kind, k)).toBeGreaterThan(0.15);
    for (const t of TRIGGER_KINDS) expect(share((x) => x.trigger.on, t)).toBeGreaterThan(0.25);
    // with one request, message and request triggers can only be 1
    for (const f of randomFaultPlan({ count: 100, seed: 2, requests: 0 })) if (f.trigger.on !== 'ms') expect(f.trigger.at).toBe(1);
  });

  it('refuses a count out of range', () => {
    expect(() => randomFaultPlan({ count: 0, seed: 1, requests: 10 })).toThrow(RangeError);
    expect(() => randomFaultPlan({ count: 1001, seed: 1, requests: 10 })).toThrow(RangeError);
  });
});

describe('faultsFromText', () => {
  it('faults and random plans, in order', () => {
    const plan = randomFaultPlan({ count: 3, seed: 9, requests: 200 });
    expect(faultsFromText(['disk@10', 'random:count=3,seed=9', 'net:hang@ms=5'], 200)).toEqual([spec('disk', 'crash', 'message', 10), ...plan, spec('net', 'hang', 'ms', 5)]);
    expect(faultsFromText([], 200)).toEqual([]);
  });

  it('the random plans are drawn for the request count given', () => {
    expect(faultsFromText(['random:count=20'], 5)).toEqual(randomFaultPlan({ count: 20, seed: 1, requests: 5 }));
    expect(faultsFromText(['random:count=20'], 5)).not.toEqual(faultsFromText(['random:count=20'], 5000));
  });

  it('throws the first bad entry', () => {
    expect(specError(() => faultsFromText(['disk@1', 'disk:melt@ms=1', 'random:count=0'], 10)).text).toBe('disk:melt@ms=1');
    expect(specError(() => faultsFromText(['random:count=0'], 10)).text).toBe('random:count=0');
  });
});

describe('the CLI hands every fault to the library', () => {
  beforeEach(() => {
    given.runs.length = 0;
  });

  async function cli(...argv: string[]): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const code = await main(argv, { out: () => {}, err: (t) => void (stderr += t) });
    return { code, stderr };
  }

  it('--fault repeated: every one, in order; the older form too', async () => {
    const a = await cli('run', '--quiet', '--fault', 'disk@1000', '--fault', 'app@500:hang', '--fault=net:exit@request=20');
    expect(a.code, a.stderr).toBe(0);
    expect(given.runs).toHaveLength(1);
    expect((given.runs[0] as { faults: FaultSpec[] }).faults).toEqual([spec('disk', 'crash', 'message', 1000), spec('app', 'hang', 'message', 500), spec('net', 'exit', 'request', 20)]);
  });

  it('--faults random:... is drawn for --requests, or for 1000 requests without it', async () => {
    await cli('run', '--quiet', '--faults', 'random:count=4,seed=5', '--requests', '30');
    await cli('run', '--quiet', '--faults', 'random:count=4,seed=5');
    const faults = given.runs.map((r) => (r as { faults: FaultSpec[] }).faults);
    expect(faults[0]).toEqual(randomFaultPlan({ count: 4, seed: 5, requests: 30 }));
    expect(faults[1]).toEqual(randomFaultPlan({ count: 4, seed: 5, requests: 1000 }));
  });

  it('--max-restarts, --restart-window-ms and --heap-limit-mb reach the options; their defaults without them', async () => {
    await cli('run', '--quiet', '--mode', 'microkernel', '--max-restarts', '0', '--restart-window-ms', '250', '--heap-limit-mb', '64');
    await cli('run', '--quiet', '--mode', 'microkernel');
    const [set, unset] = given.runs as { maxRestarts: number; restartWindowMs: number; heapLimitMb: number; faults: FaultSpec[] }[];
    expect([set.maxRestarts, set.restartWindowMs, set.heapLimitMb]).toEqual([0, 250, 64]);
    const { DEFAULT_KERNEL_CONFIG } = await import('../src/config.js');
    expect([unset.maxRestarts, unset.restartWindowMs, unset.heapLimitMb, unset.faults]).toEqual([
      DEFAULT_KERNEL_CONFIG.maxRestarts,
      DEFAULT_KERNEL_CONFIG.restartWindowMs,
      DEFAULT_KERNEL_CONFIG.heapLimitMb,
      [],
    ]);
  });

  it('a bad --fault after good ones: refused before any run', async () => {
    const a = await cli('run', '--fault', 'disk@1', '--fault', 'gpu@2', '--fault', 'net@3');
    expect(a.code).toBe(2);
    expect(a.stderr.trim()).toBe("microlith: --fault 'gpu@2': unknown server 'gpu'; servers: disk, net, app");
    expect(given.runs).toHaveLength(0);
  });
});
