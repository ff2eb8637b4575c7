/**
 * The rings' binary frames (src/microkernel/frame-codec.ts), in-process: what
 * is written is read back equal (property-tested over plain data with byte
 * views anywhere), encodedSize is exactly the bytes written and
 * encodedSizeBound at least that, the payload bytes
 * counted are those of the byte views in a body's array fields (a call's
 * message, or an ok reply's value) and no others, and what cannot be sent is
 * refused before anything is written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodedSize, encodedSizeBound, FRAME_OVERFLOW, FrameReader, FrameWriter } from '../src/microkernel/frame-codec.js';

function over(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { w: new FrameWriter(bytes, view, buf), r: new FrameReader(bytes, view, buf) };
}

/** Encode `frame` at `at` of a buffer with guard bytes around it; returns what was read back and the counts. */
function roundTrip(frame: unknown, at = 3) {
  const size = encodedSize(frame);
  // a ring reserves the bound, and keeps what the writer says it wrote
  expect(encodedSizeBound(frame)).toBeGreaterThanOrEqual(size);
  const bytes = new Uint8Array(at + size + 8).fill(0xee);
  const { w, r } = over(bytes);
  expect(w.write(frame, at)).toBe(size);
  // exactly `size` bytes were written: the guards either side are untouched
  expect([...bytes.subarray(0, at)].every((b) => b === 0xee)).toBe(true);
  expect([...bytes.subarray(at + size)].every((b) => b === 0xee)).toBe(true);
  const back = r.read(at);
  return { back, size, written: w.payloadBytes, read: r.payloadBytes };
}

const u8 = (...xs: number[]) => new Uint8Array(xs);

describe('frames as the Endpoint sends them', () => {
  it('a call with a payload: read back equal, and its slices counted when written and when read', () => {
    const frame = { k: 0, i: 7, m: { type: 'DISK_WRITE', ino: 3, offset: 4096, data: [u8(1, 2, 3), u8(4, 5)] } };
    const { back, written, read } = roundTrip(frame);
    expect(back).toEqual(frame);
    expect((back as typeof frame).m.data[0]).toBeInstanceOf(Uint8Array);
    expect(written).toBe(5);
    expect(read).toBe(5);
  });

  it('an ok reply: its value is the body, so its slices are payload; descriptors are plain data', () => {
    const frame = { k: 1, i: 9, r: { ok: true, value: { data: [u8(9, 9, 9, 9), { pool: 0, slot: 12, offset: 0, length: 4096, slots: 2 }], length: 4100 } } };
    const { back, written, read } = roundTrip(frame);
    expect(back).toEqual(frame);
    expect(written).toBe(4);
    expect(read).toBe(4);
  });

  it('an error reply, a send, a notification and a traced call carry no payload', () => {
    for (const frame of [
      { k: 1, i: 2, r: { ok: false, errno: 'ENOENT', detail: 'no such file: /a/ü/b' } },
      { k: 2, m: { type: 'NET_CLOSE' } },
      { k: 3, e: 'tick' },
      { k: 0, i: 1, m: { type: 'DISK_LOOKUP', path: '/file_set/dir00001/class1_2' }, t: [17, 99] },
    ]) {
      const { back, written, read } = roundTrip(frame);
      expect(back).toEqual(frame);
      expect([written, read]).toEqual([0, 0]);
    }
  });

  it('byte views outside a body array field are carried but are not payload', () => {
    const frame = { k: 0, i: 1, m: { type: 'X', blob: u8(1, 2), nested: { data: [u8(3)] } }, extra: [u8(4, 5, 6)] };
    const { back, written, read } = roundTrip(frame);
    expect(back).toEqual(frame);
    expect([written, read]).toEqual([0, 0]);
  });

  it('a message only wins over a reply value as the body, as `m ?? r.value`', () => {
    const frame = { k: 1, i: 1, m: null, r: { ok: true, value: { data: [u8(1, 2, 3)] } } };
    expect(roundTrip(frame).written).toBe(3);
    const both = { k: 1, i: 1, m: { data: [u8(1)] }, r: { ok: true, value: { data: [u8(1, 2, 3)] } } };
    expect(roundTrip(both)).toMatchObject({ written: 1, read: 1 });
  });
});

