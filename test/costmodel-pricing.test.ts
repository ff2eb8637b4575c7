/**
 * The cost model's arithmetic (src/costmodel/price.ts): counted events times a
 * profile's costs. Every expected figure below is worked out by hand next to
 * it, from a profile of small round numbers built here; then a property test
 * over random counters and profiles; then real runs priced end to end, whose
 * modelled figures are recomputed here from the report's own counters.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../src/compare.js';
import type { Mode } from '../src/config.js';
import { CPU_PARTS, messageUs, price, priceCpu, priceDisk, priceRoundTrip, type CpuPart, type Modelled } from '../src/costmodel/price.js';
import { loadProfile, PARAM_NAMES, type ParamName, type Profile } from '../src/costmodel/profile.js';
import { round } from '../src/metrics/stats.js';
import { COUNTER_NAMES, type CounterName, type CounterValues } from '../src/metrics/counters.js';
import type { ServerName } from '../src/protocol.js';
import { run, type RunReport } from '../src/run.js';

// ---------------------------------------------------------------------------
// Hand-built profiles and counters

/** The hand profile's values: small round numbers, so every product below is exact. */
const HAND: Record<ParamName, number> = {
  cores: 2,
  syscallUs: 2,
  ipcEntryUs: 1,
  contextSwitchUs: 2,
  ipcOneWayUs: 10,
  ipcCopiesPerMessage: 1,
  copyUsPerKiB: 4,
  checksumUsPerKiB: 2,
  frameUs: 3,
  appRequestUs: 10,
  wireUsPerKiB: 1,
  wireRequestUsPerKiB: 5,
  diskPositionMs: 2,
  diskRotationMs: 1,
  diskTransferMBps: 8,
  diskOnCpu: 0,
};

/** A resolved profile named `name` with HAND's values, some replaced. */
function profileOf(changes: Partial<Record<ParamName, number>> = {}, name = 'hand'): Profile {
  const values = { ...HAND, ...changes };
  const params = Object.fromEntries(
    PARAM_NAMES.map((n) => [n, { value: values[n], unit: 'u', source: 'chosen by hand for this test' }]),
  ) as Profile['params'];
  const from = Object.fromEntries(PARAM_NAMES.map((n) => [n, 'hand.json'])) as Profile['from'];
  return { name, description: 'a hand-built profile', file: 'hand.json', measured: null, params, from };
}

/** Every counter 0, then `set`. */
function counters(set: Partial<CounterValues> = {}): CounterValues {
  const c = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as CounterValues;
  return { ...c, ...set };
}

/** Counters where every priced event happens, each a chosen number. */
const SOME = counters({
  appRequests: 10,
  bytesCopied: 20480, // 20 KiB
  bytesChecksummed: 4096, // 4 KiB sent
  rxBytesChecksummed: 1024, // 1 KiB received
  ipcMessages: 30,
  crossings: 30,
  syscalls: 30,
  framesSent: 40,
  framesReceived: 10,
  payloadBytes: 10240, // 10 KiB of responses
  bytesReceived: 2048, // 2 KiB of requests
  diskSeeks: 3,
  diskBlocksRead: 5,
  diskBlocksWritten: 1,
  // counted, but not priced: must change nothing
  directCalls: 999,
  messagesHandled: 999,
  wireBytes: 999,
  diskReads: 999,
  diskWrites: 999,
  diskBytesWritten: 999,
  cacheHits: 999,
  cacheMisses: 999,
  ipcPayloadBytes: 999,
});

/** SOME priced by HAND under the microkernel, by hand. */
const SOME_MICRO: Record<CpuPart, number> = {
  app: 10 * 10, // appRequests × appRequestUs = 100
  copies: (20480 / 1024) * 1 * 4, // 20 KiB × 1 copy × 4 µs = 80
  checksums: ((4096 + 1024) / 1024) * 2, // (sent + received) 5 KiB × 2 µs = 10
  ipc: 30 * (10 - 1 - 2), // messages × (oneWay − entry − switch) = 30 × 7 = 210
  contextSwitches: 30 * 2, // crossings × switch = 60
  syscalls: 30 * 1, // microkernel: each kernel entry at ipcEntryUs = 30
  frames: (40 + 10) * 3, // (sent + received) × frameUs = 150
  wire: (10240 / 1024) * 1 + (2048 / 1024) * 5, // 10 KiB × 1 + 2 KiB × 5 = 20
};
/** The same under the monolith: only the system calls differ (at syscallUs). */
const SOME_MONO: Record<CpuPart, number> = { ...SOME_MICRO, syscalls: 30 * 2 };
/** 3 seeks × (2 + 1) ms + 6 blocks × 4096 B / 8 MB/s = 9000 + 3072 µs. */
const SOME_DISK = 3 * (2 + 1) * 1000 + ((5 + 1) * 4096) / 8;

