/**
 * The payload transport codecs (src/microkernel/transport.ts) in-process, with
 * a Counters: what each codec does to a message's payload arrays before posting
 * (copy: nothing; transfer: move whole buffers, copy out the rest, counted;
 * shared: pool views become pinned descriptors), what shared decode does on
 * receipt, and that encode never touches the caller's object or arrays.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Counters, COUNTER_NAMES } from '../src/metrics/counters.js';
import { newPoolMemory, PoolMapping, DescriptorError, type Descriptor } from '../src/microkernel/pool.js';
import { copyCodec, keptBuffers, release, sharedCodec, transferCodec, type Codec, type Held } from '../src/microkernel/transport.js';
import { clonedBytes, payloadBytes } from '../src/microkernel/ipc.js';
import { bytes } from './support/bytes.js';

type Rec = Record<string, unknown>;

/** Every counter is zero except those named. */
function expectOnly(c: Counters, nonZero: Partial<Record<(typeof COUNTER_NAMES)[number], number>>): void {
  const want = Object.fromEntries(COUNTER_NAMES.map((n) => [n, nonZero[n] ?? 0]));
  expect(c.snapshot()).toEqual(want);
}

/** A structural snapshot of a message: each field, and each array's elements by identity. */
function shape(msg: Rec): unknown[] {
  return Object.entries(msg).map(([k, v]) => [k, v, Array.isArray(v) ? [...v] : null]);
}

/** The caller's object, arrays and views are exactly as before. */
function expectUntouched(msg: Rec, before: unknown[]): void {
  const after = shape(msg);
  expect(after.length).toBe(before.length);
  after.forEach((entry, i) => {
    const [k, v, elems] = entry as [string, unknown, unknown[] | null];
    const [k0, v0, elems0] = before[i] as [string, unknown, unknown[] | null];
    expect(k).toBe(k0);
    expect(v).toBe(v0);
    if (elems0) {
      expect(elems!.length).toBe(elems0.length);
      elems!.forEach((e, j) => expect(e).toBe(elems0[j]));
    }
  });
}

describe('copy codec', () => {
  it('encode leaves the views where they are, transfers nothing and counts nothing', () => {
    const c = new Counters();
    const buf = new ArrayBuffer(100);
    const part = new Uint8Array(buf, 10, 20);
    const whole = bytes(50);
    const msg = { type: 'X', data: [part, whole], n: 3 };
    const { value, transfer } = copyCodec.encode(msg, c);
    expect(transfer).toEqual([]);
    expect((value.data as Uint8Array[])[0]).toBe(part);
    expect((value.data as Uint8Array[])[1]).toBe(whole);
    expect(value.n).toBe(3);
    expectOnly(c, {}); // the channel's structured clone counts the copy, not the codec
  });

  it('decode changes nothing and holds nothing', () => {
    const held: Held = [];
    const v = bytes(4);
    const value: Rec = { data: [v] };
    copyCodec.decode(value, held);
    expect((value.data as Uint8Array[])[0]).toBe(v);
    expect(held).toEqual([]);
  });
});

