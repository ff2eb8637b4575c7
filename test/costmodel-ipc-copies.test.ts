/**
 * How many times each profile's IPC copies a message, and what that does to
 * the price of a long message. Liedtke's abstract of "Improving IPC by Kernel
 * Design" (SOSP 1993) gives the anchor: compared with Mach on the same 50 MHz
 * 486, L3's gains "range from a factor of 22 (8-byte messages) to 3 (4-Kbyte
 * messages)". The gap shrinks with length because both kernels must copy the
 * bytes, Mach twice (into a kernel buffer and out again), L3 once (straight
 * into the receiver's buffer, mapped for the moment into the sender's address
 * space). The one-way messages below are priced from the events the copy
 * transport counts for them (one message, one crossing, one kernel entry, the
 * payload's bytes copied once), exactly as a run's counters are priced.
 *
 * Also how many requests each run of `microlith calibrate --check` gets, the
 * check of those prices against host-measured runs.
 */
import { describe, expect, it } from 'vitest';
import { messageUs, priceCpu, priceRoundTrip } from '../src/costmodel/price.js';
import { checkRequests } from '../src/costmodel/calibrate.js';
import { loadProfile, type Profile } from '../src/costmodel/profile.js';
import { loadWorkload } from '../src/workload/load.js';
import { COUNTER_NAMES, type CounterValues } from '../src/metrics/counters.js';

/** The counted events of one one-way message carrying `bytes` payload bytes by value (copy transport). */
function oneMessage(bytes: number): CounterValues {
  const c = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as CounterValues;
  return { ...c, ipcMessages: 1, crossings: 1, syscalls: 1, bytesCopied: bytes, ipcPayloadBytes: bytes };
}

/** Modelled µs of one one-way message of `bytes` under the microkernel priced by `p`. */
function oneWayUs(p: Profile, bytes: number): number {
  return Object.values(priceCpu(oneMessage(bytes), 'microkernel', p)).reduce((a, b) => a + b, 0);
}

const l3 = loadProfile('i486-50-l3');
const mach = loadProfile('i486-50-mach');

describe('ipcCopiesPerMessage of the shipped profiles', () => {
  it('two for a kernel buffer in between (Mach, pipes), one for a direct copy (L3, L4, seL4), two for the host\'s structured clone', () => {
    const want: Record<string, number> = {
      'i486-50-l3': 1,
      'i486-50-mach': 2,
      'pentium-pro-1996': 2,
      'pentium-133-1997': 1,
      skylake: 1,
      host: 2,
    };
    for (const [name, copies] of Object.entries(want)) {
      const p = loadProfile(name);
      expect(p.params.ipcCopiesPerMessage.value, name).toBe(copies);
      expect(p.params.ipcCopiesPerMessage.unit, name).toBe('copies');
      expect(p.from.ipcCopiesPerMessage, name).toBe(`profiles/${name}.json`); // each profile says it itself, with its own source
    }
  });
});

describe('one-way IPC on a 50 MHz 486: Mach against L3, as Liedtke (SOSP 1993) reports it', () => {
  it('prices a message as messageUs plus bytes / 1024 × copies × copyUsPerKiB: 4096 bytes, L3 5 + 164 = 169 µs, Mach 115 + 328 = 443 µs', () => {
    expect(l3.params.copyUsPerKiB.value).toBe(41);
    expect(mach.params.copyUsPerKiB.value).toBe(41); // the same machine: inherited
    expect(oneWayUs(l3, 4096)).toBeCloseTo(5 + 4 * 1 * 41, 9);
    expect(oneWayUs(mach, 4096)).toBeCloseTo(115 + 4 * 2 * 41, 9);
    expect(oneWayUs(l3, 8)).toBeCloseTo(5 + (8 / 1024) * 41, 9); // 5.3203
    expect(oneWayUs(mach, 8)).toBeCloseTo(115 + (8 / 1024) * 2 * 41, 9); // 115.6406
    // bench ipc's modelled round trip follows the same rule: two messages, each copying its payload
    for (const p of [l3, mach]) {
      for (const n of [8, 4096]) expect(priceRoundTrip(p, 2 * n).roundTripUs).toBeCloseTo(2 * oneWayUs(p, n), 3);
    }
  });

  // "a factor of 22": within 5% (20.9 to 23.1). Mach's 115 µs is itself "about",
  // and the 8 bytes L3 carries in registers are priced as a copy here (0.32 µs).
  it('8 bytes: Mach/L3 is about 22 (within 5%)', () => {
    const ratio = oneWayUs(mach, 8) / oneWayUs(l3, 8);
    expect(ratio).toBeCloseTo(21.74, 2);
    expect(ratio).toBeGreaterThanOrEqual(22 * 0.95);
    expect(ratio).toBeLessThanOrEqual(22 * 1.05);
  });

  // "a factor of ... 3", a figure rounded to a whole number: 2.5 to 3.5. The
  // 486's copy cost (41 µs/KiB) is an estimate from instruction timings, not
  // fitted to this ratio (an exact 3 would need 25 µs/KiB).
  it('4 KB (4096 bytes): Mach/L3 is about 3 (2.5 to 3.5)', () => {
    const ratio = oneWayUs(mach, 4096) / oneWayUs(l3, 4096);
    expect(ratio).toBeCloseTo(443 / 169, 9); // 2.62
    expect(ratio).toBeGreaterThanOrEqual(2.5);
    expect(ratio).toBeLessThanOrEqual(3.5);
  });

  it('the advantage shrinks as messages grow, towards the ratio of the copies (2)', () => {
    const sizes = [8, 64, 512, 1024, 4096, 16384, 1 << 20];
    const ratios = sizes.map((n) => oneWayUs(mach, n) / oneWayUs(l3, n));
    for (let i = 1; i < ratios.length; i++) expect(ratios[i], `${sizes[i]} bytes`).toBeLessThan(ratios[i - 1]);
    expect(ratios[ratios.length - 1]).toBeGreaterThan(2);
    expect(ratios[ratios.length - 1]).toBeLessThan(2.01);
  });

  it('with one copy per message for both (as every profile was priced before), 4 KB would come out at 1.65, outside the published 3', () => {
    const oneCopy = (p: Profile, n: number) => messageUs(p) + (n / 1024) * p.params.copyUsPerKiB.value;
    const ratio = oneCopy(mach, 4096) / oneCopy(l3, 4096);
    expect(ratio).toBeCloseTo((115 + 164) / 169, 9);
    expect(ratio).toBeLessThan(2.5);
  });
});

describe('requests per run of calibrate --check', () => {
  const bulk = loadWorkload('ftp-bulk');
  const web = loadWorkload('specweb96');

  it('a workload of large whole files gets a hundredth of what was asked, at least 20', () => {
    expect(checkRequests(bulk, 10_000)).toBe(100);
    expect(checkRequests(bulk, 1000)).toBe(20);
    expect(checkRequests(web, 1000)).toBe(1000);
  });

  it('but never more than was asked, and no workload more than its own count', () => {
    expect(checkRequests(bulk, 5)).toBe(5);
    expect(checkRequests(web, 5)).toBe(5);
    expect(checkRequests(web, 10 ** 6)).toBe(web.requests);
    expect(checkRequests(bulk, 10 ** 6)).toBe(bulk.requests);
  });
});
