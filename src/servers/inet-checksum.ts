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
    let partial = sumLittleEndian(bytes);
    // a slice that starts at an odd stream position has its words shifted by one byte
    if (this.odd) partial = swap16(fold(partial));
    this.sumLE += partial;
    if (bytes.length & 1) this.odd = !this.odd;
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

/** Sum of `bytes` as little-endian 16-bit words, the last byte padded with zero. */
function sumLittleEndian(bytes: Uint8Array): number {
  const n = bytes.length;
  const even = n & ~1;
  let sum = 0;
  if ((bytes.byteOffset & 1) === 0) {
    const words = new Uint16Array(bytes.buffer, bytes.byteOffset, even >>> 1);
    for (let i = 0; i < words.length; i++) sum += words[i];
  } else {
    for (let i = 0; i < even; i += 2) sum += bytes[i] | (bytes[i + 1] << 8);
  }
  if (n & 1) sum += bytes[n - 1];
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}
