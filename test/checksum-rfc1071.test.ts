/**
 * RFC 1071 Internet checksum (src/servers/inet-checksum.ts): published examples,
 * the verification property, odd lengths and odd offsets, and a property test
 * against a plain byte-pair reference over arbitrary slicings of a buffer.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InetChecksum, inetChecksum } from '../src/servers/inet-checksum.js';

/** The textbook definition: big-endian byte pairs, end-around carry, complement. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

/** `bytes` copied into a fresh buffer at byteOffset `offset`. */
function viewAt(bytes: ArrayLike<number>, offset: number): Uint8Array {
  const buf = new Uint8Array(offset + bytes.length + 3).fill(0xaa); // garbage around the view
  buf.set(bytes, offset);
  return buf.subarray(offset, offset + bytes.length);
}

const RFC1071_EXAMPLE = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
// 20-byte IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199), checksum field zeroed
const IPV4_HEADER = [
  0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00,
  0xc7,
];

describe('inetChecksum: published examples', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 -> 0x220d', () => {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0 -> ddf0 + 2 = ddf2 -> ~ = 220d
    expect(inetChecksum(Uint8Array.from(RFC1071_EXAMPLE))).toBe(0x220d);
  });

  it('IPv4 header example -> 0xb861', () => {
    // 4500+0073+0000+4000+4011+0000+c0a8+0001+c0a8+00c7 = 2479c -> 479e -> ~ = b861
    expect(inetChecksum(Uint8Array.from(IPV4_HEADER))).toBe(0xb861);
  });

  it('the IPv4 header with its checksum filled in verifies to 0', () => {
    const h = Uint8Array.from(IPV4_HEADER);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(inetChecksum(h)).toBe(0);
  });

  it('the empty stream and all-zero data give 0xffff', () => {
    expect(inetChecksum()).toBe(0xffff);
    expect(inetChecksum(new Uint8Array(0))).toBe(0xffff);
    expect(inetChecksum(new Uint8Array(10))).toBe(0xffff);
  });

  it('carries fold end-around: ff ff ff ff 00 02 -> 0xfffd', () => {
    // ffff + ffff + 0002 = 20000 -> 0000 + 2 = 0002 -> ~ = fffd
    expect(inetChecksum(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x02]))).toBe(0xfffd);
  });
});

describe('inetChecksum: verification property', () => {
  it('appending the checksum big-endian to an even-length buffer gives 0 (examples)', () => {
    for (const data of [RFC1071_EXAMPLE, IPV4_HEADER, [0, 0], [0xff, 0xff, 0x12, 0x34]]) {
      const c = inetChecksum(Uint8Array.from(data));
      expect(inetChecksum(Uint8Array.from([...data, c >>> 8, c & 0xff]))).toBe(0);
    }
  });

  it('appending the checksum big-endian to an even-length buffer gives 0 (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (raw) => {
        const data = raw.length & 1 ? raw.subarray(1) : raw;
        const c = inetChecksum(data);
        const withSum = new Uint8Array(data.length + 2);
        withSum.set(data);
        withSum[data.length] = c >>> 8;
        withSum[data.length + 1] = c & 0xff;
        expect(inetChecksum(withSum)).toBe(0);
      }),
    );
  });
});