const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

describe('priceCpu: each part by hand', () => {
  it('the microkernel: every part, system calls priced at ipcEntryUs', () => {
    expect(priceCpu(SOME, 'microkernel', profileOf())).toEqual(SOME_MICRO);
    expect(SOME_MICRO).toEqual({ app: 100, copies: 80, checksums: 10, ipc: 210, contextSwitches: 60, syscalls: 30, frames: 150, wire: 20 });
  });

  it('the monolith: system calls priced at syscallUs, everything else alike', () => {
    expect(priceCpu(SOME, 'monolithic', profileOf())).toEqual(SOME_MONO);
    expect(SOME_MONO.syscalls).toBe(60);
  });

  it('the parts are exactly CPU_PARTS, in pricing order', () => {
    expect(Object.keys(priceCpu(SOME, 'microkernel', profileOf()))).toEqual([...CPU_PARTS]);
  });

  it('system calls follow syscallUs in the monolith and ipcEntryUs in the microkernel, not the other way round', () => {
    const p = profileOf({ syscallUs: 7, ipcEntryUs: 0.5 });
    const c = counters({ syscalls: 4 });
    expect(priceCpu(c, 'monolithic', p).syscalls).toBe(4 * 7);
    expect(priceCpu(c, 'microkernel', p).syscalls).toBe(4 * 0.5);
  });

  it('the IPC part is floored at 0 when ipcOneWayUs < entry + switch', () => {
    // 2 − 1 − 2 = −1: a message costs no more than its entry and switch
    const p = profileOf({ ipcOneWayUs: 2 });
    const c = counters({ ipcMessages: 30, crossings: 30 });
    const cpu = priceCpu(c, 'microkernel', p);
    expect(cpu.ipc).toBe(0);
    expect(cpu.contextSwitches).toBe(30 * 2);
    // exactly entry + switch: 0 as well; one more µs: 1 per message
    expect(priceCpu(c, 'microkernel', profileOf({ ipcOneWayUs: 3 })).ipc).toBe(0);
    expect(priceCpu(c, 'microkernel', profileOf({ ipcOneWayUs: 4 })).ipc).toBe(30 * 1);
  });

  it('checksums count received bytes (rxBytesChecksummed) as well as sent ones', () => {
    const p = profileOf();
    expect(priceCpu(counters({ rxBytesChecksummed: 3072 }), 'monolithic', p).checksums).toBe((3072 / 1024) * 2);
    expect(priceCpu(counters({ bytesChecksummed: 2048 }), 'monolithic', p).checksums).toBe((2048 / 1024) * 2);
    expect(priceCpu(counters({ bytesChecksummed: 2048, rxBytesChecksummed: 3072 }), 'monolithic', p).checksums).toBe(((2048 + 3072) / 1024) * 2);
  });

  it('frames count received frames as well as sent ones', () => {
    const p = profileOf();
    expect(priceCpu(counters({ framesReceived: 7 }), 'monolithic', p).frames).toBe(7 * 3);
    expect(priceCpu(counters({ framesSent: 5, framesReceived: 7 }), 'microkernel', p).frames).toBe((5 + 7) * 3);
  });

  it('copies are per KiB of 1024 bytes: 512 bytes at 4 µs/KiB is 2 µs', () => {
    expect(priceCpu(counters({ bytesCopied: 512 }), 'microkernel', profileOf()).copies).toBe((512 / 1024) * 4);
    expect((512 / 1024) * 4).toBe(2);
  });

  it('copies: bytesCopied × ipcCopiesPerMessage × copyUsPerKiB under the microkernel: 2 KiB × 2 copies × 4 µs = 16 µs', () => {
    const c = counters({ bytesCopied: 2048 });
    expect(priceCpu(c, 'microkernel', profileOf({ ipcCopiesPerMessage: 2 })).copies).toBe((2048 / 1024) * 2 * 4);
    expect(priceCpu(c, 'microkernel', profileOf({ ipcCopiesPerMessage: 1 })).copies).toBe((2048 / 1024) * 1 * 4);
    expect(priceCpu(c, 'microkernel', profileOf({ ipcCopiesPerMessage: 0 })).copies).toBe(0);
    // only the copies part moves
    const two = priceCpu(SOME, 'microkernel', profileOf({ ipcCopiesPerMessage: 2 }));
    expect(two).toEqual({ ...SOME_MICRO, copies: (20480 / 1024) * 2 * 4 });
  });

  it('the monolith prices a counted copy as one copy, whatever the microkernel IPC does (it counts none in practice)', () => {
    const c = counters({ bytesCopied: 2048 });
    expect(priceCpu(c, 'monolithic', profileOf({ ipcCopiesPerMessage: 2 })).copies).toBe((2048 / 1024) * 4);
    expect(priceCpu(SOME, 'monolithic', profileOf({ ipcCopiesPerMessage: 2 }))).toEqual(SOME_MONO);
  });

  it('counters that are not priced change nothing', () => {
    const unpriced: CounterName[] = ['directCalls', 'messagesHandled', 'wireBytes', 'diskReads', 'diskWrites', 'diskBytesWritten', 'cacheHits', 'cacheMisses', 'ipcPayloadBytes', 'enosys', 'descriptorsRefused', 'diskLookups'];
    const c = counters(Object.fromEntries(unpriced.map((n) => [n, 12345])));
    for (const mode of ['monolithic', 'microkernel'] as const) {
      expect(sumOf(priceCpu(c, mode, profileOf()))).toBe(0);
    }
    expect(priceDisk(c, profileOf())).toBe(0);
  });
});

