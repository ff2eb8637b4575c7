/**
 * Ring signalling in one thread: two Endpoints (src/microkernel/ipc.ts) over
 * RingChannels (src/microkernel/ring.ts), each end with its own Pump and
 * doorbell, the two directions on a pair of RingMemory, and a MessageChannel
 * from node:worker_threads used only as the liveness port, as the kernel wires
 * them (src/microkernel/kernel.ts, worker.ts).
 *
 * What is checked: replies match their calls; payload slices arrive with their
 * bytes and bytesCopied counts the copy into and the copy out of the ring
 * exactly; a message too large for the ring is refused with EINVAL; a full ring
 * queues output and delivers it later in order; deadlines and peer death; pumps
 * that sleep are woken by the doorbell (and by their timeout when a wake-up is
 * lost); and stop() plus close leave no immediate or timer behind.
 *
 * Every test stops both pumps, closes the liveness ports and waits for their
 * 'close' events in afterEach, so nothing keeps the test process alive.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Reply } from '../src/protocol.js';
import { newDoorbell, newRingMemory, Pump, RingChannel, type Doorbell } from '../src/microkernel/ring.js';
import { bytes } from './support/bytes.js';
import { answerMixed, deferred, endpointPair, okv, OpenPorts, shuffle, type Side } from './support/channels.js';
import { settle, trackResources } from './support/leaks.js';

const openPorts = new OpenPorts();
const pumps: Pump[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const p of pumps) p.stop();
  pumps.length = 0;
  await openPorts.closeAll();
});

interface RigOptions {
  /** Bytes of each ring. */
  capacity?: number;
  spinUs?: number;
  a?: Side;
  b?: Side;
}

/**
 * Two domains in this thread: `A` (the caller, e.g. app) and `B` (the callee,
 * e.g. disk), each with its own counters, pump and doorbell; A's channel writes
 * the `ab` ring and reads `ba`, B's the other way round.
 */
function rig(o: RigOptions = {}) {
  const capacity = o.capacity ?? 1 << 16;
  const spinUs = o.spinUs ?? 50;
  const ab = newRingMemory(capacity);
  const ba = newRingMemory(capacity);
  const bellA = newDoorbell();
  const bellB = newDoorbell();
  const pumpA = new Pump(bellA, spinUs);
  const pumpB = new Pump(bellB, spinUs);
  pumps.push(pumpA, pumpB);
  const { port1, port2 } = openPorts.channel();
  const ca = new Counters();
  const cb = new Counters();
  const chA = new RingChannel(ab, ba, bellB, port1, pumpA, ca);
  const chB = new RingChannel(ba, ab, bellA, port2, pumpB, cb);
  const { A, B, crashA, crashB } = endpointPair(chA, chB, o.a, o.b, ca, cb);
  return { A, B, ca, cb, chA, chB, pumpA, pumpB, bellA, bellB, port1, port2, crashA, crashB, ab, ba };
}

/** Is the pump of this doorbell asleep (Int32 [rings, sleeping])? */
const asleep = (bell: Doorbell) => Atomics.load(new Int32Array(bell), 1) === 1;

/**
 * Turn the event loop until the pumps of all `bells` are asleep at once; the
 * number of turns it took. (A sleeping pump wakes by itself every 200 ms and
 * sleeps again within a turn, so "asleep" is awaited, not assumed.)
 */
async function untilAsleep(...bells: Doorbell[]): Promise<number> {
  for (let turns = 0; turns < 1000; turns++) {
    if (bells.every(asleep)) return turns;
    await settle(1);
  }
  throw new Error('the pumps never went to sleep');
}

type Msg = { type: string } & Record<string, unknown>;
const msg = (m: Msg) => m as { type: string };

