/**
 * The single-producer single-consumer ring (src/microkernel/ring.ts, class Ring)
 * in-process: one thread, two Ring objects over the same RingMemory standing for
 * the producer's domain and the consumer's domain.
 *
 * What is checked: records come out in order with their exact bytes; a record
 * that does not fit before the end of the data area goes to the start behind a
 * WRAP marker; a full ring refuses a write without touching anything; maxRecord
 * is a size an empty ring always takes; capacity validation; a FIFO model
 * (fast-check) over random writes and drains; and a producer that dies in the
 * middle of a write (its `fill` throws) never makes a half-written record
 * visible.
 *
 * The header layout [head, tail] (Int32, positions modulo 2 x capacity) is part
 * of RingMemory's documented shape, so tests read it to show which path a write
 * took (e.g. that a WRAP really happened), never to decide what comes out.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newRingMemory, pow2AtLeast, Ring, type RingMemory } from '../src/microkernel/ring.js';

const WRAP = 0xffffffff;

/** One ring's memory and both its ends. */
function rig(capacity = 64) {
  const mem = newRingMemory(capacity);
  return { mem, producer: new Ring(mem), consumer: new Ring(mem) };
}

/** Write `rec` as one record; true if the ring took it. */
function put(r: Ring, rec: Uint8Array): boolean {
  return r.write(rec.length, (at) => r.data.bytes.set(rec, at));
}

/** Drain every published record, copying each out; checks drain's count. */
function takeAll(r: Ring): Uint8Array[] {
  const out: Uint8Array[] = [];
  // a ring holds at most capacity / 8 records: more means the consumer is reading garbage
  const most = (2 * (r.maxRecord + 8)) / 8;
  const n = r.drain((at, length) => {
    if (out.length === most) throw new Error(`drain delivered more than the ${most} records a ring can hold`);
    out.push(r.data.bytes.slice(at, at + length));
  });
  expect(n).toBe(out.length);
  return out;
}

/** `len` recognisable bytes for record number `tag` (records with different tags differ). */
function rec(len: number, tag: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (tag * 37 + i * 11 + 1) & 255);
}

/** Bytes a record of `len` takes in the ring: a 4-byte length, the body, rounded up to 8. */
const footprint = (len: number) => Math.ceil((4 + len) / 8) * 8;

/** The header: head and tail positions. */
function positions(mem: RingMemory): { head: number; tail: number } {
  const h = new Int32Array(mem.header);
  return { head: Atomics.load(h, 0), tail: Atomics.load(h, 1) };
}

/** Everything the ring's memory holds, to show that nothing changed. */
function image(mem: RingMemory): { header: number[]; data: number[] } {
  return { header: [...new Int32Array(mem.header)], data: [...new Uint8Array(mem.data)] };
}

/** Bring an empty fresh ring to position `p` (a multiple of 8) by writing and draining 8-byte records. */
function advanceTo(producer: Ring, consumer: Ring, p: number): void {
  for (let k = 0; k < p / 8; k++) expect(put(producer, rec(4, 200 + k))).toBe(true);
  takeAll(consumer);
}

