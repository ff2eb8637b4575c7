/**
 * The open loop's pacing rule, on a virtual clock (no real time, no sleeping): a
 * request is never sent before its scheduled arrival, even when the timer wakes
 * early (as setTimeout does, counting whole ms from a cached loop time); the
 * last stretch before an arrival is waited out by loop turns; behind schedule
 * the clients still let the event loop turn (so a monolith answers its
 * heartbeat); and the wire reports how the schedule was kept.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedWire, type ClientPlan, type Deliver } from '../src/wire/clients.js';
import { waitUntil, type WireClock } from '../src/wire/pacing.js';
import { newRegisters, readOutcomes } from '../src/wire/registers.js';
import { responseHash, type LinkAnswer } from '../src/wire/link.js';
import type { Frame } from '../src/servers/net.js';

/**
 * A virtual clock. `sleep(ms)` wakes early by the next of `earlyMs` (cycled),
 * but time always moves on; `turn()` takes `turnMs`. Every wait resolves on a
 * microtask, so a whole run is deterministic.
 */
class VirtualClock implements WireClock {
  t = 1000;
  sleeps = 0;
  turns: number[] = [];
  private wakes = 0;
  constructor(
    private readonly earlyMs: number[] = [0, 0.9, 1.6, 0.4],
    private readonly turnMs = 0.004,
  ) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.sleeps++;
    this.t += Math.max(0.05, ms - this.earlyMs[this.wakes++ % this.earlyMs.length]);
  };
  turn = async () => {
    this.t += this.turnMs;
    this.turns.push(this.t);
  };
}

describe('waitUntil', () => {
  it.each([0.2, 0.999, 1.0, 1.7, 2.5, 13.3])('resolves %s ms ahead no sooner than due, though the timer wakes early', async (aheadMs) => {
    const clock = new VirtualClock();
    const due = clock.t + aheadMs;
    expect(await waitUntil(due, clock)).toBe(true);
    expect(clock.t).toBeGreaterThanOrEqual(due);
    // no later than one loop turn after due, once the timer has done the coarse part
    expect(clock.t - due).toBeLessThanOrEqual(0.004 + 1e-9);
  });

  it('sleeps on a timer while more than 1 ms is left, and turns the loop for the rest', async () => {
    const clock = new VirtualClock([1.6]);
    const due = clock.t + 50;
    const leftAtSleep: number[] = [];
    const sleep = clock.sleep;
    clock.sleep = (ms) => (leftAtSleep.push(due - clock.t), sleep(ms));
    await waitUntil(due, clock);
    expect(leftAtSleep.length).toBeGreaterThanOrEqual(1);
    expect(Math.min(...leftAtSleep)).toBeGreaterThan(1);
    // the last ms at most, in 4 µs turns
    expect(clock.turns.length).toBeGreaterThan(0);
    expect(clock.turns.length).toBeLessThanOrEqual(Math.ceil(1 / 0.004) + 1);
  });

  it('does not wait for an arrival already due', async () => {
    const clock = new VirtualClock();
    expect(await waitUntil(clock.t, clock)).toBe(false);
    expect(await waitUntil(clock.t - 3, clock)).toBe(false);
    expect(clock.sleeps + clock.turns.length).toBe(0);
  });
});

/** uniform [0, 1) numbers from a fixed list, cycled */
function cycled(us: number[]): () => number {
  let i = 0;
  return () => us[i++ % us.length];
}

/** The arrival times a Poisson schedule at `ratePerSec` gives for `random`'s numbers, from `t0`. */
function schedule(t0: number, n: number, ratePerSec: number, random: () => number): number[] {
  const due: number[] = [];
  let t = t0;
  for (let i = 0; i < n; i++) due.push((t += (-Math.log(1 - random()) / ratePerSec) * 1000));
  return due;
}

const UNIFORMS = [0.05, 0.6, 0.31, 0.93, 0.02, 0.47, 0.75, 0.18];

function openPlan(requests: number, ratePerSec: number, maxInFlight = 4096): ClientPlan {
  return {
    requests,
    clients: 1,
    arrival: { kind: 'open', ratePerSec, maxInFlight },
    next: () => ({ line: 'GET /x HTTP/1.0' }),
    random: cycled(UNIFORMS),
  };
}

