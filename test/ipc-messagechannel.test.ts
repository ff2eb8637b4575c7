/**
 * The data-path IPC (src/microkernel/ipc.ts) between two Endpoints over an
 * in-thread MessageChannel: reply matching, the verbs, counting, deadlines, peer
 * death, crashes, and that nothing (ports, sweeper timers) outlives a close.
 *
 * Every test closes both ports and waits for their 'close' events in afterEach,
 * so no port keeps the test process alive.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Reply } from '../src/protocol.js';
import { clonedBytes } from '../src/microkernel/ipc.js';
import { answerMixed, deferred, endpointPair, okv, OpenPorts, shuffle, type Side } from './support/channels.js';

const openPorts = new OpenPorts();

afterEach(async () => {
  await openPorts.closeAll();
  vi.restoreAllMocks();
});

/** Two endpoints, `a` on port1 and `b` on port2, with their own counters. */
function pair(a: Side = {}, b: Side = {}) {
  const { port1, port2 } = openPorts.channel();
  return { ...endpointPair(port1, port2, a, b), port1, port2 };
}

describe('Endpoint over a MessageChannel: reply matching', () => {
  it('200 calls in flight answered in a shuffled, partly deferred order each get their own reply', async () => {
    const N = 200;
    const held: { n: number; answer: (r: Reply<unknown>) => void }[] = [];
    const allArrived = deferred();
    const { A } = pair(
      {},
      {
        onCall: (msg) => {
          const n = (msg as unknown as { n: number }).n;
          if (n % 5 === 0) return okv({ echo: n }); // some answer at once
          return new Promise((answer) => {
            held.push({ n, answer });
            if (held.length === N - N / 5) allArrived.resolve();
          });
        },
      },
    );
    const calls = Array.from({ length: N }, (_, n) => A.call({ type: 'ECHO', n } as { type: string }));
    expect(A.pendingCalls).toBe(N);
    await allArrived.promise;
    // answer the held ones in a seeded random order, mixing sync, microtask and macrotask delays
    shuffle(held, 'order');
    expect(held.slice(0, 10).map((h) => h.n)).not.toEqual([...held].sort((x, y) => x.n - y.n).slice(0, 10).map((h) => h.n));
    answerMixed(held);
    const replies = await Promise.all(calls);
    replies.forEach((r, n) => expect(r).toEqual({ ok: true, value: { echo: n } }));
    expect(A.pendingCalls).toBe(0);
  });

  it('both ends may call each other at the same time; ids do not clash', async () => {
    const { A, B } = pair(
      { onCall: (m) => okv({ from: 'a', type: m.type }) },
      { onCall: (m) => okv({ from: 'b', type: m.type }) },
    );
    const [ra, rb] = await Promise.all([A.call({ type: 'X' }), B.call({ type: 'Y' })]);
    expect(ra).toEqual({ ok: true, value: { from: 'b', type: 'X' } });
    expect(rb).toEqual({ ok: true, value: { from: 'a', type: 'Y' } });
  });

  it('an error reply crosses as a value', async () => {
    const { A } = pair({}, { onCall: () => ({ ok: false, errno: 'ENOENT', detail: '/x' }) });
    expect(await A.call({ type: 'DISK_LOOKUP' })).toEqual({ ok: false, errno: 'ENOENT', detail: '/x' });
  });
});

