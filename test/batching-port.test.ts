/**
 * Batch signalling (src/microkernel/batch.ts): a BatchingPort over an in-thread
 * MessageChannel. The frames a domain posts during one synchronous run go out
 * as one postMessage and reach the listener one by one, in order; a lone frame
 * goes as it is; transfers are kept; close() flushes what was queued. The raw
 * port's 'message' events are observed beside the listener, to see the batches.
 *
 * Every test closes both ports and waits for their 'close' events in afterEach.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BATCH_MAX, BatchingPort } from '../src/microkernel/batch.js';
import { deferred, endpointPair, okv, OpenPorts, type Side } from './support/channels.js';

const openPorts = new OpenPorts();

afterEach(async () => {
  vi.restoreAllMocks();
  await openPorts.closeAll();
});

/**
 * A BatchingPort `tx` over port1; on port2 the raw events (`raw`) and a
 * receiving BatchingPort whose listener collects frames (`got`). `until(n)`
 * resolves once the listener has `n` frames.
 */
function wire() {
  const { port1, port2 } = openPorts.channel();
  const raw: unknown[] = [];
  port2.on('message', (v) => raw.push(v));
  const got: unknown[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const rx = new BatchingPort(port2);
  rx.on('message', (f) => {
    got.push(f);
    for (const w of waiters) if (got.length >= w.n) w.resolve();
  });
  const until = (n: number) => {
    const d = deferred();
    if (got.length >= n) d.resolve();
    else waiters.push({ n, resolve: d.resolve });
    return d.promise;
  };
  return { tx: new BatchingPort(port1), rx, raw, got, until, port1, port2 };
}

/** Microtasks already queued have run (BatchingPort flushes in one). */
const microtasksDone = () => new Promise<void>((res) => queueMicrotask(res));

describe('frames posted in one synchronous run', () => {
  it('go out as one postMessage and reach the listener one by one, in order', async () => {
    const { tx, raw, got, until } = wire();
    const frames = [{ k: 0, i: 1 }, { k: 0, i: 2 }, 'three', 4, { k: 2, m: { type: 'X' } }];
    for (const f of frames) tx.postMessage(f);
    await until(5);
    expect(got).toEqual(frames);
    expect(raw).toEqual([{ k: -1, b: frames }]);
    // a later frame (a later run) comes as a separate event: nothing else was sent meanwhile
    tx.postMessage('marker');
    await until(6);
    expect(raw).toEqual([{ k: -1, b: frames }, 'marker']);
  });

  it('nothing is posted until the run ends; then exactly one postMessage', async () => {
    const { tx, port1 } = wire();
    const post = vi.spyOn(port1, 'postMessage');
    tx.postMessage('a');
    tx.postMessage('b');
    tx.postMessage('c');
    expect(post).not.toHaveBeenCalled();
    await microtasksDone();
    expect(post).toHaveBeenCalledTimes(1);
    expect(post.mock.calls[0][0]).toEqual({ k: -1, b: ['a', 'b', 'c'] });
  });

  it('a single frame is sent unwrapped', async () => {
    const { tx, raw, got, until } = wire();
    const frame = { k: 1, i: 9, r: { ok: true, value: { n: 1 } } };
    tx.postMessage(frame);
    await until(1);
    expect(raw).toEqual([frame]);
    expect(got).toEqual([frame]);
  });

  it('frames posted from a later microtask or turn go in later batches; order is kept across batches', async () => {
    const { tx, raw, got, until } = wire();
    tx.postMessage(1);
    tx.postMessage(2);
    tx.postMessage(3);
    queueMicrotask(() => {
      // queued after the flush: this is a new batch
      tx.postMessage(4);
      tx.postMessage(5);
    });
    setImmediate(() => tx.postMessage(6));
    await until(6);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(raw).toEqual([{ k: -1, b: [1, 2, 3] }, { k: -1, b: [4, 5] }, 6]);
  });

  it('500 frames in one run: one event per BATCH_MAX of them, all delivered in order', async () => {
    const { tx, raw, got, until } = wire();
    const frames = Array.from({ length: 500 }, (_, i) => ({ i }));
    for (const f of frames) tx.postMessage(f);
    await until(500);
    expect(got).toEqual(frames);
    // bounded, so that the receiver starts on the first frames while the sender posts the rest
    expect(raw).toHaveLength(Math.ceil(500 / BATCH_MAX));
  });

  it('a full batch goes at once, before the run ends; the rest at its end', async () => {
    const { tx, raw, until } = wire();
    for (let i = 0; i < BATCH_MAX + 3; i++) tx.postMessage({ i });
    expect(raw).toHaveLength(0); // posted, not yet received: the port delivers in a later turn
    await until(BATCH_MAX + 3);
    expect(raw).toHaveLength(2);
    expect((raw[0] as { b: unknown[] }).b).toHaveLength(BATCH_MAX);
    expect(raw[1]).toMatchObject({ b: [{ i: BATCH_MAX }, { i: BATCH_MAX + 1 }, { i: BATCH_MAX + 2 }] });
  });
});

describe('transfers', () => {
  it('buffers listed by the frames of a batch are all transferred, and arrive with their bytes', async () => {
    const { tx, raw, got, until } = wire();
    const a = Uint8Array.from([1, 2, 3]);
    const b = Uint8Array.from({ length: 4096 }, (_, i) => i & 255);
    tx.postMessage({ data: [a] }, [a.buffer]);
    tx.postMessage({ note: 'no transfer' });
    tx.postMessage({ data: [b] }, [b.buffer]);
    await microtasksDone();
    // moved, not copied: the sender's buffers are detached
    expect(a.buffer.byteLength).toBe(0);
    expect(b.buffer.byteLength).toBe(0);
    await until(3);
    expect(raw).toHaveLength(1);
    expect(got).toEqual([{ data: [Uint8Array.from([1, 2, 3])] }, { note: 'no transfer' }, { data: [Uint8Array.from({ length: 4096 }, (_, i) => i & 255)] }]);
  });

  it('a lone frame keeps its transfer list', async () => {
    const { tx, raw, got, until } = wire();
    const a = Uint8Array.from([7, 8, 9]);
    tx.postMessage({ data: [a] }, [a.buffer]);
    await until(1);
    expect(a.buffer.byteLength).toBe(0);
    expect(raw).toEqual([{ data: [Uint8Array.from([7, 8, 9])] }]);
    expect(got).toEqual(raw);
  });

  it('a batch flushed without transfers posts an empty transfer list', async () => {
    const { tx, port1 } = wire();
    const post = vi.spyOn(port1, 'postMessage');
    tx.postMessage('x');
    tx.postMessage('y');
    await microtasksDone();
    expect(post.mock.calls).toEqual([[{ k: -1, b: ['x', 'y'] }, []]]);
  });
});

describe('close', () => {
  it('close flushes what was queued: the peer gets every frame, in order, before the close', async () => {
    const { tx, raw, got, until, port2 } = wire();
    const closed = once(port2, 'close');
    let framesAtClose = -1;
    port2.once('close', () => (framesAtClose = got.length));
    tx.postMessage('a');
    tx.postMessage('b');
    tx.postMessage('c');
    tx.close(); // same run: nothing was flushed yet
    await Promise.all([until(3), closed]);
    expect(got).toEqual(['a', 'b', 'c']);
    expect(raw).toEqual([{ k: -1, b: ['a', 'b', 'c'] }]);
    expect(framesAtClose).toBe(3);
  });

  it('after close, postMessage is a no-op and the pending flush sends nothing twice', async () => {
    const { tx, port1 } = wire();
    const post = vi.spyOn(port1, 'postMessage');
    tx.postMessage('a');
    tx.close();
    expect(() => tx.postMessage('late')).not.toThrow();
    await microtasksDone();
    expect(post.mock.calls).toEqual([['a', []]]);
  });

  it("'close' listeners go to the underlying port: the peer closing is seen", async () => {
    const { rx, port1 } = wire();
    const seen = deferred<string>();
    rx.on('close', () => seen.resolve('closed'));
    port1.close();
    expect(await seen.promise).toBe('closed');
  });
});

describe('an Endpoint over BatchingPorts', () => {
  function pair(a: Side = {}, b: Side = {}) {
    const { port1, port2 } = openPorts.channel();
    const raw: unknown[] = [];
    port2.on('message', (v) => raw.push(v));
    const { A, B, ca, cb } = endpointPair(new BatchingPort(port1), new BatchingPort(port2), a, b);
    return { A, B, ca, cb, raw };
  }

  it('20 calls in one run: two batches on the wire (16 and 4), 20 replies matched, and 20 messages counted each way', async () => {
    const { A, ca, cb, raw } = pair({}, { onCall: (m) => okv((m as unknown as { n: number }).n + 1000) });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => A.call({ type: 'X', n } as { type: string })));
    replies.forEach((r, n) => expect(r).toEqual({ ok: true, value: n + 1000 }));
    expect(raw).toHaveLength(2); // the 20 calls crossed in two postMessages, of BATCH_MAX and the rest
    // counting is per frame, never per batch: grouping depends on timing, counters must not
    expect(ca.snapshot()).toMatchObject({ ipcMessages: 20, crossings: 20 });
    expect(cb.snapshot()).toMatchObject({ ipcMessages: 20, crossings: 20 });
  });

  it('bytesCopied is counted per frame as a structured clone of its payload', async () => {
    const { A, ca, cb } = pair({}, { onCall: () => okv({ data: [new Uint8Array(10)] }) });
    const big = new ArrayBuffer(1000);
    await Promise.all([
      A.call({ type: 'X', data: [new Uint8Array(big, 0, 50)] } as { type: string }),
      A.call({ type: 'X', data: [new Uint8Array(100)] } as { type: string }),
    ]);
    expect(ca.get('bytesCopied')).toBe(1000 + 100);
    expect(cb.get('bytesCopied')).toBe(10 + 10);
  });

  // Regression test (was a bug in src/microkernel/batch.ts BatchingPort.postMessage and flush,
  // lines 32-50 at 9f40424).
  it('a frame that cannot be cloned is refused with EINVAL and the rest of its batch still goes', async () => {
    const escaped: unknown[] = [];
    const realQueueMicrotask = globalThis.queueMicrotask;
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((cb) =>
      realQueueMicrotask(() => {
        try {
          cb();
        } catch (e) {
          escaped.push(e);
        }
      }),
    );
    const { A } = pair({ deadlineMs: 200 }, { onCall: (m) => okv((m as unknown as { n: number }).n) });
    const first = A.call({ type: 'X', n: 1 } as { type: string });
    const bad = A.call({ type: 'X', n: 2, f: () => 2 } as { type: string });
    const third = A.call({ type: 'X', n: 3 } as { type: string });
    const results = await Promise.all([first, bad, third]);
    expect(escaped).toEqual([]);
    expect(results[1]).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect([results[0], results[2]]).toEqual([okv(1), okv(3)]);
  });
});

describe('framing', () => {
  // Regression test (was a bug in src/microkernel/batch.ts BatchingPort flush and on('message').
  it('a lone frame shaped like a batch arrives as it was posted', async () => {
    const { tx, got, until } = wire();
    tx.postMessage({ b: [1, 2] });
    setImmediate(() => tx.postMessage('end'));
    await until(2);
    expect(got).toEqual([{ b: [1, 2] }, 'end']);
  });
});