describe('priceDisk: seeks × (position + rotation) ms + blocks × 4096 / MBps', () => {
  it('SOME by hand: 9000 µs of positioning + 3072 µs of transfer', () => {
    expect(priceDisk(SOME, profileOf())).toBe(SOME_DISK);
    expect(SOME_DISK).toBe(12072);
  });

  it('positioning only: 4 seeks × (2.5 + 0.5) ms = 12000 µs', () => {
    expect(priceDisk(counters({ diskSeeks: 4 }), profileOf({ diskPositionMs: 2.5, diskRotationMs: 0.5 }))).toBe(4 * (2.5 + 0.5) * 1000);
  });

  it('transfer only, blocks read and written alike: 2 + 3 blocks × 4096 B / 4 MB/s = 5120 µs', () => {
    const p = profileOf({ diskTransferMBps: 4 });
    expect(priceDisk(counters({ diskBlocksRead: 2, diskBlocksWritten: 3 }), p)).toBe((5 * 4096) / 4);
    expect(priceDisk(counters({ diskBlocksRead: 5 }), p)).toBe(priceDisk(counters({ diskBlocksWritten: 5 }), p));
  });
});

describe('messageUs and priceRoundTrip', () => {
  it('a message costs ipcOneWayUs when that exceeds entry + switch', () => {
    expect(messageUs(profileOf())).toBe(1 + 2 + (10 - 1 - 2));
    expect(messageUs(profileOf())).toBe(10);
  });

  it('and entry + switch when ipcOneWayUs is less (the IPC part floored at 0)', () => {
    expect(messageUs(profileOf({ ipcOneWayUs: 2 }))).toBe(1 + 2 + 0);
  });

  it('a round trip is two messages plus the copies: 2 × 10 + 2 KiB × 4 = 28 µs', () => {
    expect(priceRoundTrip(profileOf(), 2048)).toEqual({ label: 'modelled (hand)', roundTripUs: 2 * 10 + (2048 / 1024) * 4 });
    expect(priceRoundTrip(profileOf(), 0).roundTripUs).toBe(20);
  });

  it('copies each counted byte ipcCopiesPerMessage times, as a run is priced: 2 × 10 + 2 KiB × 2 copies × 4 = 36 µs', () => {
    expect(priceRoundTrip(profileOf({ ipcCopiesPerMessage: 2 }), 2048).roundTripUs).toBe(2 * 10 + (2048 / 1024) * 2 * 4);
    expect(priceRoundTrip(profileOf({ ipcCopiesPerMessage: 2 }), 2048).roundTripUs).toBe(36);
    // the same as priceCpu of the round trip's counted events (two messages, the bytes copied)
    const p = profileOf({ ipcCopiesPerMessage: 2 });
    const twoMessages = counters({ ipcMessages: 2, crossings: 2, syscalls: 2, bytesCopied: 2048 });
    expect(sumOf(priceCpu(twoMessages, 'microkernel', p))).toBe(36);
  });

  it('is rounded to 3 decimals: 2 × 10 + 100/1024 × 4 = 20.390625 -> 20.391', () => {
    expect(2 * 10 + (100 / 1024) * 4).toBe(20.390625);
    expect(priceRoundTrip(profileOf(), 100).roundTripUs).toBe(20.391);
  });

  it('names the profile in its label', () => {
    expect(priceRoundTrip(profileOf({}, 'other-name'), 8).label).toBe('modelled (other-name)');
  });
});

// ---------------------------------------------------------------------------
// price(): per request, per domain, the bottleneck

const SERVERS: ServerName[] = ['disk', 'net', 'app'];
const ONE_DOMAIN = [{ name: 'kernel', servers: SERVERS }];
const THREE_DOMAINS = SERVERS.map((s) => ({ name: s, servers: [s] }));

/** `by` for the servers named, every other server counting nothing. */
function byServer(by: Partial<Record<ServerName, CounterValues>>): Record<ServerName, CounterValues> {
  return Object.fromEntries(SERVERS.map((s) => [s, by[s] ?? counters()])) as Record<ServerName, CounterValues>;
}

