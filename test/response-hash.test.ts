/** The NIC's hash of a response: one CRC-32 over its parts, however its segments lie in memory; and frames read as runs of the body. */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseHash } from '../src/wire/link.js';
import { checksumFrames, cutFrames, type Frame } from '../src/servers/net.js';
import { inetChecksum } from '../src/servers/inet-checksum.js';

/** The definition: request id and status, then each segment of each frame, carried through one CRC. */
function reference(reqId: number, status: number, frames: Frame[]): number {
  let h = crc32(`${reqId} ${status}`);
  // an empty segment adds nothing (and zlib's crc32 of an empty view with no memory behind
  // it, as a subarray of an empty buffer, is its initial value, 0, not the CRC carried in)
  for (const f of frames) for (const s of f.segments) if (s.length > 0) h = crc32(s, h);
  return h;
}

const frame = (...segments: Uint8Array[]) => ({ segments }) as unknown as Frame;

describe('responseHash', () => {
  const a = new Uint8Array(new SharedArrayBuffer(64)).map((_, i) => i * 3);
  const b = new Uint8Array(64).map((_, i) => 255 - i);

  it('segments end to end in one buffer, across frames, hash as the segments one by one do', () => {
    const frames = [frame(a.subarray(0, 10), a.subarray(10, 30)), frame(a.subarray(30, 64))];
    expect(responseHash(7, 200, frames)).toBe(reference(7, 200, frames));
    expect(responseHash(7, 200, frames)).toBe(crc32(a, crc32('7 200')));
  });

  it('a run over many pages of its buffer, starting and ending inside a page, hashes as one call over it does', () => {
    // hashed a page at a time: each piece must carry the CRC on, end where its page ends, and lose no byte
    const big = new Uint8Array(new SharedArrayBuffer(5 * 4096 + 300)).map((_, i) => (i * 7 + (i >> 9)) & 255);
    for (const [from, to] of [[100, 5 * 4096 + 250], [4096, 3 * 4096], [4095, 4097], [0, 4096], [1, 2]]) {
      const run = big.subarray(from, to);
      const frames = cutFrames([run], 1460);
      expect(responseHash(9, 200, frames), `${from}..${to}`).toBe(crc32(run, crc32('9 200')));
    }
  });

  it('a gap, a segment out of order, another buffer and empty segments break a run where they are', () => {
    const frames = [frame(a.subarray(0, 8), a.subarray(9, 20)), frame(a.subarray(4, 12), b.subarray(12, 20)), frame(a.subarray(20, 20), b.subarray(20, 30), a.subarray(30, 40))];
    expect(responseHash(1, 404, frames)).toBe(reference(1, 404, frames));
  });

  it('property: any frames cut from two buffers hash as the reference does', () => {
    const seg = fc.record({ which: fc.boolean(), start: fc.nat({ max: 64 }), len: fc.nat({ max: 64 }) }).map(({ which, start, len }) => {
      const buf = which ? a : b;
      return buf.subarray(start, Math.min(64, start + len));
    });
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 100, max: 599 }), fc.array(fc.array(seg, { maxLength: 5 }), { maxLength: 6 }), (id, status, parts) => {
        const frames = parts.map((p) => frame(...p));
        expect(responseHash(id, status, frames)).toBe(reference(id, status, frames));
      }),
    );
  });
});

describe('frames cut from a body (net.cutFrames): read as runs of its slices, the same checksums and hash as their segments', () => {
  const buf = new Uint8Array(new SharedArrayBuffer(8192)).map((_, i) => (i * 7 + 1) & 255);
  const other = new Uint8Array(4096).map((_, i) => (i * 11 + 5) & 255);
  /** A body: slices of the shared buffer (often end to end, as a file's pool blocks lie), of another buffer, and empty ones. */
  const body = fc.array(fc.record({ shared: fc.boolean(), at: fc.nat({ max: 4096 }), len: fc.nat({ max: 3000 }) }), { maxLength: 6 }).map((parts) => {
    let next = 0;
    return parts.map(({ shared, at, len }) => {
      if (!shared) return other.subarray(at, Math.min(4096, at + len));
      // end to end with the slice before it when `at` is small
      const start = at < 1024 ? next : at;
      const s = buf.subarray(start, Math.min(8192, start + len));
      next = start + s.length;
      return s;
    });
  });

  it('property: any body and mss', () => {
    fc.assert(
      fc.property(body, fc.integer({ min: 1, max: 2000 }), fc.nat(), (slices, mss, id) => {
        const frames = cutFrames(slices, mss);
        // the definition, made without net's code: the body's bytes in order, cut every mss bytes
        const all = Buffer.concat(slices);
        const chunks = Array.from({ length: Math.max(1, Math.ceil(all.length / mss)) }, (_, i) => all.subarray(i * mss, (i + 1) * mss));
        const plain = chunks.map((c) => ({ checksum: null, segments: [c], length: c.length }) as Frame);
        expect(frames.map((f) => f.length)).toEqual(plain.map((f) => f.length));
        expect(frames.map((f) => Buffer.concat(f.segments))).toEqual(chunks);
        checksumFrames(frames, false);
        checksumFrames(plain, false);
        expect(frames.map((f) => f.checksum)).toEqual(chunks.map((c) => inetChecksum(c)));
        expect(plain.map((f) => f.checksum)).toEqual(chunks.map((c) => inetChecksum(c)));
        expect(responseHash(id, 200, frames)).toBe(reference(id, 200, plain));
      }),
    );
  });
});
