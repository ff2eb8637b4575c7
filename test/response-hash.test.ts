/** The NIC's hash of a response: one CRC-32 over its parts, however its segments lie in memory. */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseHash } from '../src/wire/link.js';
import type { Frame } from '../src/servers/net.js';

/** The definition: request id and status, then each segment of each frame, carried through one CRC. */
function reference(reqId: number, status: number, frames: Frame[]): number {
  let h = crc32(`${reqId} ${status}`);
  for (const f of frames) for (const s of f.segments) h = crc32(s, h);
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