describe('price: per request, per domain, bottleneck and requests/s', () => {
  it('SOME in one server of a monolith over 5 requests: every part / 5', () => {
    const m = price(profileOf(), 'monolithic', byServer({ net: SOME }), ONE_DOMAIN, 5);
    const cpu = sumOf(SOME_MONO); // 100 + 80 + 10 + 210 + 60 + 60 + 150 + 20 = 690
    expect(cpu).toBe(690);
    expect(m.perRequestUs).toEqual({ ...Object.fromEntries(Object.entries(SOME_MONO).map(([k, v]) => [k, v / 5])), disk: SOME_DISK / 5 });
    expect(m.cpuUsPerRequest).toBe(690 / 5);
    expect(m.diskUsPerRequest).toBe(12072 / 5);
    expect(m.domainsUsPerRequest).toEqual({ kernel: 690 / 5 });
    // processors: 138 µs / min(2 cores, 1 domain) = 138; disk 2414.4 µs: the disk bounds it
    expect(m.bottleneck).toBe('disk');
    expect(m.requestsPerSec).toBe(1e6 / (12072 / 5));
    expect(m.label).toBe('modelled (hand)');
    expect(m.profile).toBe('hand');
  });

  it('one domain and 4 cores: the processors count as one (min(cores, domains)), so requests/s = 10^6 / cpu', () => {
    const c = counters({ appRequests: 10 }); // 10 × 10 = 100 µs over 4 requests = 25 µs
    const m = price(profileOf({ cores: 4 }), 'monolithic', byServer({ app: c }), ONE_DOMAIN, 4);
    expect(m.cpuUsPerRequest).toBe(25);
    expect(m.bottleneck).toBe('processors');
    expect(m.requestsPerSec).toBe(1e6 / 25); // not 1e6 / (25 / 4)
  });

  it('the busiest domain bounds a microkernel when the processors have room', () => {
    // app: 20 requests × 10 = 200 µs; net: 10 frames × 3 = 30 µs; disk: 2 KiB copied × 4 = 8 µs (a tiny disk transfer)
    const m = price(
      profileOf({ cores: 4, diskTransferMBps: 1e6 }),
      'microkernel',
      byServer({ app: counters({ appRequests: 20 }), net: counters({ framesSent: 10 }), disk: counters({ bytesCopied: 2048, diskBlocksRead: 1 }) }),
      THREE_DOMAINS,
      2,
    );
    expect(m.domainsUsPerRequest).toEqual({ disk: 8 / 2, net: 30 / 2, app: 200 / 2 });
    expect(m.cpuUsPerRequest).toBe((200 + 30 + 8) / 2); // 119
    // processors: 119 / min(4, 3) = 39.67; app 100; disk 4096 / 1e6 / 2 µs
    expect(m.perRequestUs.disk).toBe(4096 / 1e6 / 2);
    expect(m.bottleneck).toBe('domain app');
    expect(m.requestsPerSec).toBe(1e6 / 100);
  });

  it('the processors bound it when the domains are even and outnumber the cores', () => {
    // each domain 10 requests × 10 = 100 µs; 300 µs / min(2, 3) = 150 > 100
    const c = counters({ appRequests: 10 });
    const m = price(profileOf({ cores: 2 }), 'microkernel', byServer({ app: c, net: c, disk: c }), THREE_DOMAINS, 1);
    expect(m.domainsUsPerRequest).toEqual({ disk: 100, net: 100, app: 100 });
    expect(m.bottleneck).toBe('processors');
    expect(m.requestsPerSec).toBe(1e6 / (300 / 2));
  });

  it('per-domain sums with several servers in one domain', () => {
    const domains = [
      { name: 'io', servers: ['disk', 'net'] as ServerName[] },
      { name: 'apps', servers: ['app'] as ServerName[] },
    ];
    const disk = counters({ bytesCopied: 1024 }); // 4 µs
    const net = counters({ framesSent: 2, framesReceived: 1, bytesChecksummed: 1024 }); // 3 × 3 + 1 × 2 = 11 µs
    const app = counters({ appRequests: 1, syscalls: 3 }); // 10 + 3 × 1 = 13 µs
    const m = price(profileOf({ cores: 1 }), 'microkernel', byServer({ disk, net, app }), domains, 1);
    expect(m.domainsUsPerRequest).toEqual({ io: 4 + 11, apps: 13 });
    expect(m.cpuUsPerRequest).toBe(4 + 11 + 13);
    expect(m.perRequestUs.frames).toBe(9);
    expect(m.perRequestUs.syscalls).toBe(3);
    // one core: processors 28 > io 15
    expect(m.bottleneck).toBe('processors');
    expect(m.requestsPerSec).toBe(1e6 / 28);
    // with 2 cores: 28 / 2 = 14 < io 15
    const m2 = price(profileOf({ cores: 2 }), 'microkernel', byServer({ disk, net, app }), domains, 1);
    expect(m2.bottleneck).toBe('domain io');
    expect(m2.requestsPerSec).toBe(1e6 / 15);
  });

  it('sums the same part over the servers of every domain', () => {
    const c = counters({ ipcMessages: 2, crossings: 2 }); // per server: ipc 2 × 7 = 14, switches 2 × 2 = 4
    const m = price(profileOf(), 'microkernel', byServer({ disk: c, net: c, app: c }), THREE_DOMAINS, 2);
    expect(m.perRequestUs.ipc).toBe((3 * 14) / 2);
    expect(m.perRequestUs.contextSwitches).toBe((3 * 4) / 2);
  });

  it('diskOnCpu = 1: disk time is processor time of the disk server\'s domain, and "disk" is no bottleneck', () => {
    // disk server: 1 seek × 3 ms + 1 block × 4096 / 8 = 3512 µs; app: 100 µs; over 2 requests
    const by = byServer({ disk: counters({ diskSeeks: 1, diskBlocksRead: 1 }), app: counters({ appRequests: 10 }) });
    const off = price(profileOf({ cores: 4 }), 'microkernel', by, THREE_DOMAINS, 2);
    expect(off.perRequestUs.disk).toBe(3512 / 2);
    expect(off.domainsUsPerRequest).toEqual({ disk: 0, net: 0, app: 50 });
    expect(off.cpuUsPerRequest).toBe(50);
    expect(off.bottleneck).toBe('disk');
    expect(off.requestsPerSec).toBe(1e6 / 1756);

    const on = price(profileOf({ cores: 4, diskOnCpu: 1 }), 'microkernel', by, THREE_DOMAINS, 2);
    expect(on.perRequestUs.disk).toBe(3512 / 2);
    expect(on.diskUsPerRequest).toBe(1756);
    expect(on.domainsUsPerRequest).toEqual({ disk: 1756, net: 0, app: 50 });
    expect(on.cpuUsPerRequest).toBe(50 + 1756);
    // processors (1806 / 3 = 602) < domain disk (1756): the disk's domain, not the disk
    expect(on.bottleneck).toBe('domain disk');
    expect(on.requestsPerSec).toBe(1e6 / 1756);
  });

  it('diskOnCpu = 1 in a monolith: the disk time joins the one domain, the processors are the bottleneck', () => {
    const m = price(profileOf({ diskOnCpu: 1 }), 'monolithic', byServer({ disk: SOME }), ONE_DOMAIN, 1);
    expect(m.cpuUsPerRequest).toBe(690 + 12072);
    expect(m.domainsUsPerRequest).toEqual({ kernel: 690 + 12072 });
    expect(m.bottleneck).toBe('processors');
    expect(m.requestsPerSec).toBe(1e6 / (690 + 12072));
  });

  it('completed = 0 gives zeros, not NaN or Infinity', () => {
    for (const diskOnCpu of [0, 1]) {
      const m = price(profileOf({ diskOnCpu }), 'microkernel', byServer({ disk: SOME, net: SOME, app: SOME }), THREE_DOMAINS, 0);
      const numbers = [...Object.values(m.perRequestUs), m.cpuUsPerRequest, m.diskUsPerRequest, ...Object.values(m.domainsUsPerRequest), m.requestsPerSec];
      expect(numbers.length).toBe(CPU_PARTS.length + 1 + 1 + 1 + 3 + 1); // parts, disk, cpu, disk again, 3 domains, requests/s
      for (const x of numbers) expect(x).toBe(0);
      expect(typeof m.bottleneck).toBe('string');
    }
  });

  it('no events at all: requests/s is 0 rather than Infinity', () => {
    const m = price(profileOf(), 'monolithic', byServer({}), ONE_DOMAIN, 10);
    expect(m.requestsPerSec).toBe(0);
    expect(m.cpuUsPerRequest).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Properties

const arbCounters: fc.Arbitrary<CounterValues> = fc.record(
  Object.fromEntries(COUNTER_NAMES.map((n) => [n, fc.nat({ max: 1e9 })])) as Record<CounterName, fc.Arbitrary<number>>,
);

/** A valid profile: costs from 0 to 10^6 in steps of 1/1000 (so no product underflows), cores >= 1, a transfer rate > 0. */
const arbProfile: fc.Arbitrary<Profile> = fc
  .record({
    ...(Object.fromEntries(PARAM_NAMES.map((n) => [n, fc.integer({ min: 0, max: 1e9 }).map((k) => k / 1000)])) as Record<ParamName, fc.Arbitrary<number>>),
    cores: fc.integer({ min: 1, max: 64 }),
    diskTransferMBps: fc.integer({ min: 1, max: 1e9 }).map((k) => k / 1000),
    diskOnCpu: fc.constantFrom(0, 1),
  })
  .map((v) => profileOf(v as Record<ParamName, number>, 'random'));

/** The three servers split into 1 to 3 domains. */
const arbDomains = fc.constantFrom(
  ONE_DOMAIN,
  THREE_DOMAINS,
  [{ name: 'a', servers: ['disk', 'net'] as ServerName[] }, { name: 'b', servers: ['app'] as ServerName[] }],
  [{ name: 'a', servers: ['net'] as ServerName[] }, { name: 'b', servers: ['app', 'disk'] as ServerName[] }],
);

const arbMode = fc.constantFrom<Mode>('monolithic', 'microkernel');

const closeTo = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('properties over random counters and profiles', () => {
  it('every component is finite and >= 0; cpuUsPerRequest is the sum of the CPU parts (plus disk when diskOnCpu)', () => {
    fc.assert(
      fc.property(arbProfile, arbMode, arbDomains, arbCounters, arbCounters, arbCounters, fc.nat({ max: 1e6 }), (p, mode, domains, d, n, a, completed) => {
        const m = price(p, mode, { disk: d, net: n, app: a }, domains, completed);
        const all = [...Object.values(m.perRequestUs), m.cpuUsPerRequest, m.diskUsPerRequest, ...Object.values(m.domainsUsPerRequest), m.requestsPerSec];
        for (const x of all) {
          expect(Number.isFinite(x)).toBe(true);
          expect(x).toBeGreaterThanOrEqual(0);
        }
        const cpuParts = CPU_PARTS.reduce((s, k) => s + m.perRequestUs[k], 0);
        const want = cpuParts + (p.params.diskOnCpu.value === 1 ? m.perRequestUs.disk : 0);
        expect(closeTo(m.cpuUsPerRequest, want), `${m.cpuUsPerRequest} vs ${want}`).toBe(true);
        expect(m.diskUsPerRequest).toBe(m.perRequestUs.disk);
        // the domains add up to the processors' total
        const domainSum = Object.values(m.domainsUsPerRequest).reduce((s, x) => s + x, 0);
        expect(closeTo(domainSum, m.cpuUsPerRequest), `${domainSum} vs ${m.cpuUsPerRequest}`).toBe(true);
        // requests/s is 10^6 over the largest of the limits
        const cores = Math.min(p.params.cores.value, domains.length);
        const limits = [m.cpuUsPerRequest / cores, ...(domains.length > 1 ? Object.values(m.domainsUsPerRequest) : []), ...(p.params.diskOnCpu.value === 1 ? [] : [m.perRequestUs.disk])];
        const worst = Math.max(...limits);
        expect(closeTo(m.requestsPerSec, worst > 0 ? 1e6 / worst : 0)).toBe(true);
        if (m.bottleneck === 'processors') expect(closeTo(m.cpuUsPerRequest / cores, worst)).toBe(true);
        else if (m.bottleneck === 'disk') expect(m.perRequestUs.disk).toBe(worst);
        else expect(m.domainsUsPerRequest[m.bottleneck.replace(/^domain /, '')]).toBe(worst);
      }),
      { numRuns: 500 },
    );
  });

  it('doubling every counter doubles every component (and halves requests/s)', () => {
    const double = (c: CounterValues) => Object.fromEntries(COUNTER_NAMES.map((k) => [k, 2 * c[k]])) as CounterValues;
    fc.assert(
      fc.property(arbProfile, arbMode, arbDomains, arbCounters, arbCounters, arbCounters, fc.integer({ min: 1, max: 1e6 }), (p, mode, domains, d, n, a, completed) => {
        const once = price(p, mode, { disk: d, net: n, app: a }, domains, completed);
        const twice = price(p, mode, { disk: double(d), net: double(n), app: double(a) }, domains, completed);
        for (const k of [...CPU_PARTS, 'disk'] as const) expect(closeTo(twice.perRequestUs[k], 2 * once.perRequestUs[k]), k).toBe(true);
        expect(closeTo(twice.cpuUsPerRequest, 2 * once.cpuUsPerRequest)).toBe(true);
        for (const [k, v] of Object.entries(once.domainsUsPerRequest)) expect(closeTo(twice.domainsUsPerRequest[k], 2 * v), k).toBe(true);
        expect(closeTo(twice.requestsPerSec, once.requestsPerSec / 2)).toBe(true);
        // priceCpu and priceDisk are linear on their own
        const c1 = priceCpu(d, mode, p);
        const c2 = priceCpu(double(d), mode, p);
        for (const k of CPU_PARTS) expect(closeTo(c2[k], 2 * c1[k]), k).toBe(true);
        expect(closeTo(priceDisk(double(d), p), 2 * priceDisk(d, p))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------
// End to end: real runs priced by a shipped profile

/**
 * The modelled µs per request of the servers `names` in report `r`, recomputed
 * here from their counters with the formulas in price.ts's header.
 */
function recompute(r: RunReport, p: Profile, names: readonly ServerName[] = SERVERS): Modelled['perRequestUs'] {
  const v = (n: ParamName) => p.params[n].value;
  const all = names.map((s) => r.countersByServer[s]);
  const total = (n: CounterName) => all.reduce((s, c) => s + c[n], 0);
  const done = r.outcomes.ok + r.outcomes.fail + r.outcomes.info;
  const parts = {
    app: total('appRequests') * v('appRequestUs'),
    copies: (total('bytesCopied') / 1024) * (r.mode === 'monolithic' ? 1 : v('ipcCopiesPerMessage')) * v('copyUsPerKiB'),
    checksums: ((total('bytesChecksummed') + total('rxBytesChecksummed')) / 1024) * v('checksumUsPerKiB'),
    ipc: total('ipcMessages') * Math.max(0, v('ipcOneWayUs') - v('ipcEntryUs') - v('contextSwitchUs')),
    contextSwitches: total('crossings') * v('contextSwitchUs'),
    syscalls: total('syscalls') * (r.mode === 'monolithic' ? v('syscallUs') : v('ipcEntryUs')),
    frames: (total('framesSent') + total('framesReceived')) * v('frameUs'),
    wire: (total('payloadBytes') / 1024) * v('wireUsPerKiB') + (total('bytesReceived') / 1024) * v('wireRequestUsPerKiB'),
    disk: total('diskSeeks') * (v('diskPositionMs') + v('diskRotationMs')) * 1000 + ((total('diskBlocksRead') + total('diskBlocksWritten')) * 4096) / v('diskTransferMBps'),
  };
  return Object.fromEntries(Object.entries(parts).map(([k, x]) => [k, x / done])) as Modelled['perRequestUs'];
}

/** Processor µs per request of `parts` (with the disk, when the profile puts it on a processor). */
function cpuOf(parts: Modelled['perRequestUs'], p: Profile): number {
  return CPU_PARTS.reduce((s, k) => s + parts[k], 0) + (p.params.diskOnCpu.value === 1 ? parts.disk : 0);
}

/** `actual` is `want` as a report shows it: rounded to 5 significant digits (within half a unit of the 5th digit). */
function expectFiveDigits(actual: number, want: number, what: string): void {
  if (want === 0) {
    expect(actual, what).toBe(0);
    return;
  }
  const halfUnit = 0.5 * 10 ** (Math.ceil(Math.log10(Math.abs(want))) - 5);
  expect(Math.abs(actual - want), `${what}: ${actual} vs ${want}`).toBeLessThanOrEqual(halfUnit * (1 + 1e-9));
}

describe('end to end: specweb96, 300 requests, priced by pentium-pro-1996', () => {
  const PROFILE = 'pentium-pro-1996';
  const profile = loadProfile(PROFILE);
  const reports = {} as Record<Mode, [RunReport, RunReport]>;

  beforeAll(async () => {
    for (const mode of ['monolithic', 'microkernel'] as const) {
      const a = await run({ mode, workload: 'specweb96', requests: 300, profile: PROFILE });
      const b = await run({ mode, workload: 'specweb96', requests: 300, profile: PROFILE });
      reports[mode] = [a, b];
    }
  });

  for (const mode of ['monolithic', 'microkernel'] as const) {
    it(`${mode}: labelled 'modelled (${PROFILE})', and perRequestUs matches the report's counters priced here`, () => {
      const [r] = reports[mode];
      expect(r.status).toBe('ok');
      expect(r.outcomes.ok).toBe(300);
      expect(r.modelled.label).toBe(`modelled (${PROFILE})`);
      expect(r.modelled.profile).toBe(PROFILE);
      const want = recompute(r, profile);
      expect(Object.keys(r.modelled.perRequestUs).sort()).toEqual(Object.keys(want).sort());
      for (const [k, x] of Object.entries(want)) expectFiveDigits(r.modelled.perRequestUs[k as CpuPart | 'disk'], x, k);
      // the parts that are not zero in every mode are really priced here
      for (const k of ['app', 'checksums', 'frames', 'syscalls', 'disk'] as const) expect(r.modelled.perRequestUs[k], k).toBeGreaterThan(0);
      const cpu = cpuOf(want, profile);
      expectFiveDigits(r.modelled.cpuUsPerRequest, cpu, 'cpuUsPerRequest');
      // each domain: its own servers' parts
      expect(Object.keys(r.modelled.domainsUsPerRequest)).toEqual(r.domains.map((d) => d.name));
      const domains = Object.fromEntries(r.domains.map((d) => [d.name, cpuOf(recompute(r, profile, d.servers), profile)]));
      for (const [name, us] of Object.entries(domains)) expectFiveDigits(r.modelled.domainsUsPerRequest[name], us, `domain ${name}`);
      // the bottleneck: the largest of processors / min(cores, domains), the busiest domain (if several), the disk
      const limits: [string, number][] = [['processors', cpu / Math.min(profile.params.cores.value, r.domains.length)]];
      if (r.domains.length > 1) limits.push(...Object.entries(domains).map(([n, us]): [string, number] => [`domain ${n}`, us]));
      if (profile.params.diskOnCpu.value === 0) limits.push(['disk', want.disk]);
      const [name, bound] = limits.reduce((a, b) => (b[1] > a[1] ? b : a));
      expect(r.modelled.bottleneck).toBe(name);
      expectFiveDigits(r.modelled.requestsPerSec, 1e6 / bound, 'requestsPerSec');
    });
  }

  it('the monolith has no IPC and no context switches; the microkernel has both', () => {
    const mono = reports.monolithic[0].modelled.perRequestUs;
    const micro = reports.microkernel[0].modelled.perRequestUs;
    expect(mono.ipc).toBe(0);
    expect(mono.contextSwitches).toBe(0);
    expect(micro.ipc).toBeGreaterThan(0);
    expect(micro.contextSwitches).toBeGreaterThan(0);
    expect(micro.copies).toBeGreaterThan(0);
    expect(reports.microkernel[0].modelled.cpuUsPerRequest).toBeGreaterThan(reports.monolithic[0].modelled.cpuUsPerRequest);
  });

  for (const mode of ['monolithic', 'microkernel'] as const) {
    it(`${mode}: the modelled figures are identical across two runs, though the host-measured ones differ`, () => {
      const [a, b] = reports[mode];
      expect(b.modelled).toEqual(a.modelled);
      expect(b.countersByServer).toEqual(a.countersByServer);
      // host-measured: wall clock and process time, to the nanosecond, are not the same twice
      expect([b.elapsedMs, b.cpu.userMs, b.cpu.systemMs]).not.toEqual([a.elapsedMs, a.cpu.userMs, a.cpu.systemMs]);
    });
  }
});

describe('end to end: compare prices each label, and its modelled ratio is the ratio of modelled requests/s', () => {
  // pentium-pro-1996 with a disk that costs nothing, so the processors (not the disk, alike for both) bound throughput
  const base = loadProfile('pentium-pro-1996');
  const fast: Profile = {
    ...base,
    name: 'pp-free-disk',
    params: {
      ...base.params,
      diskPositionMs: { ...base.params.diskPositionMs, value: 0 },
      diskRotationMs: { ...base.params.diskRotationMs, value: 0 },
      diskTransferMBps: { ...base.params.diskTransferMBps, value: 1e9 },
    },
  };
  let cmp: Comparison;
  let plain: Comparison;

  beforeAll(async () => {
    const opts = { workload: 'specweb96', labels: ['monolithic', 'microkernel:copy'], rounds: 1, warmupRounds: 0, requests: 300 };
    cmp = await compare({ ...opts, profile: fast });
    plain = await compare({ ...opts, profile: 'pentium-pro-1996' });
  });

  it('results[i].modelled.ratio = modelled requests/s of label i / of the baseline (to 4 significant digits)', () => {
    for (const c of [cmp, plain]) {
      expect(c.results.map((r) => r.label)).toEqual(['monolithic', 'microkernel:copy']);
      const rps = c.results.map((r) => r.modelled.requestsPerSec);
      for (const [i, r] of c.results.entries()) {
        expect(r.modelled.requestsPerSec).toBe(r.reports[0].modelled.requestsPerSec);
        expect(r.modelled.bottleneck).toBe(r.reports[0].modelled.bottleneck);
        expect(r.modelled.cpuUsPerRequest).toBe(r.reports[0].modelled.cpuUsPerRequest);
        expect(r.modelled.ratio).toBeCloseTo(rps[i] / rps[0], 3);
        expect(r.modelled.ratio).toBe(round(rps[i] / rps[0], 4)); // 4 significant digits, as reports round
      }
      expect(c.results[0].modelled.ratio).toBe(1);
    }
  });

  it('labels name the profile each comparison was priced with', () => {
    for (const r of cmp.results) expect(r.modelled.label).toBe('modelled (pp-free-disk)');
    for (const r of plain.results) expect(r.modelled.label).toBe('modelled (pentium-pro-1996)');
  });

  it('with a free disk the microkernel costs more processor time, so its modelled ratio is below 1', () => {
    expect(cmp.results[0].modelled.bottleneck).not.toBe('disk');
    expect(cmp.results[1].modelled.bottleneck).not.toBe('disk');
    expect(cmp.results[1].modelled.ratio).toBeLessThan(1);
    expect(cmp.results[1].modelled.ratio).toBeGreaterThan(0);
  });
});