describe('inetChecksum: odd lengths and odd offsets', () => {
  it('an odd-length buffer is padded with a zero byte at the end', () => {
    // 0102 + 0300 = 0402 -> ~ = fbfd
    expect(inetChecksum(Uint8Array.from([0x01, 0x02, 0x03]))).toBe(0xfbfd);
    // a single byte is the high byte of its word: 0xab00 -> ~ = 54ff
    expect(inetChecksum(Uint8Array.from([0xab]))).toBe(0x54ff);
  });

  it('a view at an odd byteOffset gives the same checksum as an aligned copy', () => {
    for (const offset of [1, 3, 5]) {
      expect(inetChecksum(viewAt(RFC1071_EXAMPLE, offset))).toBe(0x220d);
      expect(inetChecksum(viewAt(IPV4_HEADER, offset))).toBe(0xb861);
      expect(inetChecksum(viewAt([0x01, 0x02, 0x03], offset))).toBe(0xfbfd);
    }
  });

  it('a view over a SharedArrayBuffer, at even and odd offsets', () => {
    const sab = new SharedArrayBuffer(16);
    const all = new Uint8Array(sab);
    all.set(RFC1071_EXAMPLE, 1);
    expect(inetChecksum(new Uint8Array(sab, 1, 8))).toBe(0x220d);
    all.set(RFC1071_EXAMPLE, 8);
    expect(inetChecksum(new Uint8Array(sab, 8, 8))).toBe(0x220d);
  });

  it('slices that start at odd stream positions: 00 01 f2 | 03 | f4 f5 f6 f7', () => {
    const [a, b, c] = [Uint8Array.from([0x00, 0x01, 0xf2]), Uint8Array.from([0x03]), viewAt([0xf4, 0xf5, 0xf6, 0xf7], 1)];
    expect(inetChecksum(a, b, c)).toBe(0x220d);
    expect(new InetChecksum().update(a).update(b).update(c).digest()).toBe(0x220d);
  });

  it('empty slices anywhere do not change the checksum or the stream parity', () => {
    const e = new Uint8Array(0);
    const odd = Uint8Array.from([0x00]);
    const rest = Uint8Array.from([0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(inetChecksum(e, odd, e, e, rest, e)).toBe(0x220d);
  });
});

describe('inetChecksum: any slicing of a buffer equals the whole (property)', () => {
  it('matches the reference implementation for arbitrary cuts and offsets', () => {
    const arb = fc
      .uint8Array({ minLength: 0, maxLength: 2048 })
      .chain((bytes) =>
        fc.record({
          bytes: fc.constant(bytes),
          cuts: fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }),
          lead: fc.integer({ min: 0, max: 7 }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ bytes, cuts, lead }) => {
        // all slices are views of one buffer that begins `lead` bytes early, so their
        // byteOffsets are a mix of odd and even, and their lengths too
        const whole = viewAt(bytes, lead);
        const points = [0, ...[...cuts].sort((x, y) => x - y), bytes.length];
        const slices = points.slice(1).map((end, i) => whole.subarray(points[i], end));
        const expected = referenceChecksum(bytes);
        expect(inetChecksum(whole)).toBe(expected);
        expect(inetChecksum(...slices)).toBe(expected);
        const running = new InetChecksum();
        for (const s of slices) running.update(s);
        expect(running.digest()).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('long runs of 0xff (many carries) agree with the reference', () => {
    for (const n of [1, 2, 3, 65537, 131074, 200001]) {
      const bytes = new Uint8Array(n).fill(0xff);
      expect(inetChecksum(bytes)).toBe(referenceChecksum(bytes));
      expect(inetChecksum(bytes.subarray(0, 1), bytes.subarray(1))).toBe(referenceChecksum(bytes));
    }
  });
});

describe('one checksum object over many streams, and slices of many buffers in turn', () => {
  it('reset() starts an empty stream: the same checksums as fresh objects, odd lengths and offsets included', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }), { maxLength: 6 }), (streams) => {
        const c = new InetChecksum();
        for (const slices of streams) {
          c.reset();
          for (const s of slices) c.update(s);
          expect(c.digest()).toBe(inetChecksum(...slices));
        }
      }),
    );
  });

  it('slices of two buffers, taken in turn (the view kept for the buffer seen last is not reused for another), and of a buffer that grew', () => {
    const a = new Uint8Array(new SharedArrayBuffer(4096)).map((_, i) => (i * 13 + 7) & 255);
    const b = new Uint8Array(4096).map((_, i) => (i * 29 + 3) & 255);
    fc.assert(
      fc.property(fc.array(fc.record({ first: fc.boolean(), at: fc.nat({ max: 4096 }), len: fc.nat({ max: 600 }) }), { maxLength: 20 }), (cuts) => {
        for (const { first, at, len } of cuts) {
          const s = (first ? a : b).subarray(at, Math.min(4096, at + len));
          expect(inetChecksum(s)).toBe(referenceChecksum(s));
        }
      }),
    );
    const grows = new SharedArrayBuffer(64, { maxByteLength: 4096 });
    const small = new Uint8Array(grows).fill(1);
    expect(inetChecksum(small)).toBe(referenceChecksum(small));
    grows.grow(4096);
    const big = new Uint8Array(grows).fill(2);
    expect(inetChecksum(big)).toBe(referenceChecksum(big));
    // the view seen first tracks the buffer's length: the same view, longer now
    expect(inetChecksum(small)).toBe(inetChecksum(big));
    const tracks = new SharedArrayBuffer(64, { maxByteLength: 4096 });
    const view = new Uint8Array(tracks).fill(3);
    expect(inetChecksum(view)).toBe(referenceChecksum(view));
    tracks.grow(4096);
    view.fill(3);
    expect(view.length).toBe(4096);
    expect(inetChecksum(view)).toBe(referenceChecksum(view));
  });

  it('updateRange(bytes, from, to) is update(bytes.subarray(from, to)), run after run of the same views, odd offsets included', () => {
    const a = new Uint8Array(new SharedArrayBuffer(4096)).map((_, i) => (i * 13 + 7) & 255).subarray(3, 4001);
    const b = new Uint8Array(4096).map((_, i) => (i * 29 + 3) & 255);
    const run = fc.record({ first: fc.boolean(), from: fc.nat({ max: 3998 }), len: fc.nat({ max: 1600 }) });
    fc.assert(
      fc.property(fc.array(fc.array(run, { maxLength: 5 }), { maxLength: 8 }), (streams) => {
        const ranged = new InetChecksum();
        for (const runs of streams) {
          ranged.reset();
          const viewed = new InetChecksum();
          for (const { first, from, len } of runs) {
            const s = first ? a : b;
            const to = Math.min(s.length, from + len);
            ranged.updateRange(s, Math.min(from, to), to);
            viewed.update(s.subarray(Math.min(from, to), to));
          }
          expect(ranged.digest()).toBe(viewed.digest());
        }
      }),
    );
  });
});