describe('calls and replies over rings', () => {
  it('one call and its reply: one message and one crossing each way, no bytes copied', async () => {
    const { A, ca, cb } = rig({ b: { onCall: (m) => okv({ echo: m.type }) } });
    expect(await A.call({ type: 'PING' })).toEqual({ ok: true, value: { echo: 'PING' } });
    expect(ca.snapshot()).toMatchObject({ ipcMessages: 1, crossings: 1, bytesCopied: 0 });
    expect(cb.snapshot()).toMatchObject({ ipcMessages: 1, crossings: 1, bytesCopied: 0 });
    expect(A.pendingCalls).toBe(0);
  });

  it('200 calls in flight answered in a shuffled, partly deferred order each get their own reply', async () => {
    const N = 200;
    const held: { n: number; answer: (r: Reply<unknown>) => void }[] = [];
    const allArrived = deferred();
    const { A } = rig({
      b: {
        onCall: (m) => {
          const n = (m as unknown as { n: number }).n;
          if (n % 5 === 0) return okv({ echo: n });
          return new Promise((answer) => {
            held.push({ n, answer });
            if (held.length === N - N / 5) allArrived.resolve();
          });
        },
      },
    });
    const calls = Array.from({ length: N }, (_, n) => A.call(msg({ type: 'ECHO', n })));
    expect(A.pendingCalls).toBe(N);
    await allArrived.promise;
    shuffle(held, 'ring-order');
    expect(held.map((h) => h.n)).not.toEqual([...held].map((h) => h.n).sort((x, y) => x - y));
    answerMixed(held);
    const replies = await Promise.all(calls);
    replies.forEach((r, n) => expect(r).toEqual({ ok: true, value: { echo: n } }));
    expect(A.pendingCalls).toBe(0);
  });

  it('both ends may call each other at the same time; ids do not clash', async () => {
    const { A, B } = rig({
      a: { onCall: (m) => okv({ from: 'a', type: m.type }) },
      b: { onCall: (m) => okv({ from: 'b', type: m.type }) },
    });
    const [ra, rb] = await Promise.all([A.call({ type: 'X' }), B.call({ type: 'Y' })]);
    expect(ra).toEqual({ ok: true, value: { from: 'b', type: 'X' } });
    expect(rb).toEqual({ ok: true, value: { from: 'a', type: 'Y' } });
  });

  it('send, notify and call arrive in the order they were posted', async () => {
    const seen: string[] = [];
    const { A, ca } = rig({
      b: { onCall: (m) => (seen.push(`call ${m.type}`), okv(null)), onNotify: (e) => seen.push(`notify ${e}`) },
    });
    A.send({ type: 'FIRST' });
    A.notify('irq');
    A.send({ type: 'SECOND' });
    expect(await A.call({ type: 'LAST' })).toEqual({ ok: true, value: null });
    expect(seen).toEqual(['call FIRST', 'notify irq', 'call SECOND', 'call LAST']);
    expect(ca.get('ipcMessages')).toBe(4);
  });

  it('frame fields cross intact: non-ASCII strings, nesting, numbers, booleans, null, error replies', async () => {
    const sent = { type: 'X', path: '/dir/ünïcødé-文件-🚀.html', n: -12.5, deep: { a: [1, 'two', { three: true }], z: null } };
    const got = deferred<unknown>();
    const { A } = rig({
      b: {
        onCall: (m) => {
          got.resolve(m);
          return m.type === 'X' ? okv({ name: 'réponse ✓', list: [0, -1, 2.5], flag: false }) : { ok: false, errno: 'ENOENT', detail: 'нет' };
        },
      },
    });
    expect(await A.call(msg(sent))).toEqual({ ok: true, value: { name: 'réponse ✓', list: [0, -1, 2.5], flag: false } });
    expect(await got.promise).toEqual(sent);
    expect(await A.call({ type: 'Y' })).toEqual({ ok: false, errno: 'ENOENT', detail: 'нет' });
  });
});

