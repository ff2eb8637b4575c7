/**
 * The Internet checksum (RFC 1071): the one's-complement sum of 16-bit big-endian
 * words, folded and complemented. Computed over an aggregate of slices, each of
 * which may start at an odd byte of the stream.
 *
 * Speed trick from RFC 1071 §2(B): the sum is byte-order independent up to a
 * final swap, so slices are summed as native little-endian 16-bit words and the
 * result is swapped once at the end.
 */

/** Running checksum state over a byte stream. */
export class InetChecksum {
  private sumLE = 0; // one's-complement sum of little-endian words, unfolded
  private odd = false; // the stream so far has an odd length

  /** Add `bytes` to the stream. */
  update(bytes: Uint8Array): this {
    return this.updateRange(bytes, 0, bytes.length);
  }

  /** Add `bytes[from, to)` to the stream: update(bytes.subarray(from, to)) without making the view. */
  updateRange(bytes: Uint8Array, from: number, to: number): this {
    const n = to - from;
    let partial = sumLittleEndian(bytes, from, n);
    // a slice that starts at an odd stream position has its words shifted by one byte
    if (this.odd) partial = swap16(fold(partial));
    this.sumLE += partial;
    if (n & 1) this.odd = !this.odd;
    return this;
  }

  /** Start again, on an empty stream. */
  reset(): this {
    this.sumLE = 0;
    this.odd = false;
    return this;
  }

  /** The checksum field value (complemented, big-endian value as a number). */
  digest(): number {
    return ~swap16(fold(this.sumLE)) & 0xffff;
  }
}

/** RFC 1071 checksum of the concatenation of `slices`. */
export function inetChecksum(...slices: Uint8Array[]): number {
  const c = new InetChecksum();
  for (const s of slices) c.update(s);
  return c.digest();
}

/**
 * Sum of the `n` bytes of `bytes` from `start` as little-endian 16-bit words, the
 * last byte padded with zero, folded to 16 bits (or the unfolded sum of a short
 * run). At an even offset the words are summed two at a time, as 32-bit words
 * (RFC 1071 §2(C)): a 32-bit word is w0 + w1 · 2^16, and 2^16 ≡ 1 modulo 0xffff,
 * so its fold is the fold of w0 + w1. A run of more than 32 MiB is summed in
 * pieces of that size.
 */
function sumLittleEndian(bytes: Uint8Array, start: number, n: number): number {
  const off = bytes.byteOffset + start;
  let sum = 0;
  let i = 0;
  if ((off & 1) === 0) {
    // one 16-bit word first when the run starts at 2 mod 4, so the rest is 4-aligned
    if ((off & 2) !== 0 && n >= 2) {
      sum = bytes[start] | (bytes[start + 1] << 8);
      i = 2;
    }
    let words = (n - i) >>> 2;
    const w = wordsOf(bytes, off + n);
    let at = (off + i) >>> 2;
    while (words > 0) {
      const piece = Math.min(words, PIECE_WORDS);
      sum += sum32(w, at, at + piece);
      at += piece;
      i += piece * 4;
      words -= piece;
    }
    for (; i + 1 < n; i += 2) sum += bytes[start + i] | (bytes[start + i + 1] << 8);
  } else {
    const even = n & ~1;
    for (; i < even; i += 2) sum += bytes[start + i] | (bytes[start + i + 1] << 8);
  }
  if (n & 1) sum += bytes[start + n - 1];
  return sum;
}

/** 32-bit words in one piece: four accumulators of 2^21 words each, and 2^21 · (2^32 − 1) < 2^53, so each sum is exact. */
const PIECE_WORDS = 2 ** 23;

/**
 * The 32-bit words of the buffer behind `bytes`, as one view: kept for the view and
 * the buffer seen last, since a response's frames are runs of the same few views of
 * one buffer (a file's pool slots, a block cache) (a view made for each 1,460-byte
 * slice cost about 6% more per MiB here, and reading a view's `buffer` is a call).
 * It holds on to at most that one view.
 */
let lastView: Uint8Array | null = null;
let lastBuffer: ArrayBufferLike | null = null;
let lastWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
function wordsOf(bytes: Uint8Array, end: number): Uint32Array<ArrayBufferLike> {
  // the same view, and the words it needs (up to byte `end` of the buffer) in the view
  // of the words made for it (a view that tracks a growable buffer's length may need more)
  if (bytes === lastView && end >>> 2 <= lastWords.length) return lastWords;
  const buffer = bytes.buffer;
  lastView = bytes;
  if (buffer !== lastBuffer || lastWords.length !== buffer.byteLength >>> 2) {
    lastBuffer = buffer;
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return lastWords;
}

/** The folded sum of words `from` to `to` of `w`, in four accumulators (independent additions run side by side). */
function sum32(w: Uint32Array<ArrayBufferLike>, from: number, to: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let k = from;
  for (; k + 3 < to; k += 4) {
    a += w[k];
    b += w[k + 1];
    c += w[k + 2];
    d += w[k + 3];
  }
  for (; k < to; k++) a += w[k];
  return fold(a) + fold(b) + fold(c) + fold(d);
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}