describe('transfer codec: encode', () => {
  it('a whole buffer nobody keeps is moved: in the transfer list, the same view in the message, no bytes counted', () => {
    const c = new Counters();
    const v = bytes(1000);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [v] }, c);
    expect(transfer).toEqual([v.buffer]);
    expect(transfer[0]).toBe(v.buffer);
    expect((value.data as Uint8Array[])[0]).toBe(v);
    expectOnly(c, {});
  });

  it('a view of part of a buffer is copied out: bytesCopied += its length, the copy moves, the original stays', () => {
    const c = new Counters();
    const src = bytes(1000);
    const part = src.subarray(100, 150);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [part] }, c);
    const sent = (value.data as Uint8Array[])[0];
    expect(sent).not.toBe(part);
    expect(sent.buffer).not.toBe(src.buffer);
    expect(sent.byteOffset).toBe(0);
    expect(sent.buffer.byteLength).toBe(50); // a buffer of its own, exactly the slice
    expect([...sent]).toEqual([...bytes(50, 100)]);
    expect(transfer).toEqual([sent.buffer]);
    expect(transfer).not.toContain(src.buffer);
    expectOnly(c, { bytesCopied: 50 });
    // the original is untouched: same bytes, buffer not detached
    expect(src.buffer.byteLength).toBe(1000);
    expect([...part]).toEqual([...bytes(50, 100)]);
  });

  it('a view starting at 0 but shorter than its buffer is a part too', () => {
    const c = new Counters();
    const src = bytes(64);
    const { transfer } = transferCodec.encode({ type: 'X', data: [src.subarray(0, 63)] }, c);
    expect(transfer).not.toContain(src.buffer);
    expectOnly(c, { bytesCopied: 63 });
  });

  it('a whole kept buffer (a cache block) is copied out, never moved', () => {
    const c = new Counters();
    const block = bytes(4096, 7);
    keptBuffers.add(block.buffer);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [block] }, c);
    const sent = (value.data as Uint8Array[])[0];
    expect(sent).not.toBe(block);
    expect(sent.buffer).not.toBe(block.buffer);
    expect([...sent]).toEqual([...block]);
    expect(transfer).toEqual([sent.buffer]);
    expectOnly(c, { bytesCopied: 4096 });
    expect(block.buffer.byteLength).toBe(4096);
  });

  it('a part of a kept buffer is copied out with only its own length counted', () => {
    const c = new Counters();
    const block = bytes(4096);
    keptBuffers.add(block.buffer);
    const { value } = transferCodec.encode({ type: 'X', data: [block.subarray(4000, 4096), block.subarray(0, 10)] }, c);
    const sent = value.data as Uint8Array[];
    expect(sent.map((s) => s.length)).toEqual([96, 10]);
    expect(sent.map((s) => s.buffer.byteLength)).toEqual([96, 10]);
    expectOnly(c, { bytesCopied: 106 });
  });

  it('the same buffer twice is moved once: it appears once in the transfer list', () => {
    const c = new Counters();
    const v = bytes(300);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [v, v] }, c);
    expect(transfer.filter((b) => b === v.buffer)).toHaveLength(1);
    expect(new Set(transfer).size).toBe(transfer.length); // postMessage refuses duplicate transfers
    const sent = value.data as Uint8Array[];
    expect(sent[0]).toBe(v);
    // the second occurrence cannot move again: it is copied out, and counted
    expect(sent[1]).not.toBe(v);
    expect([...sent[1]]).toEqual([...v]);
    expect(transfer).toContain(sent[1].buffer);
    expectOnly(c, { bytesCopied: 300 });
  });

  it('a whole view and a part of the same buffer: the whole moves, the part is copied out', () => {
    const c = new Counters();
    const v = bytes(200);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [v, v.subarray(20, 30)] }, c);
    const sent = value.data as Uint8Array[];
    expect(sent[0]).toBe(v);
    expect(sent[1].buffer.byteLength).toBe(10);
    expect(transfer).toEqual([v.buffer, sent[1].buffer]);
    expectOnly(c, { bytesCopied: 10 });
  });

  it('shared memory is neither moved nor copied', () => {
    const c = new Counters();
    const sab = new Uint8Array(new SharedArrayBuffer(64), 8, 8);
    const { value, transfer } = transferCodec.encode({ type: 'X', data: [sab] }, c);
    expect((value.data as Uint8Array[])[0]).toBe(sab);
    expect(transfer).toEqual([]);
    expectOnly(c, {});
  });

  it('payload arrays in several fields, and non-payload fields left alone', () => {
    const c = new Counters();
    const head = bytes(41);
    const block = bytes(4096);
    keptBuffers.add(block.buffer);
    const msg = { type: 'NET_SEND', reqId: 9, body: [head, block.subarray(0, 100)], extra: [bytes(5)], tags: ['a', 'b'] };
    const { value, transfer } = transferCodec.encode(msg, c);
    expect(value.reqId).toBe(9);
    expect(value.tags).toBe(msg.tags);
    const body = value.body as Uint8Array[];
    expect(body[0]).toBe(head);
    expect(body[1].buffer.byteLength).toBe(100);
    expect((value.extra as Uint8Array[])[0]).toBe(msg.extra[0]);
    expect(transfer).toHaveLength(3);
    expect(transfer).toEqual([head.buffer, body[1].buffer, msg.extra[0].buffer]);
    expectOnly(c, { bytesCopied: 100 });
  });

  it('the transfer list really posts: moved buffers detach at the sender, copied-out originals do not', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const c = new Counters();
      const whole = bytes(128);
      const block = bytes(256);
      keptBuffers.add(block.buffer);
      const { value, transfer } = transferCodec.encode({ type: 'X', data: [whole, block] }, c);
      port1.postMessage(value, transfer);
      expect(whole.buffer.byteLength).toBe(0); // moved away
      expect(block.buffer.byteLength).toBe(256); // kept by the sender
      expectOnly(c, { bytesCopied: 256 });
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('shared codec', () => {
  const SLOT = 4096;

  /** A pool of 4 slots (id 0) mapped by a sender and a receiver, with the codec each would use. */
  function setup() {
    const mem = newPoolMemory(0, 4, SLOT);
    const sender = new PoolMapping(mem);
    const receiver = new PoolMapping(mem);
    const data = new Uint8Array(mem.data);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 255;
    return { mem, sender, receiver, send: sharedCodec([sender]), recv: sharedCodec([receiver]) };
  }

  it('a pool view becomes a descriptor with the current generation, and its slot is pinned', () => {
    const { mem, sender, send } = setup();
    sender.claim(2);
    sender.claim(2); // generation 2
    const c = new Counters();
    const view = new Uint8Array(mem.data, 2 * SLOT + 100, 50);
    const { value, transfer } = send.encode({ type: 'X', data: [view] }, c);
    expect((value.data as unknown[])[0]).toEqual({ pool: 0, slot: 2, offset: 100, length: 50, gen: 2 });
    expect(transfer).toEqual([]);
    expect(sender.refs(2)).toBe(1);
    expectOnly(c, {});
  });

  it('each pool view pins its own slot once; two views of one slot pin it twice', () => {
    const { mem, sender, send } = setup();
    const c = new Counters();
    const v = (slot: number, off: number, n: number) => new Uint8Array(mem.data, slot * SLOT + off, n);
    const { value } = send.encode({ type: 'X', data: [v(0, 0, 10), v(3, 5, 5), v(0, 20, 1)] }, c);
    expect((value.data as Descriptor[]).map((d) => d.slot)).toEqual([0, 3, 0]);
    expect([sender.refs(0), sender.refs(1), sender.refs(2), sender.refs(3)]).toEqual([2, 0, 0, 1]);
  });

  it('a heap view stays the same view, pins nothing, counts nothing (the channel will clone it)', () => {
    const { sender, send } = setup();
    const c = new Counters();
    const head = bytes(41);
    const { value, transfer } = send.encode({ type: 'X', body: [head] }, c);
    expect((value.body as Uint8Array[])[0]).toBe(head);
    expect(transfer).toEqual([]);
    for (let s = 0; s < 4; s++) expect(sender.refs(s)).toBe(0);
    expectOnly(c, {});
  });

  it('a view of a pool this domain does not map stays a view; one spanning two slots is an extent pinning both', () => {
    const { mem, sender, send } = setup();
    const c = new Counters();
    const foreign = new Uint8Array(newPoolMemory(1, 4, SLOT).data, 0, 10);
    const spanning = new Uint8Array(mem.data, SLOT - 5, 10);
    const { value } = send.encode({ type: 'X', data: [foreign, spanning] }, c);
    expect((value.data as unknown[])[0]).toBe(foreign);
    expect((value.data as unknown[])[1]).toEqual({ pool: 0, slot: 0, slots: 2, offset: SLOT - 5, length: 10, gen: 0 });
    expect([sender.refs(0), sender.refs(1), sender.refs(2)]).toEqual([1, 1, 0]);
    expectOnly(c, {});
  });

  it('decode maps descriptors back to views of the same bytes, into `held`; release unpins', () => {
    const { mem, sender, receiver, send, recv } = setup();
    const c = new Counters();
    sender.claim(1);
    const a = new Uint8Array(mem.data, SLOT + 7, 100);
    const b = new Uint8Array(mem.data, 3 * SLOT, SLOT);
    const head = bytes(41);
    const { value } = send.encode({ type: 'NET_SEND', reqId: 1, body: [head, a, b] }, c);
    const wire = structuredClone(value); // what the receiver gets: plain descriptors, a cloned head
    const held: Held = [];
    recv.decode(wire, held);
    const body = wire.body as Uint8Array[];
    expect(body[0]).not.toBe(head); // the clone's head
    expect([...body[0]]).toEqual([...head]);
    expect(body[1].buffer).toBe(mem.data);
    expect(body[1].byteOffset).toBe(SLOT + 7);
    expect([...body[1]]).toEqual([...a]);
    expect(body[2].byteOffset).toBe(3 * SLOT);
    expect(body[2].length).toBe(SLOT);
    expect(held.map((h) => [h.pool, h.slot])).toEqual([
      [receiver, 1],
      [receiver, 3],
    ]);
    expect([receiver.refs(1), receiver.refs(3)]).toEqual([1, 1]);
    release(held);
    expect(held).toEqual([]);
    expect([receiver.refs(1), receiver.refs(3)]).toEqual([0, 0]);
  });

  it('decode appends to a `held` that already holds slots', () => {
    const { mem, sender, send, recv } = setup();
    const { value } = send.encode({ type: 'X', data: [new Uint8Array(mem.data, 2 * SLOT, 4)] }, new Counters());
    sender.pin(0);
    const held: Held = [{ pool: sender, slot: 0 }];
    recv.decode(value, held);
    expect(held.map((h) => h.slot)).toEqual([0, 2]);
    release(held);
    expect([sender.refs(0), sender.refs(2)]).toEqual([0, 0]);
  });

  it('decode refuses a forged or stale descriptor with a DescriptorError', () => {
    const { sender, recv } = setup();
    const forged = { type: 'X', data: [{ pool: 0, slot: 0, offset: 0, length: 10, gen: 999 }] };
    expect(() => recv.decode(forged, [])).toThrow(DescriptorError);
    const unknownPool = { type: 'X', data: [{ pool: 5, slot: 0, offset: 0, length: 10, gen: 0 }] };
    expect(() => recv.decode(unknownPool, [])).toThrow(DescriptorError);
    sender.claim(0);
    sender.pin(0);
    const stale = { type: 'X', data: [{ pool: 0, slot: 0, offset: 0, length: 10, gen: 0 }] };
    expect(() => recv.decode(stale, [])).toThrow(/stale/);
  });

  it('release of an empty held does nothing; releasing twice unpins once', () => {
    const { sender } = setup();
    release([]);
    sender.pin(1);
    const held: Held = [{ pool: sender, slot: 1 }];
    release(held);
    release(held); // emptied by the first release
    expect(sender.refs(1)).toBe(0);
  });
});

describe('shared codec: runs of pool views cross as extents', () => {
  const SLOT = 4096;

  /** A pool of 8 slots (id 0) mapped by a sender and a receiver, with the codec each would use. */
  function setup() {
    const mem = newPoolMemory(0, 8, SLOT);
    const sender = new PoolMapping(mem);
    const receiver = new PoolMapping(mem);
    const data = new Uint8Array(mem.data);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 255;
    const v = (slot: number, off = 0, n = SLOT - off) => new Uint8Array(mem.data, slot * SLOT + off, n);
    return { mem, sender, receiver, v, send: sharedCodec([sender]), recv: sharedCodec([receiver]) };
  }
  const refs = (p: PoolMapping) => Array.from({ length: p.mem.slots }, (_, s) => p.refs(s));

  it('views of consecutive slots, each following the last, are one descriptor pinning each slot once', () => {
    const { sender, v, send } = setup();
    sender.claim(3); // generation 1
    const c = new Counters();
    const { value } = send.encode({ type: 'X', data: [v(2, 100), v(3), v(4), v(5, 0, 7)] }, c);
    expect(value.data).toEqual([{ pool: 0, slot: 2, slots: 4, offset: 100, length: 3 * SLOT - 100 + 7, gen: 1 }]);
    expect(refs(sender)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expectOnly(c, {});
  });

  it('a run breaks at a gap, a step back, a repeat (overlap), a heap view, or another pool', () => {
    const { sender, v, send } = setup();
    const heap = bytes(10);
    const foreign = new Uint8Array(newPoolMemory(1, 8, SLOT).data, 0, 10);
    const cases: [Uint8Array[], number[]][] = [
      [[v(0), v(2)], [0, 2]], // a gap of one slot
      [[v(0, 0, 10), v(0, 11, 5)], [0, 0]], // a gap of one byte
      [[v(3), v(2)], [3, 2]], // consecutive slots in the wrong order
      [[v(1), v(1)], [1, 1]], // the same slot twice
      [[v(1, 0, 20), v(1, 10, 20)], [1, 1]], // overlapping slices
    ];
    for (const [views, slots] of cases) {
      const { value } = send.encode({ type: 'X', data: views }, new Counters());
      expect((value.data as Descriptor[]).map((d) => d.slot)).toEqual(slots);
      send.abandon(value);
    }
    const { value } = send.encode({ type: 'X', data: [v(0), heap, v(1), foreign, v(2)] }, new Counters());
    const out = value.data as unknown[];
    expect(out[1]).toBe(heap);
    expect(out[3]).toBe(foreign);
    expect([out[0], out[2], out[4]].map((d) => (d as Descriptor).slot)).toEqual([0, 1, 2]);
    send.abandon(value);
    expect(refs(sender)).toEqual(new Array(8).fill(0));
  });

  it('empty views inside a run disappear into it; an empty view at the very end of the pool alone stays a view', () => {
    const { mem, v, send } = setup();
    const { value } = send.encode({ type: 'X', data: [v(6), new Uint8Array(mem.data, 7 * SLOT, 0), v(7)] }, new Counters());
    expect(value.data).toEqual([{ pool: 0, slot: 6, slots: 2, offset: 0, length: 2 * SLOT, gen: 0 }]);
    const end = new Uint8Array(mem.data, 8 * SLOT, 0);
    expect(send.encode({ type: 'X', data: [end] }, new Counters()).value.data).toEqual([end]);
  });

  it('decode maps an extent to one view of the same bytes; held records the run; release unpins every slot', () => {
    const { mem, sender, receiver, v, send, recv } = setup();
    const head = bytes(41);
    const slices = [v(1, 5), v(2), v(3, 0, 9)];
    const { value } = send.encode({ type: 'NET_SEND', body: [head, ...slices] }, new Counters());
    const wire = structuredClone(value);
    const held: Held = [];
    recv.decode(wire, held);
    const body = wire.body as Uint8Array[];
    expect(body).toHaveLength(2);
    expect(body[1].buffer).toBe(mem.data);
    expect(body[1].byteOffset).toBe(SLOT + 5);
    expect([...body[1]]).toEqual(slices.flatMap((s) => [...s]));
    expect(held).toEqual([{ pool: receiver, slot: 1, slots: 3 }]);
    expect(refs(receiver)).toEqual([0, 1, 1, 1, 0, 0, 0, 0]); // the sender's pins, until the receiver is done
    release(held);
    expect(refs(sender)).toEqual(new Array(8).fill(0));
  });

  it('decode refuses an extent with one slot reused since it was encoded, and holds nothing', () => {
    const { sender, v, send, recv } = setup();
    const { value } = send.encode({ type: 'X', data: [v(0), v(1), v(2)] }, new Counters());
    const wire = structuredClone(value);
    sender.unpin(1);
    sender.claim(1); // the middle block was reused (its generation is now 1) ...
    sender.pin(1); // ... and is pinned again for its new contents
    const held: Held = [];
    expect(() => recv.decode(wire, held)).toThrow(/stale/);
    expect(held).toEqual([]);
  });

  it('abandon drops every pin an extent took', () => {
    const { sender, v, send } = setup();
    const { value } = send.encode({ type: 'X', data: [v(4), v(5), v(6)], body: [v(0, 8, 8)] }, new Counters());
    expect(refs(sender)).toEqual([1, 0, 0, 0, 1, 1, 1, 0]);
    send.abandon(value);
    expect(refs(sender)).toEqual(new Array(8).fill(0));
  });

  it('a 1 MiB payload of 256 consecutive blocks is one descriptor: 1 MiB of payload bytes, none copied', () => {
    const mem = newPoolMemory(0, 256, SLOT);
    const p = new PoolMapping(mem);
    const blocks = Array.from({ length: 256 }, (_, s) => new Uint8Array(mem.data, s * SLOT, SLOT));
    const { value } = sharedCodec([p]).encode({ type: 'X', data: blocks }, new Counters());
    expect(value.data).toEqual([{ pool: 0, slot: 0, slots: 256, offset: 0, length: 1 << 20, gen: 0 }]);
    expect(payloadBytes(value)).toBe(1 << 20);
    expect(clonedBytes(value)).toBe(0);
  });
});

describe('encode never mutates the caller', () => {
  const mem = newPoolMemory(0, 2, 4096);
  const pm = new PoolMapping(mem);
  const codecs: Codec[] = [copyCodec, transferCodec, sharedCodec([pm])];

  it.each(codecs.map((c) => [c.name, c] as const))('%s: the caller keeps its object, arrays and views', (_name, codec) => {
    const kept = bytes(4096);
    keptBuffers.add(kept.buffer);
    const data = [bytes(10), bytes(100).subarray(5, 20), kept, new Uint8Array(mem.data, 4096 + 3, 30)];
    const other = [bytes(3)];
    const msg: Rec = { type: 'X', data, other, n: 1, s: 'str', o: { inner: true } };
    const before = shape(msg);
    const contents = data.map((v) => [...v]);
    const { value } = codec.encode(msg, new Counters());
    expectUntouched(msg, before);
    expect(msg.data).toBe(data);
    data.forEach((v, i) => expect([...v]).toEqual(contents[i]));
    if (codec !== copyCodec) {
      // a new object with new payload arrays
      expect(value).not.toBe(msg);
      expect(value.data).not.toBe(data);
      expect(value.other).not.toBe(other);
    }
    expect(value.n).toBe(1);
    expect(value.o).toBe(msg.o);
  });
});

describe('encode keeps the shape of a reply value', () => {
  // Regression test (was a bug in src/microkernel/transport.ts, mapPayloads).
  it.each([['transfer', transferCodec], ['shared', sharedCodec([])]] as const)(
    '%s: an array value stays an array',
    (_n, codec) => {
      const { value } = codec.encode([1, 2, 3] as unknown as Rec, new Counters());
      expect(Array.isArray(value)).toBe(true);
    },
  );

  it('copy: an array value stays an array', () => {
    const { value } = copyCodec.encode([1, 2, 3] as unknown as Rec, new Counters());
    expect(value).toEqual([1, 2, 3]);
  });
});