/** A net server that takes `serviceMs` of virtual time per request and answers 200 on the wire. */
function server(clock: VirtualClock, serviceMs: number, sentAt: number[]): Deliver {
  return async (id) => {
    sentAt[id] = clock.now();
    clock.t += serviceMs;
    return answered(id, [{ checksum: null, segments: [new Uint8Array([id & 0xff])], length: 1 }]);
  };
}

/** What the link brings back of a 200 response of `frames` to request `id`: the reply and the response's hash. */
function answered(id: number, frames: Frame[]): LinkAnswer {
  return { r: { ok: true, value: { status: 200 } }, hash: responseHash(id, 200, frames) };
}

describe('the open loop on a virtual clock', () => {
  it.each([200, 500, 2000])('at %s requests/s no request leaves before its scheduled arrival', async (rate) => {
    const clock = new VirtualClock();
    const regs = newRegisters();
    const wire = new SimulatedWire(regs, clock);
    const sentAt: number[] = [];
    const n = 300;
    const due = schedule(clock.t, n, rate, cycled(UNIFORMS));
    const res = await wire.run(openPlan(n, rate), server(clock, 0.075, sentAt));
    expect(sentAt.length).toBe(n);
    for (let i = 0; i < n; i++) expect(sentAt[i], `request ${i}`).toBeGreaterThanOrEqual(due[i]);
    expect(res.pacing?.sentEarly).toBe(0);
    expect(readOutcomes(regs, n)).toEqual({ ok: n, fail: 0, info: 0, pending: 0, notIssued: 0 });
    // latency runs from the scheduled arrival, so it is never below the service time
    expect(res.latencyUs.count).toBe(n);
    expect(res.latencyUs.p50).toBeGreaterThanOrEqual(75);
  });

  it('reports how late arrivals were released, and counts those over 1 ms', async () => {
    // a timer that never wakes early, and turns of 0.3 ms: each wait ends up to 0.3 ms late
    const clock = new VirtualClock([0], 0.3);
    const wire = new SimulatedWire(newRegisters(), clock);
    const res = await wire.run(openPlan(100, 200), server(clock, 0.075, []));
    expect(res.pacing!.sentEarly).toBe(0);
    expect(res.pacing!.sentLateOver1Ms).toBe(0);
    expect(res.pacing!.lateUs.max).toBeLessThanOrEqual(300);
    expect(res.pacing!.lateUs.p50).toBeGreaterThan(0);

    // a server that takes 3 ms per request at 2000/s keeps the loop 3 ms late at every arrival it delays
    const slow = new VirtualClock([0], 0.004);
    const wire2 = new SimulatedWire(newRegisters(), slow);
    const sync: Deliver = (id) => {
      slow.t += 3; // runs on the caller's stack, as a direct call in the monolith does
      return Promise.resolve(answered(id, []));
    };
    const res2 = await wire2.run(openPlan(100, 2000), sync);
    expect(res2.pacing!.sentEarly).toBe(0);
    expect(res2.pacing!.sentLateOver1Ms).toBeGreaterThan(50);
    expect(res2.pacing!.lateUs.max).toBeGreaterThan(1000);
  });

  it('behind schedule, the clients still let the event loop turn every few ms', async () => {
    // arrivals far faster than a server that answers on the caller's stack: no wait is ever due
    const clock = new VirtualClock();
    const wire = new SimulatedWire(newRegisters(), clock);
    const sync: Deliver = (id) => {
      clock.t += 0.05;
      return Promise.resolve(answered(id, []));
    };
    const t0 = clock.t;
    await wire.run(openPlan(2000, 1_000_000, 8), sync);
    const turns = [t0, ...clock.turns, clock.t];
    expect(clock.turns.length).toBeGreaterThan(10);
    const gaps = turns.slice(1).map((t, i) => t - turns[i]);
    expect(Math.max(...gaps)).toBeLessThan(5 + 0.05 + 0.01);
  });

  it('a closed loop reports no pacing', async () => {
    const clock = new VirtualClock();
    const wire = new SimulatedWire(newRegisters(), clock);
    const res = await wire.run({ ...openPlan(10, 1), arrival: { kind: 'closed', thinkTimeMs: 0 } }, server(clock, 0.075, []));
    expect(res.pacing).toBeNull();
  });
});