describe('Endpoint: send and notify', () => {
  it('send delivers the message and gets no reply', async () => {
    const got = deferred<{ type: string }>();
    const { A, ca, cb } = pair({}, { onCall: (m) => (m.type === 'PING' ? okv('pong') : (got.resolve(m), okv('ignored'))) });
    A.send({ type: 'FIRE', n: 1 } as { type: string });
    expect(await got.promise).toEqual({ type: 'FIRE', n: 1 });
    // a round trip after the send: the channel is ordered, so a reply to the send would come first
    expect(await A.call({ type: 'PING' })).toEqual({ ok: true, value: 'pong' });
    expect(cb.get('ipcMessages')).toBe(1); // only the PING reply
    expect(ca.get('ipcMessages')).toBe(2); // the send and the call
    expect(A.pendingCalls).toBe(0);
  });

  it('notify delivers the event name, counts one message and no bytes', async () => {
    const got = deferred<string>();
    const { A, ca } = pair({}, { onNotify: got.resolve });
    A.notify('irq');
    expect(await got.promise).toBe('irq');
    expect(ca.snapshot()).toMatchObject({ ipcMessages: 1, crossings: 1, bytesCopied: 0 });
  });

  it('a throwing onNotify is a crash of the receiving server', async () => {
    const boom = new Error('notify handler broke');
    const crashed = deferred<unknown>();
    const { A } = pair({}, { onNotify: () => { throw boom; }, onCrash: crashed.resolve });
    A.notify('irq');
    expect(await crashed.promise).toBe(boom);
  });
});