describe('payload slices through the ring', () => {
  it('slices in a reply arrive with the same bytes; bytesCopied counts each slice into and out of the ring', async () => {
    const block = bytes(4096, 9); // a cache block: only part of it is sent
    const slices = [block.subarray(10, 110), bytes(4096, 1), bytes(1, 200)];
    const { A, ca, cb } = rig({ b: { onCall: () => okv({ data: slices, length: 4197 }) } });
    const r = (await A.call({ type: 'DISK_READ' })) as Reply<{ data: Uint8Array[]; length: number }>;
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.length).toBe(4197);
    expect(r.value.data).toHaveLength(3);
    r.value.data.forEach((s, i) => {
      expect(s).toBeInstanceOf(Uint8Array);
      expect(s).toEqual(slices[i]);
      expect(s.buffer.byteLength).toBe(s.length); // copied out to a buffer of its own
    });
    // the slice lengths, not the buffers behind them (a structured clone would copy 4096 + 4096 + 1)
    expect(cb.get('bytesCopied')).toBe(100 + 4096 + 1); // into the ring, by the callee
    expect(ca.get('bytesCopied')).toBe(100 + 4096 + 1); // out of the ring, by the caller
  });

  it('slices in a call, in two payload fields, arrive in place beside the other fields', async () => {
    const got = deferred<Msg>();
    const { A, ca, cb } = rig({ b: { onCall: (m) => (got.resolve(m as Msg), okv(null)) } });
    const sent = { type: 'NET_SEND', reqId: 7, body: [bytes(40, 3), bytes(1500, 50)], data: [bytes(3, 99)], note: 'x' };
    expect(await A.call(msg(sent))).toEqual({ ok: true, value: null });
    const m = await got.promise;
    expect(m).toEqual(sent);
    expect(Object.keys(m).sort()).toEqual(['body', 'data', 'note', 'reqId', 'type']); // no framing field left behind
    expect(ca.get('bytesCopied')).toBe(40 + 1500 + 3);
    expect(cb.get('bytesCopied')).toBe(40 + 1500 + 3);
  });

  it('an empty slice arrives as an empty Uint8Array and copies nothing', async () => {
    const got = deferred<Msg>();
    const { A, ca, cb } = rig({ b: { onCall: (m) => (got.resolve(m as Msg), okv(null)) } });
    await A.call(msg({ type: 'X', body: [new Uint8Array(0)] }));
    const m = await got.promise;
    expect(m.body).toEqual([new Uint8Array(0)]);
    expect((m.body as unknown[])[0]).toBeInstanceOf(Uint8Array);
    expect(ca.get('bytesCopied') + cb.get('bytesCopied')).toBe(0);
  });

  it('received bytes are a copy: later traffic that reuses the ring space does not change them', async () => {
    let n = 0;
    const { A } = rig({ capacity: 4096, b: { onCall: () => okv({ data: [bytes(1000, n++)] }) } });
    const first = (await A.call({ type: 'READ' })) as Reply<{ data: Uint8Array[] }>;
    // 30 more replies of 1000 bytes lap a 4096-byte ring several times
    for (let i = 0; i < 30; i++) expect(await A.call({ type: 'READ' })).toMatchObject({ ok: true });
    expect(first.ok && first.value.data[0]).toEqual(bytes(1000, 0));
  });
});

describe('messages larger than the ring takes', () => {
  // a 4096-byte ring takes records of up to 2040 bytes
  it('a call larger than maxRecord is refused with EINVAL at once; nothing is sent or counted; the channel still works', async () => {
    const { A, ca, cb } = rig({ capacity: 4096, b: { onCall: () => okv('fine') } });
    const r = await A.call(msg({ type: 'X', data: [bytes(2100)] }));
    expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(r.ok ? '' : r.detail).toMatch(/does not fit/);
    expect(ca.snapshot()).toMatchObject({ ipcMessages: 0, crossings: 0, bytesCopied: 0 });
    expect(A.pendingCalls).toBe(0);
    expect(await A.call(msg({ type: 'Y', data: [bytes(1500)] }))).toEqual({ ok: true, value: 'fine' });
    expect(cb.get('bytesCopied')).toBe(1500); // only the message that fitted reached the callee
  });

  it('a reply larger than maxRecord comes back as EINVAL from the callee, which does not crash', async () => {
    const { A, cb, crashB } = rig({
      capacity: 4096,
      b: { onCall: (m) => okv({ data: [bytes(m.type === 'BIG' ? 3000 : 10)] }) },
    });
    const r = await A.call({ type: 'BIG' });
    expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(r.ok ? '' : r.detail).toMatch(/does not fit/);
    expect(cb.get('ipcMessages')).toBe(1); // the refusal, not the reply that did not fit
    expect(crashB).not.toHaveBeenCalled();
    expect(await A.call({ type: 'SMALL' })).toEqual({ ok: true, value: { data: [bytes(10)] } });
  });

  // Regression test (was a bug in src/microkernel/ring.ts RingChannel.postMessage, line 279, with
  // service().
  it('a call larger than maxRecord posted while output is queued is still refused with EINVAL', async () => {
    const { A, chA, pumpA, pumpB } = rig({ capacity: 4096, a: { deadlineMs: 100 } });
    pumpB.stop(); // nothing drains A's ring: it fills up
    const small = Array.from({ length: 40 }, () => A.call(msg({ type: 'X', data: [bytes(100)] })));
    expect(chA.hasBacklog()).toBe(true);
    const big = A.call(msg({ type: 'BIG', data: [bytes(2100)] }));
    pumpA.stop(); // no turn of A's pump runs after this
    await Promise.all(small);
    expect(await big).toMatchObject({ ok: false, errno: 'EINVAL' });
  });
});