describe('records in order', () => {
  it('records of assorted sizes come out in order with their exact bytes', () => {
    const { producer, consumer } = rig(256);
    const sent = [0, 1, 3, 4, 5, 7, 8, 9, 12, 20].map((len, tag) => rec(len, tag));
    for (const r of sent) expect(put(producer, r)).toBe(true);
    expect(consumer.isEmpty()).toBe(false);
    expect(takeAll(consumer)).toEqual(sent);
    expect(consumer.isEmpty()).toBe(true);
    expect(producer.isEmpty()).toBe(true);
  });

  it('an empty ring: drain returns 0 and never calls take', () => {
    const { consumer } = rig();
    let calls = 0;
    expect(consumer.drain(() => calls++)).toBe(0);
    expect(calls).toBe(0);
    expect(consumer.isEmpty()).toBe(true);
  });

  it('each record takes 4 + length bytes rounded up to 8', () => {
    const { mem, producer } = rig(256);
    let expectedTail = 0;
    for (const len of [0, 4, 5, 12, 13, 1]) {
      expect(put(producer, rec(len, len))).toBe(true);
      expectedTail += footprint(len);
      expect(positions(mem).tail).toBe(expectedTail);
    }
    // 8 + 8 + 16 + 16 + 24 + 8
    expect(expectedTail).toBe(80);
  });

  it('take sees each record at its own offset and length (zero-length records included)', () => {
    const { producer, consumer } = rig(128);
    for (const len of [0, 10, 0]) put(producer, rec(len, len));
    const seen: [number, number][] = [];
    consumer.drain((at, length) => seen.push([at, length]));
    // record bodies follow their 4-byte lengths: 0 at 4, then 10 at 8 + 4, then 0 at 8 + 16 + 4
    expect(seen).toEqual([
      [4, 0],
      [12, 10],
      [28, 0],
    ]);
  });

  it('a record published while a drain is running comes with the next drain, not lost and not twice', () => {
    const { producer, consumer } = rig(128);
    put(producer, rec(5, 1));
    put(producer, rec(6, 2));
    const first: Uint8Array[] = [];
    const n = consumer.drain((at, length) => {
      first.push(consumer.data.bytes.slice(at, at + length));
      // the producer (another domain) publishes while the consumer reads
      if (first.length === 1) expect(put(producer, rec(7, 3))).toBe(true);
    });
    expect(n).toBe(2);
    expect(first).toEqual([rec(5, 1), rec(6, 2)]);
    expect(takeAll(consumer)).toEqual([rec(7, 3)]);
    expect(takeAll(consumer)).toEqual([]);
  });

  it('the consumer frees each record as soon as it has read it: the producer can reuse that space during the drain', () => {
    const { producer, consumer } = rig(64);
    // fill the ring completely: 8 records of 8 bytes
    for (let k = 0; k < 8; k++) expect(put(producer, rec(4, k))).toBe(true);
    expect(put(producer, rec(4, 99))).toBe(false);
    const refusedDuring: boolean[] = [];
    consumer.drain(() => {
      // after the first record is handed out it is not yet freed; from the second on, the first is
      refusedDuring.push(put(producer, rec(4, 100 + refusedDuring.length)));
    });
    expect(refusedDuring[0]).toBe(false);
    expect(refusedDuring.slice(1).every((ok) => ok)).toBe(true);
    expect(takeAll(consumer)).toEqual(Array.from({ length: 7 }, (_, k) => rec(4, 101 + k)));
  });
});

describe('wrap-around at the end of the data area', () => {
  it('a record that does not fit before the end goes to the start behind a WRAP marker, bytes and order intact', () => {
    const { mem, producer, consumer } = rig(64);
    expect(put(producer, rec(20, 1))).toBe(true); // 24 bytes at 0
    expect(put(producer, rec(20, 2))).toBe(true); // 24 bytes at 24
    expect(takeAll(consumer)).toEqual([rec(20, 1), rec(20, 2)]);
    expect(positions(mem)).toEqual({ head: 48, tail: 48 });
    // 24 bytes needed, 16 left before the end: marker at 48, record at 0
    expect(put(producer, rec(20, 3))).toBe(true);
    expect(new DataView(mem.data).getUint32(48)).toBe(WRAP);
    expect(positions(mem).tail).toBe(64 + 24);
    expect(new Uint8Array(mem.data, 4, 20)).toEqual(rec(20, 3));
    expect(takeAll(consumer)).toEqual([rec(20, 3)]);
    expect(positions(mem)).toEqual({ head: 88, tail: 88 });
    expect(consumer.isEmpty()).toBe(true);
  });

  it('records on both sides of a wrap come out in order', () => {
    const { mem, producer, consumer } = rig(64);
    advanceTo(producer, consumer, 40);
    expect(put(producer, rec(4, 1))).toBe(true); // 8 bytes at 40
    expect(put(producer, rec(12, 2))).toBe(true); // 16 bytes at 48: exactly to the end, no marker
    expect(new DataView(mem.data).getUint32(48)).toBe(12);
    expect(put(producer, rec(4, 3))).toBe(true); // at 0 of the next lap
    expect(positions(mem).tail).toBe(72);
    expect(takeAll(consumer)).toEqual([rec(4, 1), rec(12, 2), rec(4, 3)]);
  });

  it('a record that exactly fills the space to the end does not wrap', () => {
    const { mem, producer, consumer } = rig(64);
    advanceTo(producer, consumer, 48);
    expect(put(producer, rec(12, 7))).toBe(true);
    expect(new DataView(mem.data).getUint32(48)).toBe(12); // a length, not a marker
    expect(positions(mem).tail).toBe(64);
    expect(takeAll(consumer)).toEqual([rec(12, 7)]);
  });

  it('many laps of mixed sizes keep order and content, and positions stay below 2 x capacity', () => {
    const cap = 128;
    const { mem, producer, consumer } = rig(cap);
    const max = producer.maxRecord;
    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    let wraps = 0;
    let written = 0;
    for (let k = 0; k < 600; k++) {
      const r = rec((k * 7) % (max + 1), k);
      const before = positions(mem).tail % cap;
      if (!put(producer, r)) {
        got.push(...takeAll(consumer));
        expect(put(producer, r)).toBe(true); // an empty ring takes any record up to maxRecord
      }
      const { head, tail } = positions(mem);
      if (tail % cap !== 0 && tail % cap < before) wraps++;
      expect(tail).toBeGreaterThanOrEqual(0);
      expect(tail).toBeLessThan(2 * cap);
      expect(head).toBeLessThan(2 * cap);
      sent.push(r);
      written += footprint(r.length);
      if (k % 5 === 4) got.push(...takeAll(consumer));
    }
    got.push(...takeAll(consumer));
    expect(written).toBeGreaterThan(50 * cap); // many laps of the ring...
    expect(wraps).toBeGreaterThan(10); // ...with real WRAP markers among them
    expect(got).toEqual(sent);
  });
});