describe('Endpoint: counting', () => {
  it('one call and its reply: one message and one crossing each way', async () => {
    const { A, ca, cb } = pair({}, { onCall: () => okv({}) });
    await A.call({ type: 'X' });
    expect(ca.snapshot()).toMatchObject({ ipcMessages: 1, crossings: 1, bytesCopied: 0 });
    expect(cb.snapshot()).toMatchObject({ ipcMessages: 1, crossings: 1, bytesCopied: 0 });
  });

  it('bytesCopied: each distinct non-shared buffer behind a view, whole; shared memory 0', async () => {
    const big = new ArrayBuffer(1000);
    const small = new Uint8Array(100);
    const shared = new Uint8Array(new SharedArrayBuffer(4096));
    const received = deferred<{ data: Uint8Array[]; shared: Uint8Array }>();
    const { A, ca, cb } = pair(
      {},
      {
        onCall: (m) => {
          received.resolve(m as never);
          return okv({ data: [new Uint8Array(10)], length: 10 });
        },
      },
    );
    const msg = {
      type: 'X',
      // 50 bytes of a 1000-byte buffer, twice the same buffer, one small buffer
      data: [new Uint8Array(big, 100, 50), new Uint8Array(big, 500, 20), small],
      shared,
    };
    expect(clonedBytes(msg)).toBe(1000 + 100);
    const r = await A.call(msg);
    expect(r).toMatchObject({ ok: true, value: { length: 10 } });
    expect(ca.get('bytesCopied')).toBe(1100);
    expect(cb.get('bytesCopied')).toBe(10);
    // the model matches what structured clone really did: whole buffers, shared once per message
    const got = await received.promise;
    expect(got.data[0].buffer.byteLength).toBe(1000);
    expect(got.data[0].buffer).toBe(got.data[1].buffer);
    expect(got.data[0].length).toBe(50);
    expect(got.shared.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('clonedBytes: shapes it counts and does not', () => {
    const b = new ArrayBuffer(64);
    expect(clonedBytes({})).toBe(0);
    expect(clonedBytes({ v: new Uint8Array(b, 0, 1) })).toBe(64);
    expect(clonedBytes({ v: new Uint8Array(b), w: new Uint8Array(b, 8), x: [new Uint8Array(b)] })).toBe(64);
    expect(clonedBytes({ v: new Float64Array(4) })).toBe(32);
    expect(clonedBytes({ v: new DataView(new ArrayBuffer(12)) })).toBe(12);
    expect(clonedBytes({ v: [new Uint8Array(new SharedArrayBuffer(8)), new Uint8Array(3)] })).toBe(3);
    expect(clonedBytes({ n: 5, s: 'text', a: [1, 2] })).toBe(0);
  });

  it('N calls count N messages on the caller and N replies on the callee', async () => {
    const { A, ca, cb } = pair({}, { onCall: (m) => okv({ type: m.type }) });
    const replies = await Promise.all(Array.from({ length: 17 }, () => A.call({ type: 'X' })));
    for (const r of replies) expect(r).toEqual({ ok: true, value: { type: 'X' } });
    expect(ca.get('ipcMessages')).toBe(17);
    expect(ca.get('crossings')).toBe(17);
    expect(cb.get('ipcMessages')).toBe(17);
  });
});

describe('Endpoint: refusals, deadlines, peer death, crashes', () => {
  it('a call to an endpoint with onCall null is ECALLDENIED, naming the callee', async () => {
    const { A, cb } = pair({ onCall: () => okv('unused') }, { onCall: null, label: 'disk' });
    expect(await A.call({ type: 'DISK_READ' })).toEqual({ ok: false, errno: 'ECALLDENIED', detail: 'disk' });
    expect(cb.get('ipcMessages')).toBe(1); // the refusal is a reply
  });

  it('a send to an endpoint with onCall null is dropped quietly', async () => {
    const { A, B, crashB } = pair({ onCall: () => okv('unused') }, { onCall: null });
    A.send({ type: 'X' });
    expect(await B.call({ type: 'PING' })).toEqual({ ok: true, value: 'unused' }); // the channel still works
    expect(crashB).not.toHaveBeenCalled();
  });

  it('a handler that never answers: ETIMEDOUT, not before the deadline', async () => {
    const { A } = pair({ deadlineMs: 50, label: 'app->disk' }, { onCall: () => new Promise(() => {}) });
    const t0 = performance.now();
    const r = await A.call({ type: 'X' });
    const elapsed = performance.now() - t0;
    expect(r).toEqual({ ok: false, errno: 'ETIMEDOUT', detail: 'app->disk' });
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(A.pendingCalls).toBe(0);
  });

  it('a reply that comes after the deadline is ignored, and the channel keeps working', async () => {
    let late: ((r: Reply<unknown>) => void) | null = null;
    const { A } = pair(
      { deadlineMs: 50 },
      {
        onCall: (m) =>
          m.type === 'SLOW' ? new Promise<Reply<unknown>>((answer) => (late = answer)) : okv('fast'),
      },
    );
    expect(await A.call({ type: 'SLOW' })).toMatchObject({ errno: 'ETIMEDOUT' });
    expect(late).not.toBeNull();
    late!(okv('too late'));
    expect(await A.call({ type: 'FAST' })).toEqual({ ok: true, value: 'fast' });
    expect(A.pendingCalls).toBe(0);
  });

  it('closing the peer port settles pending calls with EPEERDIED; later calls fail fast with EDEADDST', async () => {
    const arrived = deferred();
    let n = 0;
    const { A, ca, port2 } = pair(
      { label: 'app->net' },
      {
        onCall: () =>
          new Promise(() => {
            if (++n === 3) arrived.resolve();
          }),
      },
    );
    const pending = [A.call({ type: 'X' }), A.call({ type: 'X' }), A.call({ type: 'X' })];
    await arrived.promise;
    port2.close(); // the peer's domain dies
    for (const r of await Promise.all(pending)) expect(r).toEqual({ ok: false, errno: 'EPEERDIED', detail: 'app->net' });
    expect(A.pendingCalls).toBe(0);
    const sentBefore = ca.get('ipcMessages');
    // known dead before sending: not delivered, so a definite failure rather than an unknown outcome
    expect(await A.call({ type: 'X' })).toEqual({ ok: false, errno: 'EDEADDST', detail: 'app->net' });
    A.send({ type: 'X' });
    A.notify('x');
    expect(ca.get('ipcMessages')).toBe(sentBefore); // nothing was posted to a dead peer
  });

  it('closing our own end settles our pending calls with ESHUTDOWN, and the peer then refuses calls with EDEADDST', async () => {
    const arrived = deferred();
    const { A, B, port2 } = pair({}, { onCall: () => (arrived.resolve(), new Promise(() => {})) });
    const pending = A.call({ type: 'X' });
    await arrived.promise;
    const peerClosed = once(port2, 'close');
    A.close();
    expect(await pending).toMatchObject({ ok: false, errno: 'ESHUTDOWN' });
    await peerClosed;
    expect(await B.call({ type: 'Y' })).toMatchObject({ ok: false, errno: 'EDEADDST' });
  });

  it('a handler that throws calls onCrash with the error and sends no reply', async () => {
    const boom = new Error('handler broke');
    const crashed = deferred<unknown>();
    const { A, cb } = pair(
      { deadlineMs: 50 },
      {
        onCall: () => {
          throw boom;
        },
        onCrash: crashed.resolve,
      },
    );
    const r = A.call({ type: 'X' });
    expect(await crashed.promise).toBe(boom);
    expect(await r).toMatchObject({ ok: false, errno: 'ETIMEDOUT' }); // the kernel, not the IPC, reacts to the crash
    expect(cb.get('ipcMessages')).toBe(0);
  });

  it('a handler whose promise rejects calls onCrash too', async () => {
    const boom = new Error('async handler broke');
    const crashed = deferred<unknown>();
    const { A, cb } = pair({ deadlineMs: 50 }, { onCall: async () => Promise.reject(boom), onCrash: crashed.resolve });
    const r = A.call({ type: 'X' });
    expect(await crashed.promise).toBe(boom);
    expect(await r).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
    expect(cb.get('ipcMessages')).toBe(0);
  });
});

describe('Endpoint: nothing outlives a close', () => {
  /** Spy on setInterval/clearInterval; `live()` is the intervals created and not yet cleared. */
  function watchIntervals() {
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    return {
      created: () => set.mock.results.length,
      live: () => {
        const cleared = new Set(clear.mock.calls.map((c) => c[0]));
        return set.mock.results.map((r) => r.value).filter((h) => !cleared.has(h)).length;
      },
    };
  }

  it('the deadline sweeper runs while calls are pending and is cleared by close', async () => {
    const timers = watchIntervals();
    const arrived = deferred();
    const { A } = pair({}, { onCall: () => (arrived.resolve(), new Promise(() => {})) });
    const pending = A.call({ type: 'X' });
    await arrived.promise;
    expect(timers.created()).toBe(1);
    expect(timers.live()).toBe(1);
    A.close();
    expect(timers.live()).toBe(0);
    expect(await pending).toMatchObject({ errno: 'ESHUTDOWN' });
  });

  it('a sweep that times out the last call stops the sweeper without a close', async () => {
    const timers = watchIntervals();
    const { A } = pair({ deadlineMs: 50 }, { onCall: () => new Promise(() => {}) });
    expect(await A.call({ type: 'X' })).toMatchObject({ errno: 'ETIMEDOUT' });
    expect(timers.created()).toBe(1);
    expect(timers.live()).toBe(0);
  });

  it('the peer dying clears the sweeper too', async () => {
    const timers = watchIntervals();
    const arrived = deferred();
    const { A, port2 } = pair({}, { onCall: () => (arrived.resolve(), new Promise(() => {})) });
    const pending = A.call({ type: 'X' });
    await arrived.promise;
    port2.close();
    expect(await pending).toMatchObject({ errno: 'EPEERDIED' });
    expect(timers.live()).toBe(0);
  });

  it('after both ends close, no MessagePort is left among the active resources', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = ports();
    const { A, B, port1, port2 } = pair({ onCall: () => okv(1) }, { onCall: () => okv(2) });
    expect(await A.call({ type: 'X' })).toEqual({ ok: true, value: 2 });
    expect(ports()).toBe(before + 2); // the check can see live ports
    const closed = [once(port1, 'close'), once(port2, 'close')];
    A.close();
    B.close();
    await Promise.all(closed);
    expect(ports()).toBe(before);
  });
});