describe('a full ring queues output and delivers it later, in order', () => {
  it.each([50, 0])('300 calls of 200-byte payloads through 4096-byte rings (spinUs %i)', async (spinUs) => {
    const order: number[] = [];
    const { A, chA, ca, cb } = rig({
      capacity: 4096,
      spinUs,
      b: {
        onCall: (m) => {
          const { n, data } = m as unknown as { n: number; data: Uint8Array[] };
          order.push(n);
          expect(data[0]).toEqual(bytes(200, n));
          return okv({ n, data: [bytes(200, n + 1)] });
        },
      },
    });
    const calls = Array.from({ length: 300 }, (_, n) => A.call(msg({ type: 'X', n, data: [bytes(200, n)] })));
    expect(chA.hasBacklog()).toBe(true); // the ring really filled up and output was queued
    const replies = await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 300 }, (_, n) => n));
    replies.forEach((r, n) => expect(r).toEqual({ ok: true, value: { n, data: [bytes(200, n + 1)] } }));
    expect(chA.hasBacklog()).toBe(false);
    // each side copied every payload once into a ring and once out of one
    expect(ca.get('bytesCopied')).toBe(300 * 200 * 2);
    expect(cb.get('bytesCopied')).toBe(300 * 200 * 2);
    expect(ca.get('ipcMessages')).toBe(300);
    expect(cb.get('ipcMessages')).toBe(300);
  });

  it('replies queued behind a full ring keep their order with a send that follows them', async () => {
    const after = deferred<string>();
    const allArrived = deferred();
    const answers: ((r: Reply<unknown>) => void)[] = [];
    const { A, B, chB } = rig({
      capacity: 4096,
      a: { onCall: (m) => (after.resolve(m.type), okv(null)) },
      b: {
        onCall: () =>
          new Promise((answer) => {
            if (answers.push(answer) === 50) allArrived.resolve();
          }),
      },
    });
    const calls = Array.from({ length: 50 }, () => A.call({ type: 'GET' }));
    const order: number[] = [];
    calls.forEach((c, i) => void c.then(() => order.push(i)));
    await allArrived.promise;
    // B answers all 50 with 500 bytes each (the ring holds 7 of them), then sends to A
    answers.forEach((answer, i) => answer(okv({ data: [bytes(500, i)] })));
    await new Promise<void>((res) => queueMicrotask(res)); // the Endpoint posts the replies in the answers' continuations
    expect(chB.hasBacklog()).toBe(true);
    B.send({ type: 'AFTER' });
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => expect(r).toEqual({ ok: true, value: { data: [bytes(500, i)] } }));
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await after.promise).toBe('AFTER');
  });
});