describe('what JSON would lose is kept, and what cannot be sent is refused', () => {
  it('lone surrogates, NaN, ±Infinity, −0, large and fractional numbers, undefined in arrays, unknown and non-ASCII keys', () => {
    const frame = { lone: 'a\uD800b', pair: '😀', a: NaN, b: Infinity, c: -Infinity, d: -0, e: 2 ** 40 + 1, f: 0.1, g: [undefined, null, true, false], 'ключ': 'значение', ['x'.repeat(300)]: 1 };
    const { back } = roundTrip(frame);
    expect(back).toEqual(frame);
    expect(Object.is((back as { d: number }).d, -0)).toBe(true);
  });

  it('a field named __proto__ comes back as an own field, as JSON.parse and the structured clone make it, not as a prototype', () => {
    for (const frame of [JSON.parse('{"__proto__":null}'), JSON.parse('{"k":0,"i":1,"m":{"type":"X","__proto__":{"a":1}}}'), JSON.parse('{"k":1,"i":2,"r":{"ok":true,"__proto__":5,"value":{"__proto__":[1]}}}')]) {
      const { back } = roundTrip(frame);
      expect(back).toStrictEqual(structuredClone(frame));
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
    const { back } = roundTrip(JSON.parse('{"__proto__":null}'));
    expect(Object.hasOwn(back as object, '__proto__')).toBe(true);
  });

  it('functions and symbols in objects are dropped, as JSON drops them', () => {
    expect(roundTrip({ k: 3, e: 'x', f: () => 1, s: Symbol('s') }).back).toEqual({ k: 3, e: 'x' });
  });

  it('a BigInt, a cycle and a key over 65535 bytes are refused by encodedSize (a TypeError: nothing is written)', () => {
    expect(() => encodedSize({ k: 0, n: 1n })).toThrow(TypeError);
    const cyc: Record<string, unknown> = { k: 0 };
    cyc.self = cyc;
    expect(() => encodedSize(cyc)).toThrow(/deeper than/);
    expect(() => encodedSize({ ['k'.repeat(70_000)]: 1 })).toThrow(/field name of 70000 bytes/);
  });

  it('an unknown tag or key id is a TypeError on read, not a wrong value', () => {
    const { r } = over(u8(200));
    expect(() => r.read(0)).toThrow(/unknown tag 200/);
    const { r: r2 } = over(u8(9, 1, 0, 0, 0, 250, 0));
    expect(() => r2.read(0)).toThrow(/unknown key 250/);
  });
});

describe('property: any plain frame round-trips, and its size is exact', () => {
  const leaf = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 64 }),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('v'), { maxKeys: 5 })),
  })).v;

  it('read(write(v)) equals v, for frames with a body and without', () => {
    fc.assert(
      fc.property(value, fc.nat(7), fc.boolean(), (v, at, asBody) => {
        const frame = asBody ? { k: 0, i: 1, m: { type: 'T', data: [u8(1)], v } } : v;
        const { back } = roundTrip(frame, at);
        expect(back).toEqual(frame);
      }),
      { numRuns: 300 },
    );
  });

  it('with an end: a frame within its bound is written exactly as without one; one byte short of its size, FRAME_OVERFLOW and no byte at or past the end', () => {
    fc.assert(
      fc.property(value, fc.nat(7), fc.boolean(), (v, at, asBody) => {
        const frame = asBody ? { k: 1, i: 2, r: { ok: true, value: { data: [u8(1, 2)], v } } } : v;
        const size = encodedSize(frame);
        const bound = encodedSizeBound(frame);
        const free = new Uint8Array(at + bound + 8).fill(0xee);
        const bounded = new Uint8Array(at + bound + 8).fill(0xee);
        expect(over(free).w.write(frame, at)).toBe(size);
        // the writer checks its room as the bound counts (three bytes a UTF-16 unit), so the bound always fits
        expect(over(bounded).w.write(frame, at, at + bound)).toBe(size);
        expect(bounded).toEqual(free);
        const short = new Uint8Array(at + bound + 8).fill(0xee);
        expect(() => over(short).w.write(frame, at, at + size - 1)).toThrow();
        try {
          over(new Uint8Array(at + bound + 8)).w.write(frame, at, at + size - 1);
        } catch (e) {
          expect(e).toBe(FRAME_OVERFLOW);
        }
        expect([...short.subarray(at + size - 1)].every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('with an end, a cycle or a BigInt is still a TypeError (not an overflow, not a stack overflow)', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const big = new Uint8Array(1 << 16);
    expect(() => over(big).w.write(cyclic, 0, big.length)).toThrow(/nests deeper than 64 levels/);
    expect(() => over(big).w.write({ k: 0, i: 1, m: { type: 'T', n: 1n } }, 0, big.length)).toThrow(TypeError);
  });
});
