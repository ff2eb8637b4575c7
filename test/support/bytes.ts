/** Byte helpers shared by the tests. */

/** `n` bytes counting up from `start`, on a buffer of their own. */
export function bytes(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
}

/** The slices one after another, in one new array. */
export function concat(slices: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(slices.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of slices) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}