describe('a full ring', () => {
  it('refuses a write with false, changes nothing, and takes it after the consumer drains', () => {
    const { mem, producer, consumer } = rig(64);
    const sent = Array.from({ length: 8 }, (_, k) => rec(4, k));
    for (const r of sent) expect(put(producer, r)).toBe(true);
    const before = image(mem);
    let filled = false;
    expect(producer.write(4, () => (filled = true))).toBe(false);
    expect(filled).toBe(false); // fill is never called for a refused write
    expect(put(producer, rec(4, 8))).toBe(false);
    expect(image(mem)).toEqual(before);
    expect(takeAll(consumer)).toEqual(sent);
    expect(put(producer, rec(4, 8))).toBe(true);
    expect(takeAll(consumer)).toEqual([rec(4, 8)]);
  });

  it('a record that must wrap is refused when the start of the ring is still in use, without writing the marker', () => {
    const { mem, producer, consumer } = rig(64);
    advanceTo(producer, consumer, 16);
    const sent = Array.from({ length: 5 }, (_, k) => rec(4, k)); // 40 bytes at 16..56: 24 free, 8 before the end
    for (const r of sent) expect(put(producer, r)).toBe(true);
    const before = image(mem);
    // 24 bytes needed: the free total (24) would hold it, but it needs 8 skipped + 24 at the start
    expect(put(producer, rec(20, 9))).toBe(false);
    expect(image(mem)).toEqual(before);
    // a record of 16 bytes fits: 8 skipped + 16 at 0..16
    expect(put(producer, rec(12, 10))).toBe(true);
    expect(new DataView(mem.data).getUint32(56)).toBe(WRAP);
    expect(takeAll(consumer)).toEqual([...sent, rec(12, 10)]);
    expect(put(producer, rec(20, 9))).toBe(true);
    expect(takeAll(consumer)).toEqual([rec(20, 9)]);
  });

  it('full and empty are told apart (positions run modulo 2 x capacity)', () => {
    const { mem, producer, consumer } = rig(64);
    for (let k = 0; k < 8; k++) put(producer, rec(4, k));
    const { head, tail } = positions(mem);
    expect(tail - head).toBe(64); // same place in the data area...
    expect(consumer.isEmpty()).toBe(false); // ...but full, not empty
    expect(takeAll(consumer)).toHaveLength(8);
    expect(consumer.isEmpty()).toBe(true);
  });
});

describe('maxRecord', () => {
  it.each([64, 128, 4096, 1 << 20])('is capacity / 2 - 8 for a ring of %i bytes', (cap) => {
    expect(rig(cap).producer.maxRecord).toBe(cap / 2 - 8);
  });

  it.each([64, 256])('a record of maxRecord bytes fits an empty %i-byte ring wherever its positions stand', (cap) => {
    for (let p = 0; p < cap; p += 8) {
      const { producer, consumer } = rig(cap);
      advanceTo(producer, consumer, p);
      const r = rec(producer.maxRecord, p);
      expect(put(producer, r), `empty ring at position ${p}`).toBe(true);
      expect(takeAll(consumer)).toEqual([r]);
    }
  });

  it('why the bound exists: a record past half the ring can be refused even by an empty ring', () => {
    const { producer, consumer } = rig(64);
    advanceTo(producer, consumer, 32);
    expect(consumer.isEmpty()).toBe(true);
    // 40 bytes with 32 left before the end would need 72 > 64
    expect(put(producer, rec(29, 1))).toBe(false);
  });
});