describe('deadlines and peer death', () => {
  it('a handler that never answers: ETIMEDOUT, not before the deadline', async () => {
    const { A } = rig({ a: { deadlineMs: 50, label: 'app->disk' }, b: { onCall: () => new Promise(() => {}) } });
    const t0 = performance.now();
    const r = await A.call({ type: 'X' });
    expect(r).toEqual({ ok: false, errno: 'ETIMEDOUT', detail: 'app->disk' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
    expect(A.pendingCalls).toBe(0);
  });

  it('closing the peer\'s liveness port settles pending calls with EPEERDIED; later calls fail fast with EDEADDST', async () => {
    const arrived = deferred();
    let n = 0;
    const { A, ca, port2 } = rig({
      a: { label: 'app->net' },
      b: { onCall: () => new Promise(() => void (++n === 3 && arrived.resolve())) },
    });
    const pending = [A.call({ type: 'X' }), A.call({ type: 'X' }), A.call({ type: 'X' })];
    await arrived.promise;
    port2.close(); // the peer's domain dies
    for (const r of await Promise.all(pending)) expect(r).toEqual({ ok: false, errno: 'EPEERDIED', detail: 'app->net' });
    expect(A.pendingCalls).toBe(0);
    const sentBefore = ca.get('ipcMessages');
    expect(await A.call({ type: 'X' })).toEqual({ ok: false, errno: 'EDEADDST', detail: 'app->net' });
    A.send({ type: 'X' });
    A.notify('x');
    expect(ca.get('ipcMessages')).toBe(sentBefore);
  });

  it('closing our own end settles our pending calls with ESHUTDOWN; the peer then gets EDEADDST', async () => {
    const arrived = deferred();
    const { A, B, port2 } = rig({ b: { onCall: () => (arrived.resolve(), new Promise(() => {})) } });
    const pending = A.call({ type: 'X' });
    await arrived.promise;
    const peerClosed = once(port2, 'close');
    A.close();
    expect(await pending).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    await peerClosed;
    expect(await B.call({ type: 'Y' })).toMatchObject({ ok: false, errno: 'EDEADDST' });
  });

  // Regression test (was a bug in src/microkernel/ring.ts RingChannel.on('close').
  it('a reply published before the peer died is delivered, not EPEERDIED', async () => {
    const { A, pumpA, port2 } = rig({
      b: {
        onCall: () => {
          queueMicrotask(() => port2.close()); // the callee's domain dies right after answering
          return okv('answered');
        },
      },
    });
    const r = A.call({ type: 'X' });
    pumpA.stop(); // A has not drained its ring yet when the close comes
    expect(await r).toEqual({ ok: true, value: 'answered' });
  });
});

describe('sleeping pumps and doorbells', () => {
  it('with spinUs 0 an idle pump marks itself asleep on its doorbell', async () => {
    const { A, bellA, bellB } = rig({ spinUs: 0, b: { onCall: () => okv(1) } });
    expect(await A.call({ type: 'X' })).toEqual({ ok: true, value: 1 });
    // a turn to finish delivering, a turn in which nothing came: then asleep
    expect(await untilAsleep(bellA, bellB)).toBeLessThan(10);
  });

  it('with spinUs 0, 20 round trips each wake the sleeping peer through its doorbell', async () => {
    const notify = vi.spyOn(Atomics, 'notify');
    const { A, bellA, bellB } = rig({ spinUs: 0, b: { onCall: (m) => okv((m as unknown as { n: number }).n * 2) } });
    const rings = () => Atomics.load(new Int32Array(bellA), 0) + Atomics.load(new Int32Array(bellB), 0);
    for (let n = 0; n < 20; n++) {
      await untilAsleep(bellA, bellB); // round trip n starts with both pumps asleep
      const woken = notify.mock.results.reduce((s, r) => s + (r.value as number), 0);
      const rung = rings();
      expect(await A.call(msg({ type: 'X', n }))).toEqual({ ok: true, value: 2 * n });
      // B was woken for the call and A for the reply: each notify reached a waiting pump
      expect(notify.mock.results.reduce((s, r) => s + (r.value as number), 0) - woken).toBeGreaterThanOrEqual(2);
      expect(rings() - rung).toBeGreaterThanOrEqual(2);
    }
  });

  it('a lost wake-up (Atomics.notify does nothing) delays a call but never hangs it: the sleeper wakes by its timeout', async () => {
    const { A, bellA, bellB } = rig({ spinUs: 0, b: { onCall: (m) => okv(m.type) } });
    expect(await A.call({ type: 'WARM' })).toEqual({ ok: true, value: 'WARM' });
    await untilAsleep(bellA, bellB);
    const notify = vi.spyOn(Atomics, 'notify').mockImplementation(() => 0);
    // with a deadline of 10 s, a pump that only a doorbell could wake would end this call ETIMEDOUT
    expect(await A.call({ type: 'LATE' })).toEqual({ ok: true, value: 'LATE' });
    expect(notify).toHaveBeenCalled(); // wake-ups were attempted, and lost
  });

  it('with spinUs 0, calls carrying payloads through a small ring all complete', async () => {
    const { A, ca } = rig({ spinUs: 0, capacity: 4096, b: { onCall: (m) => okv({ data: (m as unknown as { data: Uint8Array[] }).data }) } });
    const replies = await Promise.all(Array.from({ length: 64 }, (_, n) => A.call(msg({ type: 'X', data: [bytes(300, n)] }))));
    replies.forEach((r, n) => expect(r).toEqual({ ok: true, value: { data: [bytes(300, n)] } }));
    expect(ca.get('bytesCopied')).toBe(64 * 300 * 2);
  });
});

describe('nothing outlives pump.stop() and closing the channels', () => {
  type Kind = 'Immediate' | 'Timeout';
  const { live, created } = trackResources<Kind>(['Immediate', 'Timeout']);

  const since = (mark: number, type: Kind) => created.slice(mark).filter((c) => c.type === type);
  const survivors = (from: number, to: number) => created.slice(from, to).filter((c) => live.has(c.id));

  it('the check sees a running pump: it keeps making immediates while it spins', async () => {
    const { A } = rig({ spinUs: 1_000_000, b: { onCall: () => okv(1) } });
    await A.call({ type: 'X' });
    await settle(); // let the first immediates of the calls run
    const mark = created.length;
    await settle(5);
    expect(since(mark, 'Immediate').length).toBeGreaterThan(5); // settle's own 5, and the pumps' turns
  });

  it.each([0, 50, 1_000_000])('spinUs %i: after stop() and close no immediate or timer is left, and none is made', async (spinUs) => {
    await settle();
    const mark = created.length;
    const { A, B, pumpA, pumpB, port1, port2 } = rig({
      spinUs,
      b: { onCall: (m) => (m.type === 'SLOW' ? new Promise((answer) => setImmediate(() => answer(okv(2)))) : okv(1)) },
    });
    const replies = await Promise.all([A.call({ type: 'X' }), A.call({ type: 'SLOW' }), B.call({ type: 'Y' })]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, false]); // B -> A is not granted (onCall null)
    expect(since(mark, 'Timeout').length).toBeGreaterThan(0); // the deadline sweeper ran, so timers are seen
    expect(since(mark, 'Immediate').length).toBeGreaterThan(0);
    pumpA.stop();
    pumpB.stop();
    const closed = [once(port1, 'close'), once(port2, 'close')];
    A.close();
    B.close();
    await Promise.all(closed);
    const end = created.length;
    await settle();
    expect(survivors(mark, end)).toEqual([]);
    // and the stopped pumps schedule nothing more: only settle's own immediates appear
    const quiet = created.length;
    await settle(5);
    expect(since(quiet, 'Immediate')).toHaveLength(5);
    expect(since(quiet, 'Timeout')).toHaveLength(0);
  });

  it('a pump stopped while asleep is not woken into new turns', async () => {
    const { A, pumpA, pumpB, bellA, bellB } = rig({ spinUs: 0, b: { onCall: () => okv(1) } });
    await A.call({ type: 'X' });
    await untilAsleep(bellA, bellB);
    pumpA.stop();
    pumpB.stop();
    await settle();
    expect(asleep(bellA) || asleep(bellB)).toBe(false); // stop() rang the doorbells: both woke...
    const quiet = created.length;
    await settle(5);
    expect(since(quiet, 'Immediate')).toHaveLength(5); // ...and made no turn
  });
});