describe('capacity', () => {
  it.each([64, 128, 4096, 1 << 20])('newRingMemory(%i): header of two Int32, data of the capacity', (cap) => {
    const mem = newRingMemory(cap);
    expect(mem.capacity).toBe(cap);
    expect(mem.header.byteLength).toBe(8);
    expect(mem.data.byteLength).toBe(cap);
    expect(mem.data).toBeInstanceOf(SharedArrayBuffer);
    expect(positions(mem)).toEqual({ head: 0, tail: 0 });
  });

  it.each([65, 96, 100, 192, 1000, 4095, 4097])('refuses %i: not a power of two', (cap) => {
    expect(() => newRingMemory(cap)).toThrow(RangeError);
    expect(() => newRingMemory(cap)).toThrow(String(cap));
  });

  it.each([32, 16, 8, 2, 1, 0, -64])('refuses %i: below 64', (cap) => {
    expect(() => newRingMemory(cap)).toThrow(RangeError);
  });

  // Regression test (was a bug in src/microkernel/ring.ts newRingMemory, line 41).
  it.each([64.5, 128.25, Number.NaN])('refuses %d: not an integer', (cap) => {
    expect(() => newRingMemory(cap)).toThrow(RangeError);
  });

  it('pow2AtLeast: the smallest power of two >= n, never below 64', () => {
    expect([1, 63, 64, 65, 1000, 1024, 1025, 1 << 20].map(pow2AtLeast)).toEqual([64, 64, 64, 128, 1024, 1024, 2048, 1 << 20]);
  });
});

describe('a producer that dies mid-write', () => {
  /** A write whose producer scribbles part of the record and then dies. */
  function dieWriting(producer: Ring, length: number): void {
    expect(() =>
      producer.write(length, (at) => {
        producer.data.bytes.fill(0xee, at, at + Math.floor(length / 2));
        throw new Error('producer died');
      }),
    ).toThrow('producer died');
  }

  it('the consumer sees nothing, and the ring is still usable afterwards', () => {
    const { mem, producer, consumer } = rig(64);
    put(producer, rec(6, 1));
    takeAll(consumer);
    const before = positions(mem);
    dieWriting(producer, 12);
    expect(positions(mem)).toEqual(before); // the tail was never published
    expect(consumer.isEmpty()).toBe(true);
    expect(consumer.drain(() => expect.unreachable('a half-written record was delivered'))).toBe(0);
    // a new producer incarnation writes over the same place
    expect(put(producer, rec(12, 2))).toBe(true);
    expect(takeAll(consumer)).toEqual([rec(12, 2)]);
  });

  it('while a record is being written the consumer cannot see it; it appears whole when published', () => {
    const { producer, consumer } = rig(64);
    const r = rec(20, 3);
    const seenMidWrite: number[] = [];
    producer.write(r.length, (at) => {
      producer.data.bytes.set(r.subarray(0, 10), at);
      seenMidWrite.push(consumer.drain(() => {}));
      producer.data.bytes.set(r.subarray(10), at + 10);
      seenMidWrite.push(consumer.isEmpty() ? 0 : 1);
    });
    expect(seenMidWrite).toEqual([0, 0]);
    expect(takeAll(consumer)).toEqual([r]);
  });

  it('records published before the death are all delivered, the half-written one never', () => {
    const { producer, consumer } = rig(128);
    const sent = [rec(3, 1), rec(9, 2), rec(17, 3)];
    for (const r of sent) put(producer, r);
    dieWriting(producer, 30);
    expect(takeAll(consumer)).toEqual(sent);
    expect(takeAll(consumer)).toEqual([]);
  });

  it('dying while wrapping (marker written, tail not published) leaves nothing visible; the next record there reads correctly', () => {
    const { mem, producer, consumer } = rig(64);
    advanceTo(producer, consumer, 48);
    dieWriting(producer, 20); // needs 24 with 16 left: the marker goes to 48 first
    expect(new DataView(mem.data).getUint32(48)).toBe(WRAP); // the scenario really happened
    expect(positions(mem)).toEqual({ head: 48, tail: 48 });
    expect(consumer.drain(() => expect.unreachable('nothing was published'))).toBe(0);
    expect(put(producer, rec(4, 5))).toBe(true); // fits at 48, over the stale marker
    expect(put(producer, rec(20, 6))).toBe(true); // wraps for real
    expect(takeAll(consumer)).toEqual([rec(4, 5), rec(20, 6)]);
  });
});

describe('property: the ring behaves like a FIFO queue', () => {
  type Op = { op: 'write'; size: number } | { op: 'drain' } | { op: 'die'; size: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), size: fc.nat(1 << 16) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('die' as const), size: fc.nat(1 << 16) }) },
  );

  it('writeInRoom: any mix with write() and drains delivers the accepted records in order; it offers one piece before the data area ends, at most maxRecord, and a refusal or a fill that gives up keeps nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom(64, 128, 256, 1024), fc.array(fc.record({ op: fc.constantFrom('room', 'write', 'drain'), size: fc.nat(600) }), { maxLength: 300 }), (cap, ops) => {
        const { producer, consumer } = rig(cap);
        const max = producer.maxRecord;
        let model: Uint8Array[] = [];
        let tag = 0;
        for (const o of ops) {
          if (o.op === 'drain') {
            expect(takeAll(consumer)).toEqual(model);
            model = [];
            continue;
          }
          const r = rec(o.size % (max + 1), tag++);
          if (o.op === 'write') {
            if (put(producer, r)) model.push(r);
            continue;
          }
          // as a frame writer does: write what fits before `end`, or give up (here: report -1 and write nothing)
          let gaveUp = false;
          let offered = -1;
          let ok = false;
          try {
            ok = producer.writeInRoom((at, end) => {
              offered = end - at;
              expect(end).toBeLessThanOrEqual(cap); // one piece, before the end of the data area
              if (r.length > end - at) {
                gaveUp = true;
                throw new Error('does not fit');
              }
              producer.data.bytes.set(r, at);
              return r.length;
            }, false);
          } catch (e) {
            // what fill throws comes back to the caller, and nothing of the record is kept
            expect(gaveUp && (e as Error).message === 'does not fit').toBe(true);
            continue;
          }
          if (!ok) expect(offered).toBe(-1); // refused before any fill: no room at all
          else {
            expect(offered).toBeGreaterThanOrEqual(r.length);
            expect(offered).toBeLessThanOrEqual(max);
            model.push(r);
          }
        }
        expect(takeAll(consumer)).toEqual(model);
        expect(consumer.isEmpty()).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('any sequence of writes, drains and dead producers delivers exactly the accepted records, in order, with their bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(64, 128, 256, 1024), fc.array(opArb, { maxLength: 300 }), (cap, ops) => {
        const { producer, consumer } = rig(cap);
        const max = producer.maxRecord;
        let model: Uint8Array[] = [];
        let tag = 0;
        const queued = () => model.reduce((n, r) => n + footprint(r.length), 0);
        for (const o of ops) {
          if (o.op === 'drain') {
            expect(takeAll(consumer)).toEqual(model);
            model = [];
            expect(consumer.isEmpty()).toBe(true);
            continue;
          }
          // sizes spread over 0..maxRecord, with the largest ones common
          const size = o.size % 3 === 0 ? max - (o.size % 8) : o.size % (max + 1);
          if (o.op === 'die') {
            let result: boolean | 'died';
            try {
              result = producer.write(size, (at) => {
                producer.data.bytes.fill(0xee, at, at + size);
                throw new Error('died');
              });
            } catch {
              result = 'died';
            }
            if (result !== 'died') expect(result, 'a write that does not die is one the ring refused').toBe(false);
            continue;
          }
          const r = rec(size, tag++);
          const need = footprint(size);
          // room the ring certainly has: capacity - queued records - at most one skipped tail (< half the ring)
          const room = cap - queued() - (cap / 2 - 8);
          const ok = put(producer, r);
          if (model.length === 0) expect(ok, 'an empty ring takes any record up to maxRecord').toBe(true);
          if (room >= 2 * need - 8) expect(ok, 'refused although the ring has room').toBe(true);
          if (ok) model.push(r);
          expect(queued()).toBeLessThanOrEqual(cap);
        }
        expect(takeAll(consumer)).toEqual(model);
        expect(consumer.isEmpty()).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
